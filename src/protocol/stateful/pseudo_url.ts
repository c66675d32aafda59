/**
 * The websocket pseudo-url that counter-bound messages are signed over
 * (docs/protocol/websocket.md#pseudo-urls).
 *
 * @module
 */

/**
 * `websocket:<standard padded base64 of the connection nonce>:<counter in
 * lower-case hex>`, the counter formatted like Python's `format(n, "x")`
 * (`-1`, `a`, `-10`). The connection nonce is SHA-256(subscriber nonce ‖
 * broadcaster nonce); the reference documents base64url but sends standard
 * base64, which is what signatures are checked against.
 *
 * @throws {RangeError} when `counter` is not a safe integer
 */
export function pseudoUrl(connectionNonce: Uint8Array, counter: number): string {
  if (!Number.isSafeInteger(counter)) {
    throw new RangeError(`Invalid websocket counter: ${counter}`);
  }
  return `websocket:${base64(connectionNonce)}:${counter.toString(16)}`;
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}
