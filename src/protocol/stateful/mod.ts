/**
 * The stateful (websocket) wire protocol: every message is one binary frame,
 * `u16 flags | u16 type | headers | body`, decoded by {@link parseS2B} /
 * {@link parseB2S} and encoded by {@link encodeS2B} / {@link encodeB2S}
 * (docs/protocol/websocket.md). Pure functions over bytes; parsers throw
 * only `ParseError` and return views into their input.
 *
 * @example Answer a SUBSCRIBE_EXACT
 * ```ts
 * import { encodeB2S, encodeS2B, parseS2B } from "./mod.ts";
 *
 * const topic = new TextEncoder().encode("demo/exact");
 * const frame = encodeS2B({ type: "subscribe_exact", authorization: null, tracing: new Uint8Array(0), topic });
 * const msg = parseS2B(frame);
 * if (msg.type === "subscribe_exact") {
 *   const reply = encodeB2S({
 *     type: "confirm_subscribe_exact",
 *     topic: msg.topic,
 *     authorization: null,
 *     tracing: new Uint8Array(0),
 *   });
 *   console.log(reply.length); // 20
 * }
 * ```
 *
 * @module
 */

export { MINIMAL_HEADERS } from "./frame.ts";
export * from "./types.ts";
export { encodeS2B, parseS2B } from "./s2b.ts";
export { encodeB2S, encodeReceiveStreamHead, parseB2S } from "./b2s.ts";
export { pseudoUrl } from "./pseudo_url.ts";
