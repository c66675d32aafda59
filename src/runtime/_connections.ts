/**
 * Bookkeeping for an adapter that accepts its own connections (Deno): a cap
 * on connections open at once, a sweep that closes connections which never
 * send a complete request (header timeout) or sit idle after one (keep-alive
 * timeout), and throttled logging with back-off for accept errors such as
 * EMFILE. Runtime-free: the adapter reports events, the table decides.
 *
 * @module
 */

import { type Logger, ThrottledLog } from "../log.ts";

/** What the table enforces. */
export interface ConnectionPolicy {
  /** Connections open at once, websockets included. */
  readonly max: number;
  /** A new connection must start its first request within this, ms. */
  readonly headersTimeoutMs: number;
  /** After a response, the next request must start within this, ms. */
  readonly keepAliveTimeoutMs: number;
}

/** How the adapter closes one of its connections. */
export interface ConnectionHooks {
  /** Drop it now, whatever is in flight. */
  close(): void;
  /** Read no further request; close once what was sent has been delivered. */
  finish(): void;
}

/** One connection as the table sees it; the adapter reports its events. */
export class TrackedConnection {
  readonly #table: ConnectionTable;
  readonly #hooks: ConnectionHooks;
  #requests = 0;
  #served = false;
  #upgraded = false;
  #closing = false;
  #gone = false;
  /** While idle: the table's tick at which the connection has waited too long. */
  #deadlineTick = 0;

  /** @internal Made by {@link ConnectionTable.add}. */
  constructor(table: ConnectionTable, hooks: ConnectionHooks) {
    this.#table = table;
    this.#hooks = hooks;
  }

  /** Being closed (or gone): the adapter should drop whatever it still opens for it. */
  get closing(): boolean {
    return this.#closing || this.#gone;
  }

  /** Upgraded to a websocket. */
  get websocket(): boolean {
    return this.#upgraded;
  }

  /** No request in flight and not a websocket: may be closed to make room. */
  get idle(): boolean {
    return this.#requests === 0 && !this.#upgraded && !this.#closing && !this.#gone;
  }

  /** A request's headers arrived: the connection is busy until it ends. */
  requestStarted(): void {
    this.#requests++;
    this.#table._busy(this);
  }

