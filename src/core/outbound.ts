/**
 * How outgoing requests reach a callback url when the SSRF guard is on: the
 * guard's verdict on the resolved address and, where the runtime can, a
 * fetch pinned to that address (so a second DNS answer cannot differ).
 *
 * @module
 */

/** A fetch whose connections all go to one checked address. */
export interface PinnedFetch {
  /** Like `fetch`, for urls whose host resolved to the pinned address. */
  fetch(url: URL, init: RequestInit): Promise<Response>;
  /** Releases its connections (after the response body is read). */
  close(): void;
}

/** Makes a {@link PinnedFetch} to `address:port` (a runtime adapter's job). */
export type PinFactory = (address: string, port: number) => PinnedFetch;

/** The guard's verdict for one request. */
export type OutboundRoute =
  | {
    readonly ok: true;
    /** The fetch to use; absent where the runtime cannot pin (plain fetch after the check). */
    readonly pinned?: PinnedFetch;
  }
  | { readonly ok: false; readonly reason: string };

/** Decides, per request, whether and how a callback url may be reached. */
export interface OutboundGuard {
  /** Resolves `url`'s host, checks the address, and says how to connect. Never throws. */
  route(url: URL): Promise<OutboundRoute>;
}
