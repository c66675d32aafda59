/**
 * The wire protocols: byte helpers, message types, and the codec of every
 * stateless (HTTP) request and response body. The stateful (websocket) frames
 * have their own way in, `./stateful/mod.ts`, so that a broadcaster no
 * websocket has reached does not load them (bench/README.md, "Idle memory").
 *
 * Parsers return views into their input where safe; copy the bytes to keep
 * them beyond the input's lifetime.
 *
 * @module
 */

export * from "./bytes.ts";
export * from "./subscription_set.ts";
export * from "./types.ts";
export * from "./subscribe.ts";
export * from "./generic.ts";
export * from "./check.ts";
export * from "./set.ts";
export * from "./etag.ts";
export * from "./notify.ts";
export * from "./receive.ts";
export * from "./missed.ts";
export * from "./tracing.ts";
export * from "./callback_url.ts";
