/**
 * One timer for every request in flight: each request keeps its next
 * deadline as a number, and the timer is armed for the earliest one. Moving
 * a deadline later (a read-idle limit reset per chunk) costs an assignment,
 * not a timer.
 *
 * @module
 */

/** Something with a deadline (`performance.now()` ms). */
export interface Expiring {
  /** The next deadline; Infinity for none. */
  readonly deadline: number;
  /** Called once the deadline has passed (it may set a new one). */
  expire(now: number): void;
}

/** The set of deadlines and the one timer. */
export class Deadlines {
  readonly #active = new Set<Expiring>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedFor = Infinity;
  /** After {@link stop}: the timer stops with the last item again. */
  #stopping = false;

  /** Adds `item`, or notes that its deadline changed. */
  set(item: Expiring): void {
    this.#active.add(item);
    if (item.deadline < this.#armedFor) this.#arm(item.deadline);
  }

  /**
   * Forgets `item`. The timer stays armed when the last one goes: under load the set empties
   * and fills again all the time, and a timer set and cleared costs about 3 µs (Deno's timers
   * are Node's). It then fires once, finds nothing, and is not armed again; {@link stop} ends it
   * at once.
   */
  remove(item: Expiring): void {
    if (!this.#active.delete(item) || this.#active.size > 0 || !this.#stopping) return;
    this.stop();
  }

  /** Clears the timer, and from now on clears it whenever the last item goes (closing). */
  stop(): void {
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Infinity;
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#armedFor = at;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, Math.ceil(at - performance.now())));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const now = performance.now();
    for (const item of [...this.#active]) {
      if (item.deadline <= now) item.expire(now);
    }
    let next = Infinity;
    for (const item of this.#active) next = Math.min(next, item.deadline);
    if (next < Infinity) this.#arm(next);
  }
}
