/**
 * The flag `./defer.ts` sets and `./sha512.ts` reads when it loads: a global
 * (under a registered symbol), because it must be set before `sha512.ts` is
 * evaluated, by a module the entry point imports first.
 *
 * @module
 */

const KEY = Symbol.for("lonelypss.deferNativeSha512");

/** Asks `sha512.ts` to choose its backend on the first hash (before it loads). */
export function deferNative(): void {
  (globalThis as Record<symbol, unknown>)[KEY] = true;
}

/** Whether {@link deferNative} was called. */
export function nativeDeferred(): boolean {
  return (globalThis as Record<symbol, unknown>)[KEY] === true;
}
