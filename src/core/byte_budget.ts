/**
 * A count of request-body bytes held in memory across all requests, so that
 * many concurrent bodies cannot add up to more than the broadcaster allows.
 *
 * @module
 */

/**
 * Bytes reserved against a fixed maximum. Synchronous: a reservation either
 * fits now or is refused (the caller answers 503 or spools to disk instead).
 *
 * @example
 * ```ts
 * import { ByteBudget } from "./byte_budget.ts";
 * const budget = new ByteBudget(100);
 * console.log(budget.tryReserve(60), budget.tryReserve(60)); // true false
 * budget.release(60);
 * ```
 */
export class ByteBudget {
  /** The most bytes held at once. */
  readonly max: number;
  #used = 0;

  /** A budget of `max` bytes. */
  constructor(max: number) {
    this.max = max;
  }

  /** Bytes currently reserved. */
  get used(): number {
    return this.#used;
  }

  /**
   * Reserves `bytes` if, afterwards, at least `keepFree` bytes stay
   * unreserved; true when reserved (release it exactly once).
   */
  tryReserve(bytes: number, keepFree = 0): boolean {
    if (this.#used + bytes + keepFree > this.max) return false;
    this.#used += bytes;
    return true;
  }

  /** Returns bytes reserved earlier. */
  release(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
  }
}
