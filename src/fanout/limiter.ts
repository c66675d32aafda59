/**
 * Bounded concurrency without a queue: `limit` workers walk one shared index
 * over the items, so memory stays proportional to `limit`, not to the list.
 *
 * @module
 */

/**
 * Calls `fn` for every item with at most `limit` calls in flight. `fn` should
 * not throw; if it does, the remaining items still run and the first error is
 * rethrown at the end.
 *
 * @example
 * ```ts
 * import { forEachConcurrent } from "./limiter.ts";
 * await forEachConcurrent([1, 2, 3], 2, async (n) => console.log(n));
 * ```
 */
export function forEachConcurrent<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  // The common small cases without workers or an async layer (a notify to 0 or 1 subscriber).
  if (items.length === 0) return DONE;
  if (items.length === 1) {
    try {
      return fn(items[0]!, 0);
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return withWorkers(items, limit, fn);
}

const DONE = Promise.resolve();

async function withWorkers<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      try {
        await fn(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  }
  const workers = Math.max(1, Math.min(Math.floor(limit) || 1, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
}
