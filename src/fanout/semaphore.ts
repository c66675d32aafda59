/**
 * A counting semaphore: the process-wide cap on outgoing connections that
 * every RECEIVE and MISSED takes a slot from, whichever notify or sweep sends
 * it (per-notify concurrency alone let 100 notifies to 20 hanging subscribers
 * open 2,000 sockets). Waiters are served in arrival order.
 *
 * @module
 */

import type { Slots } from "../core/context.ts";

/** What a waiter is handed: the release function, or null when its signal aborted. */
type Grant = (release: (() => void) | null) => void;

/**
 * At most `capacity` slots held at once; {@link Semaphore.acquire} waits for
 * one in FIFO order.
 *
 * @example
 * ```ts
 * import { Semaphore } from "./semaphore.ts";
 * const slots = new Semaphore(2);
 * const release = await slots.acquire();
 * console.log(slots.inUse); // 1
 * release?.();
 * ```
 */
export class Semaphore implements Slots {
  /** Slots in all. */
  readonly capacity: number;
  #inUse = 0;
  readonly #waiters: Grant[] = [];

  /** A semaphore with `capacity` slots (an integer ≥ 1). */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Invalid semaphore capacity: ${capacity}`);
    }
    this.capacity = capacity;
  }

  /** Slots held now. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Resolves with a function that releases the slot (call it once; later
   * calls do nothing), or null if `signal` aborts before a slot is free.
   */
  acquire(signal?: AbortSignal): Promise<(() => void) | null> {
    if (signal?.aborted) return Promise.resolve(null);
    const now = this.tryAcquire();
    if (now !== null) return Promise.resolve(now);
    return new Promise((resolve) => {
      const grant: Grant = (release) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(release);
      };
      const onAbort = () => {
        const at = this.#waiters.indexOf(grant);
        if (at >= 0) this.#waiters.splice(at, 1);
        grant(null);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(grant);
    });
  }

  /** A slot now (its release function) when one is free and nobody waits; else null. */
  tryAcquire(): (() => void) | null {
    if (this.#inUse >= this.capacity) return null;
    this.#inUse++;
    return this.#releaser();
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      // The slot passes straight to the next waiter; inUse stays the same.
      if (next === undefined) this.#inUse--;
      else next(this.#releaser());
    };
  }
}

/**
 * Runs `fn` holding one of `slots`, released however `fn` ends; `aborted`
 * without running `fn` when `signal` aborts while waiting for a slot.
 */
export function holding<T>(
  slots: Slots,
  signal: AbortSignal | undefined,
  aborted: T,
  fn: () => Promise<T>,
): Promise<T> {
  // A free slot (the usual case) is taken without waiting, and without an async layer.
  const now = signal?.aborted ? null : slots.tryAcquire?.() ?? null;
  if (now === null) return holdingLater(slots, signal, aborted, fn);
  let running: Promise<T>;
  try {
    running = fn();
  } catch (error) {
    now();
    return Promise.reject(error);
  }
  return running.finally(now);
}

async function holdingLater<T>(
  slots: Slots,
  signal: AbortSignal | undefined,
  aborted: T,
  fn: () => Promise<T>,
): Promise<T> {
  const release = await slots.acquire(signal);
  if (release === null) return aborted;
  try {
    return await fn();
  } finally {
    release();
  }
}
