/**
 * The outgoing rate rule: while a request body is written, each stretch of
 * `windowMs` must bring `minBytesPerSecond` on average (or the rest of the
 * body). A subscriber that reads slowly but steadily passes however long the
 * message takes; one that stops reading is cut one window after its socket
 * buffers filled. The same rate sizes the total limit: see
 * {@link sizeAllowanceMs}.
 *
 * Progress is what the socket took. Once its send buffer is full, Linux wakes
 * a writer only when a good part of it has drained, so a steady reader
 * shows up in steps (~1.7 MiB measured with a 4 MiB buffer): a window must be
 * long enough, at the minimum rate, to span a step.
 *
 * @module
 */

/** Extra total time, ms, a body of `bytes` earns at `minBytesPerSecond` (0 when the rate is off). */
export function sizeAllowanceMs(bytes: number, minBytesPerSecond: number): number {
  return positive(minBytesPerSecond) && bytes > 0 ? bytes / minBytesPerSecond * 1000 : 0;
}

/** Upload progress of one attempt, checked once per window. */
export class WriteProgress {
  readonly #windowMs: number;
  readonly #perWindow: number;
  #total = -1;
  #written = 0;
  #windowStartBytes = 0;
  /** Writing (between start and done). */
  #active = false;
  /** Nested waits for the body's source in progress. */
  #waits = 0;
  /** End of the current window (`performance.now()` ms); Infinity when not writing. */
  deadline: number = Infinity;

  /** Off (never a deadline) unless both numbers are positive and finite. */
  constructor(windowMs: number, minBytesPerSecond: number) {
    const on = positive(windowMs) && positive(minBytesPerSecond);
    this.#windowMs = on ? windowMs : Infinity;
    this.#perWindow = on ? Math.max(1, Math.floor(minBytesPerSecond * windowMs / 1000)) : 0;
  }

  /** Bytes written so far in this attempt. */
  get written(): number {
    return this.#written;
  }

  /** An attempt starts writing `total` bytes (-1: unknown). */
  start(now: number, total: number): void {
    this.#total = total;
    this.#written = 0;
    this.#windowStartBytes = 0;
    this.#active = true;
    this.#waits = 0;
    this.deadline = now + this.#windowMs;
  }

  /**
   * The writer waits for its source (`on`), or has bytes again: no window runs while it waits
   * (a message delivered while it arrives comes at the notifier's pace, not the peer's), and a
   * fresh one starts when it resumes.
   */
  waiting(on: boolean, now: number): void {
    if (!this.#active) return;
    if (on) {
      this.#waits++;
      this.deadline = Infinity;
      return;
    }
    if (this.#waits === 0 || --this.#waits > 0) return;
    this.#windowStartBytes = this.#written;
    this.deadline = now + this.#windowMs;
  }

  /** `n` more bytes were taken by the socket. */
  wrote(n: number): void {
    this.#written += n;
  }

  /** Writing is over (all sent, stopped or failed): no more deadlines. */
  done(): void {
    this.#active = false;
    this.deadline = Infinity;
  }

  /**
   * At the window's end: true when it brought enough (the next window
   * starts), false when the upload is too slow.
   */
  check(now: number): boolean {
    const rest = this.#total < 0 ? Infinity : this.#total - this.#windowStartBytes;
    if (this.#written - this.#windowStartBytes < Math.min(this.#perWindow, rest)) return false;
    this.#windowStartBytes = this.#written;
    this.deadline = now + this.#windowMs;
    return true;
  }
}

function positive(n: number): boolean {
  return Number.isFinite(n) && n > 0;
}
