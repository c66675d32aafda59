/**
 * Helpers for the client suites: matching auth for a broadcaster and its
 * clients in every none/token/hmac combination.
 *
 * @module
 */

import {
  type AuthConfig,
  type AuthStrategy,
  generateHmacSecret,
  hmacAuth,
  memoryReplayStore,
  noneAuth,
  tokenAuth,
} from "../src/auth/mod.ts";

/** One direction's strategy kind. */
export type Kind = "none" | "token" | "hmac";

/** Every (to-broadcaster, to-subscriber) combination. */
export const AUTH_COMBOS: readonly [Kind, Kind][] = (["none", "token", "hmac"] as const).flatMap(
  (b) => (["none", "token", "hmac"] as const).map((s) => [b, s] as [Kind, Kind]),
);

function side(kind: Kind, secret: { token: string; hmac: Uint8Array }): () => AuthStrategy {
  switch (kind) {
    case "none":
      return () => noneAuth();
    case "token":
      return () => tokenAuth(secret.token);
    case "hmac":
      return () => hmacAuth({ secret: secret.hmac, replay: memoryReplayStore() });
  }
}

/** Auth for a broadcaster and a factory for its clients (each with its own replay stores). */
export function authPair(toBroadcaster: Kind, toSubscriber: Kind): {
  broadcaster: AuthConfig;
  client: () => AuthConfig;
} {
  const secret = () => ({
    token: crypto.randomUUID(),
    hmac: generateHmacSecret(),
  });
  const b = side(toBroadcaster, secret());
  const s = side(toSubscriber, secret());
  return {
    broadcaster: { toBroadcaster: b(), toSubscriber: s() },
    client: () => ({ toBroadcaster: b(), toSubscriber: s() }),
  };
}

/** The next message of an iterator, or a failure after `ms` (the timer is always cleared). */
export async function nextWithin<T>(it: AsyncIterator<T>, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const r = await Promise.race([
      it.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`No message within ${ms} ms`)), ms);
      }),
    ]);
    if (r.done) throw new Error("Iteration ended");
    return r.value;
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves when `listener`-style events have produced `want` (in order), collecting them. */
export function statusRecorder(
  onStatus: (l: (s: string) => void) => () => void,
): { seen: string[]; waitFor(seq: string[], ms?: number): Promise<void>; stop(): void } {
  const seen: string[] = [];
  const waiters = new Set<() => void>();
  const stop = onStatus((s) => {
    seen.push(s);
    for (const w of [...waiters]) w();
  });
  const contains = (seq: string[]) => {
    let i = 0;
    for (const s of seen) if (s === seq[i]) i++;
    return i >= seq.length;
  };
  return {
    seen,
    stop,
    async waitFor(seq, ms = 30_000) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          const check = () => {
            if (contains(seq)) {
              waiters.delete(check);
              resolve();
            }
          };
          waiters.add(check);
          timer = setTimeout(() => {
            waiters.delete(check);
            reject(
              new Error(`Statuses ${JSON.stringify(seen)} never contained ${JSON.stringify(seq)}`),
            );
          }, ms);
          check();
        });
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
