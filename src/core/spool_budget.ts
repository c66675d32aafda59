/**
 * The spool quota: bytes of spool files in use by one broadcaster, reserved
 * by a message's announced length before its first byte is written, so a
 * notify that cannot fit is refused up front (507) instead of filling the disk.
 *
 * @module
 */

/** Reserves and releases spool bytes against a quota. */
export class SpoolBudget {
  #inUse = 0;
  /** Most bytes in use at once (Infinity: no quota). */
  readonly quota: number;

  /** A budget of `quota` bytes. */
  constructor(quota: number) {
    this.quota = quota;
  }

  /** Bytes reserved by spool files now. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Takes `bytes` if they fit under the quota; false (nothing taken) otherwise. */
  reserve(bytes: number): boolean {
    if (this.#inUse + bytes > this.quota) return false;
    this.#inUse += bytes;
    return true;
  }

  /** Gives back what {@link reserve} took. */
  release(bytes: number): void {
    this.#inUse = Math.max(0, this.#inUse - bytes);
  }
}
