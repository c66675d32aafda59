/**
 * Timers for the passes an idle broadcaster runs in the background (the
 * missed-message sweeper, subscription housekeeping, the statistics flush,
 * the relay reconcile, the replay store's clean-up), built on
 * `AbortSignal.timeout` instead of `setTimeout`: on Deno the global timers
 * are Node's, and the first `setTimeout` or `setInterval` of a process loads
 * part of the Node compatibility layer (about 3 MiB resident), while
 * `AbortSignal.timeout` is the runtime's own timer (bench/README.md, "Idle
 * memory"). Timers on the request path stay `setTimeout`: traffic loads that
 * layer anyway.
 *
 * Like an unref'd timer, these do not keep the process alive. A cancelled one
 * drops its callback at once; the runtime's timer itself (holding nothing of
 * ours) stays until it is due, as `AbortSignal.timeout` cannot be cleared.
 *
 * @module
 */

// AbortSignal.timeout takes an unsigned long long; beyond setTimeout's range means "never" here.
const MAX_MS = 2 ** 31 - 1;

/** Calls `fire` once after `ms`; the returned function cancels it. */
export function backgroundTimeout(ms: number, fire: () => void): () => void {
  const delay = Math.min(Math.max(0, Math.ceil(ms)), MAX_MS);
  const signal = AbortSignal.timeout(Number.isFinite(delay) ? delay : MAX_MS);
  const onAbort = () => fire();
  signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}

/** Calls `fire` every `ms`, until the returned function is called. */
export function backgroundInterval(ms: number, fire: () => void): () => void {
  let cancel: () => void = () => {};
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    cancel = backgroundTimeout(ms, tick);
    fire();
  };
  cancel = backgroundTimeout(ms, tick);
  return () => {
    stopped = true;
    cancel();
  };
}