  /** A response was sent (or failed): the connection waits for the next request. */
  requestEnded(): void {
    if (this.#requests === 0) return;
    this.#served = true;
    if (--this.#requests === 0 && !this.#upgraded && !this.#closing && !this.#gone) {
      this.#table._idle(this);
    }
  }

  /** The connection became a websocket: no HTTP timeouts apply any more. */
  upgraded(): void {
    this.#upgraded = true;
    this.#requests = 0;
    this.#table._busy(this);
  }

  /**
   * The connection is gone and its descriptors are released (the adapter
   * must report this for every connection, however it ended). Idempotent.
   */
  closed(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#table._remove(this);
  }

  /**
   * Starts closing the connection. It still counts against the cap until the
   * adapter reports {@link TrackedConnection.closed}.
   */
  close(): void {
    if (this.#startClosing()) this.#hooks.close();
  }

  /**
   * Closes the connection once the response just sent has reached the
   * client: no further request is read (used after `connection: close`, and
   * when shutting down).
   */
  finish(): void {
    if (this.#startClosing()) this.#hooks.finish();
  }

  /** False when already closing or gone; else no longer idle nor timed. */
  #startClosing(): boolean {
    if (this.#gone || this.#closing) return false;
    this.#closing = true;
    this.#table._busy(this);
    return true;
  }

  /**
   * @internal Sets the header or keep-alive deadline (the table calls it on
   * idle), in the table's ticks of `periodMs`: at least the timeout, at most
   * two ticks more.
   */
  _arm(policy: ConnectionPolicy, tick: number, periodMs: number): void {
    const ms = this.#served ? policy.keepAliveTimeoutMs : policy.headersTimeoutMs;
    this.#deadlineTick = tick + Math.ceil(ms / periodMs) + 1;
  }

  /** @internal True once idle past its deadline (see {@link TrackedConnection._arm}). */
  _expired(tick: number): boolean {
    return tick >= this.#deadlineTick;
  }
}

/** The connections an adapter has open. */
export class ConnectionTable {
  readonly #policy: ConnectionPolicy;
  readonly #all = new Set<TrackedConnection>();
  /** Idle connections, oldest first (re-added when they become idle again). */
  readonly #idle = new Set<TrackedConnection>();
  #roomWaiters: (() => void)[] = [];
  #draining = false;
  /**
   * The timeouts are enforced by one sweep every `#periodMs` (an eighth of
   * the shorter timeout, 5 ms to 1 s) while some connection is idle, not by a
   * timer per connection: arming and clearing a timer per request cost the
   * Deno front about 2 µs a request. It runs from the first connection until
   * none is open.
   */
  readonly #periodMs: number;
  #tick = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  /** A table enforcing `policy`. */
  constructor(policy: ConnectionPolicy) {
    this.#policy = policy;
    const shorter = Math.min(policy.headersTimeoutMs, policy.keepAliveTimeoutMs);
    this.#periodMs = Math.min(1_000, Math.max(5, Math.floor(shorter / 8)));
  }

  /** Connections open. */
  get size(): number {
    return this.#all.size;
  }

  /** Starts tracking a new connection (its header timeout runs from now). */
  add(hooks: ConnectionHooks): TrackedConnection {
    const conn = new TrackedConnection(this, hooks);
    this.#all.add(conn);
    this._idle(conn);
    return conn;
  }

  /**
   * True when one more connection fits now. Otherwise false, having started
   * to close the oldest idle connection if there is one: wait for
   * {@link ConnectionTable.waitForRoom} then.
   */
  makeRoom(): boolean {
    if (this.#all.size < this.#policy.max) return true;
    this.closeOldestIdle();
    return false;
  }

  /** Closes the longest-idle connection; false when none is idle. */
  closeOldestIdle(): boolean {
    const oldest = this.#idle.values().next();
    if (oldest.done) return false;
    oldest.value.close();
    return true;
  }

  /** Resolves once there is room (at once if there is), or when `stop` settles. */
  waitForRoom(stop: Promise<void>): Promise<void> {
    if (this.#all.size < this.#policy.max) return Promise.resolve();
    const room = new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    return Promise.race([room, stop]);
  }

  /**
   * Shutdown: closes every idle connection now, and each busy one as soon as
   * its request ends. Websockets are left to their own close.
   */
  drain(): void {
    this.#draining = true;
    for (const conn of [...this.#idle]) conn.close();
  }

  /** Closes every connection but websockets (they finish their own close handshake). */
  closeHttp(): void {
    for (const conn of [...this.#all]) if (!conn.websocket) conn.close();
  }

  /** Closes every connection still open (websockets included) and stops the sweep. */
  closeAll(): void {
    for (const conn of [...this.#all]) conn.close();
    this.#stopSweep();
    this.#wakeRoomWaiters();
  }

  /** @internal */
  _idle(conn: TrackedConnection): void {
    if (this.#draining) {
      conn.finish();
      return;
    }
    this.#idle.delete(conn);
    this.#idle.add(conn);
    conn._arm(this.#policy, this.#tick, this.#periodMs);
    this.#sweeper ??= setInterval(() => this.#sweep(), this.#periodMs);
  }

  /** Closes the idle connections past their deadline. */
  #sweep(): void {
    const tick = ++this.#tick;
    for (const conn of this.#idle) if (conn._expired(tick)) conn.close();
  }

  #stopSweep(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /** @internal */
  _busy(conn: TrackedConnection): void {
    this.#idle.delete(conn);
  }

  /** @internal */
  _remove(conn: TrackedConnection): void {
    this.#idle.delete(conn);
    if (this.#all.delete(conn)) this.#wakeRoomWaiters();
    // The sweep runs while connections are open (not only idle ones: that
    // would start and stop it with almost every request).
    if (this.#all.size === 0) this.#stopSweep();
  }

  #wakeRoomWaiters(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }
}

/**
 * What to do after `accept` (or anything else that needs a descriptor) fails
 * with EMFILE, ENFILE, ENOBUFS, …: wait a little longer each time in a row
 * (10 ms doubling to 1 s), and log at most one line per `logEveryMs`
 * (`ThrottledLog`: the next line says how many were held back).
 */
export class AcceptErrors {
  readonly #log: ThrottledLog;
  readonly #what: string;
  #delayMs = 0;

  /** Logs `what` failed through `log`, at most once per `logEveryMs`. */
  constructor(log: Logger, what = "Accepting connections", logEveryMs = 10_000) {
    this.#log = new ThrottledLog(log, logEveryMs);
    this.#what = what;
  }

  /** Records a failure; returns how long to wait before accepting again, ms. */
  failed(error: unknown): number {
    this.#delayMs = Math.min(Math.max(this.#delayMs * 2, 10), 1000);
    this.#log.warn(`${this.#what} failed; backing off, still serving`, {
      error: error instanceof Error ? error.message : String(error),
      retryInMs: this.#delayMs,
    });
    return this.#delayMs;
  }

  /** An accept succeeded: the next failure starts the back-off afresh. */
  succeeded(): void {
    this.#delayMs = 0;
  }
}
