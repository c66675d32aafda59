/**
 * Deferred closing for things others still use: the backend (used by its
 * dictionaries and streams, so a finalizer never calls into an unloaded
 * library) and each dictionary (used by the streams that started with it).
 *
 * @module
 */

import { closed } from "./errors.ts";

/** A use count with a close that waits for the last user. */
export class Lifetime {
  readonly #what: string;
  readonly #onLast: () => void;
  #users = 0;
  #closing = false;

  /** `what` names it in the "closed" error; `onLast` frees it. */
  constructor(what: string, onLast: () => void) {
    this.#what = what;
    this.#onLast = onLast;
  }

  /** Whether {@link Lifetime.close} was called. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Throws a `"closed"` {@link ZstdError} once closing. */
  checkOpen(): void {
    if (this.#closing) throw closed(this.#what);
  }

  /** One more user; throws once closing. */
  enter(): void {
    this.checkOpen();
    this.#users++;
  }

  /** One user fewer; the last one after a close runs `onLast`. */
  leave(): void {
    if (--this.#users === 0 && this.#closing) this.#onLast();
  }

  /** Runs `onLast` now, or when the last user leaves. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#users === 0) this.#onLast();
  }
}
