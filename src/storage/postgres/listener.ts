/**
 * The wake-ups of the glob cache: a connection of its own LISTENing on the
 * store's channel, and a periodic check that also re-LISTENs after that
 * connection was lost (a server restart drops it, and any notification sent
 * meanwhile). Both only call `wake`; what a wake-up does is the store's.
 *
 * @module
 */

import { connect, type DriverOptions, type Sql } from "./driver.ts";

/** What woke the cache: a notification, or the periodic check. */
export type WakeReason = "notify" | "check";

/** A LISTENing connection plus a timer; {@link close} ends both. */
export class GlobListener {
  #sql: Sql | null = null;
  #listening = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  readonly #channel: string;
  readonly #wake: (why: WakeReason) => void;
  readonly #timeoutMs: number;

  private constructor(channel: string, wake: (why: WakeReason) => void, timeoutMs: number) {
    this.#channel = channel;
    this.#wake = wake;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Listens on `channel` and checks every `intervalMs`; `wake` is called on
   * each notification and each check (after a re-LISTEN when one was needed).
   */
  static async start(
    driver: Omit<DriverOptions, "max" | "onnotify" | "onclose" | "keepOpen">,
    channel: string,
    intervalMs: number,
    wake: (why: WakeReason) => void,
  ): Promise<GlobListener> {
    const l = new GlobListener(channel, wake, driver.statementTimeoutMs);
    l.#sql = await connect({
      ...driver,
      max: 1,
      keepOpen: true,
      onnotify: (c) => {
        if (c === channel) wake("notify");
      },
      onclose: () => {
        l.#listening = false;
      },
    });
    await l.#listen();
    l.#timer = setInterval(() => l.#tick(), intervalMs);
    return l;
  }

  /** Whether the LISTEN is in place (false after the connection was lost, until the next check). */
  get listening(): boolean {
    return this.#listening;
  }

  async #listen(): Promise<boolean> {
    const sql = this.#sql;
    if (sql === null || this.#closed) return false;
    const q = sql.unsafe(`LISTEN "${this.#channel.replaceAll('"', '""')}"`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((r) => timer = setTimeout(() => r(false), this.#timeoutMs));
    try {
      const ok = await Promise.race([q.then(() => true), timeout]);
      if (ok) this.#listening = true;
      return ok;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
      q.catch(() => {});
    }
  }

  async #tick(): Promise<void> {
    if (!this.#listening) await this.#listen();
    if (!this.#closed) this.#wake("check");
  }

  /** Stops the timer and closes the connection. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#sql?.end({ timeout: 1 });
  }
}
