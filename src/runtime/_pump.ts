/**
 * Copies bytes from one Deno connection to another, for the Deno adapter's
 * front (see `deno.ts`). An idle connection holds a small buffer; one moving
 * bulk data grows it, so a notify of a GiB crosses in large reads.
 *
 * @module
 */

const SMALL = 16 * 1024;
const LARGE = 256 * 1024;

/**
 * Copies `from` to `to` until `from` ends, then half-closes `to` (the peer
 * sees the end of the stream, the other direction stays open) and resolves
 * true. Resolves false, never rejects, when either side fails or is closed.
 */
export async function pump(from: Deno.Conn, to: Deno.Conn): Promise<boolean> {
  let buf = new Uint8Array(SMALL);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      let written = 0;
      while (written < n) written += await to.write(buf.subarray(written, n));
      if (n === buf.length && buf.length < LARGE) buf = new Uint8Array(LARGE);
    }
    await to.closeWrite();
    return true;
  } catch {
    // Closed by the other direction, by a timeout, or reset by the peer.
    return false;
  }
}
