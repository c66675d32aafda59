/**
 * A timer to race against: shutdown waits for work in flight only so long.
 *
 * @module
 */

/** Resolves after `ms`; `cancel()` clears the timer once the race is decided. */
export function deadline(ms: number): { promise: Promise<void>; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}
