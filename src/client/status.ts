/**
 * The connection status reported to `onStatus` listeners.
 *
 * @module
 */

/**
 * `"ok"`: deliveries flow. `"lost"`: messages may have been missed (a MISSED,
 * a dropped websocket, a subscription queue that overflowed); an `"ok"`
 * follows once deliveries flow again, so resynchronise on it. `"abandoned"`:
 * the client gave up (closed, or out of reconnect attempts); nothing follows.
 */
export type ClientStatus = "ok" | "lost" | "abandoned";

/** Listeners and the last status; a listener that throws is ignored. */
export class StatusEmitter {
  readonly #listeners = new Set<(s: ClientStatus) => void>();
  #current: ClientStatus;

  /** Starts at `initial`. */
  constructor(initial: ClientStatus) {
    this.#current = initial;
  }

  /** The last status reported. */
  get current(): ClientStatus {
    return this.#current;
  }

  /** Adds a listener; returns the function that removes it. */
  listen(listener: (s: ClientStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Reports `s` to every listener (even when it is the current one: each MISSED counts). */
  emit(s: ClientStatus): void {
    if (this.#current === "abandoned") return;
    this.#current = s;
    for (const l of [...this.#listeners]) {
      try {
        l(s);
      } catch {
        // A listener's failure is the application's; the client goes on.
      }
    }
  }

  /** Reports `"lost"` then `"ok"`: something was missed but the client is healthy again. */
  blip(): void {
    this.emit("lost");
    this.emit("ok");
  }
}
