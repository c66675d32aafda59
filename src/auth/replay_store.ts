/**
 * Replay protection for hmac authorizations (docs/protocol/auth.md#replay-store): every code
 * that verified is remembered until it can no longer be accepted, and a
 * second use inside that time is a replay.
 *
 * @module
 */

/** Outcome of recording one code. */
export type MarkResult = "fresh" | "replay" | "unavailable";

/** Remembers used hmac codes until they expire. */
export interface ReplayStore {
  /**
   * Records `code` (the 64 raw HMAC bytes) as used until `expiresAtSeconds`
   * (epoch seconds, inclusive). Answers `replay` if it was already recorded
   * and has not expired at `now`, `unavailable` if the store cannot decide.
   */
  markUsed(code: Uint8Array, expiresAtSeconds: number, now: number): Promise<MarkResult>;
  /** Releases the store (timers, connections). Idempotent. */
  close(): Promise<void>;
}

/**
 * How long a code must be remembered: until the end of its acceptance
 * window and at least twice the lifetime after first use.
 *
 * A code with timestamp `ts` is accepted while the verifier's clock is in
 * `[ts − lifetime, ts + lifetime]` (240 s for the default 120). Remembering it
 * until `ts + lifetime` (plus 1 s because `now` is fractional and expiry is
 * whole seconds) already closes that window; `now + 2 × lifetime + 1`
 * additionally covers a verifier whose clock stepped backwards by up to a
 * lifetime after the first use. The reference keeps codes 180 s from first
 * use, which leaves a replay gap when the signer's clock runs ahead.
 */
export function replayExpiry(timestamp: number, now: number, lifetimeSeconds: number): number {
  return Math.ceil(Math.max(timestamp + lifetimeSeconds, now + 2 * lifetimeSeconds)) + 1;
}

/** Options for {@link memoryReplayStore}. */
export interface MemoryReplayStoreOptions {
  /** Most codes held at once (default 500,000, roughly 60 MB when full). */
  readonly maxEntries?: number;
}

/**
 * An in-process store: a Map from code to expiry. Bounded: when full it first
 * drops expired codes; if every held code is still live it answers
 * `unavailable` (503) rather than forgetting one. Forgetting a live code
 * would let anyone able to fill the store (by sending many valid requests)
 * make a captured authorization replayable; refusing service for a moment is
 * the safe failure.
 */
export function memoryReplayStore(opts: MemoryReplayStoreOptions = {}): ReplayStore {
  const max = opts.maxEntries ?? 500_000;
  if (!Number.isInteger(max) || max < 1) {
    throw new RangeError(`Invalid maxEntries: ${max}, expected a positive integer`);
  }
  const codes = new Map<string, number>();
  // When full, the whole map is searched for codes expired out of order at
  // most once a second: searching it on every call would make a full store
  // cost O(entries) a request (a bench subscriber at 6,000 requests a second
  // slowed to half its rate that way).
  let nextFullScan = -Infinity;
  return {
    markUsed(code, expiresAtSeconds, now) {
      pruneHead(codes, now);
      const key = codeKey(code);
      const held = codes.get(key);
      if (held !== undefined && held >= now) return Promise.resolve("replay");
      if (held === undefined && codes.size >= max) {
        if (now >= nextFullScan) {
          nextFullScan = now + 1;
          for (const [k, exp] of codes) if (exp < now) codes.delete(k);
        }
        if (codes.size >= max) return Promise.resolve("unavailable");
      }
      // Delete first so re-inserted keys move to the end (insertion order ≈ expiry order).
      codes.delete(key);
      codes.set(key, expiresAtSeconds);
      return Promise.resolve("fresh");
    },
    close() {
      codes.clear();
      return Promise.resolve();
    },
  };
}

// Expiries are nearly monotonic in insertion order, so dropping expired
// entries from the front keeps the map small at amortised O(1) per call.
function pruneHead(codes: Map<string, number>, now: number): void {
  for (const [k, exp] of codes) {
    if (exp >= now) return;
    codes.delete(k);
  }
}

// One UTF-16 unit per byte: the most compact string key for a Map.
function codeKey(code: Uint8Array): string {
  return String.fromCharCode(...code);
}

/**
 * Lets several holders (the two directions' hmac strategies) share one
 * store: each {@link acquire} returns a handle whose `close` releases only
 * that handle; the underlying store closes when the last handle does.
 */
export function sharedReplayStore(store: ReplayStore): { acquire(): ReplayStore } {
  let holders = 0;
  let closed = false;
  return {
    acquire() {
      if (closed) throw new Error("Replay store already closed");
      holders++;
      let released = false;
      return {
        markUsed: (code, expiresAtSeconds, now) => store.markUsed(code, expiresAtSeconds, now),
        async close() {
          if (released) return;
          released = true;
          if (--holders === 0) {
            closed = true;
            await store.close();
          }
        },
      };
    },
  };
}
