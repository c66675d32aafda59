/**
 * Keep-alive connections per origin (scheme, host, port), a cap on how many
 * are open at once across all origins, and idle expiry. A connection is in
 * exactly one of: connecting, busy (one request), idle (pooled), gone.
 *
 * @module
 */

import type { ByteSocket, Connector, SocketEvents } from "./socket.ts";
import type { Target } from "./request.ts";

/** Tunables of a {@link ConnectionPool}. */
export interface PoolOptions {
  /** Opens connections. */
  readonly connector: Connector;
  /** Most connections open at once (all origins together); more requests wait. */
  readonly maxConnections: number;
  /**
   * Idle connections older than this are closed, ms. Below the 5 s after
   * which common servers (uvicorn, Node) drop idle connections, so we rarely
   * reuse one that is being closed under us.
   */
  readonly idleTimeoutMs: number;
}

/** One pooled connection; the pool's owner sets `handler` while a request runs. */
export class Connection implements SocketEvents {
  /** Origin it belongs to. */
  readonly origin: string;
  /** The socket (set once connected). */
  socket!: ByteSocket;
  /** Receives the socket's events while a request runs. */
  handler: SocketEvents | null = null;
  /** The socket has ended (peer close, error, or ours). */
  ended = false;
  /** When it last went idle, `performance.now()` ms. */
  idleSince = 0;
  /** Counted against the pool's cap until retired. */
  counted = true;
  readonly #pool: ConnectionPool;
  readonly #ended: PromiseWithResolvers<void> = Promise.withResolvers();

  constructor(origin: string, pool: ConnectionPool) {
    this.origin = origin;
    this.#pool = pool;
  }

  /** Resolves once the socket has ended. */
  get closed(): Promise<void> {
    return this.#ended.promise;
  }

  data(chunk: Uint8Array): void {
    if (this.handler !== null) this.handler.data(chunk);
    // Bytes on an idle connection (a 408 before closing, say): unusable now.
    else this.socket.close();
  }

  end(error: Error | null): void {
    if (this.ended) return;
    this.ended = true;
    this.#pool.forget(this);
    this.handler?.end(error);
    this.#ended.resolve();
  }
}

/** A request waiting for room under the cap. */
interface Waiter {
  readonly wake: () => void;
}

/** Thrown by {@link ConnectionPool.acquire} once the pool is closed. */
export class PoolClosedError extends Error {
  constructor() {
    super("Aborted");
    this.name = "PoolClosedError";
  }
}

/** Connections to any number of origins. */
export class ConnectionPool {
  readonly #opts: PoolOptions;
  /** Idle connections per origin, most recently used last. */
  readonly #idle = new Map<string, Connection[]>();
  readonly #all = new Set<Connection>();
  readonly #waiters: Waiter[] = [];
  #open = 0;
  #max: number;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(opts: PoolOptions) {
    this.#opts = opts;
    this.#max = opts.maxConnections;
  }

  /** Lowers the cap (never raises it): the strictest holder's limit wins. */
  limitConnections(max: number): void {
    if (Number.isFinite(max) && max >= 1) this.#max = Math.min(this.#max, Math.floor(max));
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Connections open now (connecting, busy or idle). */
  get size(): number {
    return this.#open;
  }

  /**
   * An idle connection to `target`'s origin (`reused`; unless `fresh`), or a
   * new one once the cap allows. `cancel` receives a function that abandons the wait or
   * the connect; it is called with null once that is no longer possible.
   *
   * @throws {ConnectError} when connecting fails; {@link PoolClosedError} after close
   */
  async acquire(
    target: Target,
    fresh: boolean,
    cancel: (abandon: ((why: Error) => void) | null) => void,
  ): Promise<{ conn: Connection; reused: boolean }> {
    for (;;) {
      if (this.#closed) throw new PoolClosedError();
      const idle = fresh ? null : this.takeIdle(target);
      if (idle !== null) return { conn: idle, reused: true };
      if (this.#open >= this.#max) this.#closeOldestIdle();
      if (this.#open < this.#max) {
        return { conn: await this.#connect(target, cancel), reused: false };
      }
      await this.#waitForRoom(cancel);
    }
  }

  /**
   * An idle connection to `target`'s origin, taken at once (the usual case under load: no
   * await, see {@link acquire}); null when there is none or the pool is closed.
   */
  takeIdle(target: Target): Connection | null {
    if (this.#closed) return null;
    const stack = this.#idle.get(target.origin);
    while (stack !== undefined && stack.length > 0) {
      const conn = stack.pop()!;
      if (!conn.ended) return conn;
    }
    return null;
  }

  /** Hands a connection back: pooled when `reusable`, else closed. */
  release(conn: Connection, reusable: boolean): void {
    conn.handler = null;
    if (!reusable || conn.ended || this.#closed) {
      conn.socket.close();
      return;
    }
    conn.idleSince = performance.now();
    let stack = this.#idle.get(conn.origin);
    if (stack === undefined) this.#idle.set(conn.origin, stack = []);
    stack.push(conn);
    this.#wakeOne();
    this.#idleTimer ??= setTimeout(() => this.#expireIdle(), this.#opts.idleTimeoutMs / 2);
  }

  /** Called by a connection whose socket ended. */
  forget(conn: Connection): void {
    this.#all.delete(conn);
    this.#retire(conn);
  }

  /** Frees a connection's place under the cap (once). */
  #retire(conn: Connection): void {
    if (!conn.counted) return;
    conn.counted = false;
    this.#open--;
    this.#wakeOne();
  }

  /** Closes every connection (requests in flight fail) and refuses new ones. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    const all = [...this.#all];
    for (const conn of all) conn.socket.close();
    this.#idle.clear();
    for (const w of this.#waiters.splice(0)) w.wake();
    await Promise.all(all.map((c) => c.closed));
  }

  async #connect(
    target: Target,
    cancel: (abandon: ((why: Error) => void) | null) => void,
  ): Promise<Connection> {
    this.#open++;
    const conn = new Connection(target.origin, this);
    const controller = new AbortController();
    cancel((why) => controller.abort(why));
    try {
      conn.socket = await this.#opts.connector(target, conn, controller.signal);
    } catch (error) {
      conn.counted = false;
      this.#open--;
      this.#wakeOne();
      throw error;
    } finally {
      cancel(null);
    }
    if (this.#closed) {
      conn.socket.close();
      throw new PoolClosedError();
    }
    this.#all.add(conn);
    return conn;
  }

  #waitForRoom(cancel: (abandon: ((why: Error) => void) | null) => void): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const waiter: Waiter = { wake: resolve };
    this.#waiters.push(waiter);
    cancel((why) => {
      const i = this.#waiters.indexOf(waiter);
      if (i >= 0) this.#waiters.splice(i, 1);
      reject(why);
    });
    return promise.finally(() => cancel(null));
  }

  #wakeOne(): void {
    this.#waiters.shift()?.wake();
  }

  /** Makes room under the cap by closing the least recently used idle connection. */
  #closeOldestIdle(): void {
    let oldest: Connection | null = null;
    for (const stack of this.#idle.values()) {
      for (const c of stack) {
        if (!c.ended && (oldest === null || c.idleSince < oldest.idleSince)) oldest = c;
      }
    }
    if (oldest === null) return;
    const stack = this.#idle.get(oldest.origin)!;
    stack.splice(stack.indexOf(oldest), 1);
    // Retire now (not when the close completes) so the caller can connect.
    this.#retire(oldest);
    oldest.socket.close();
  }

  #expireIdle(): void {
    this.#idleTimer = undefined;
    const limit = performance.now() - this.#opts.idleTimeoutMs;
    let left = 0;
    for (const [origin, stack] of this.#idle) {
      const keep = stack.filter((c) => !c.ended && c.idleSince > limit);
      for (const c of stack) if (!c.ended && c.idleSince <= limit) c.socket.close();
      if (keep.length === 0) this.#idle.delete(origin);
      else this.#idle.set(origin, keep);
      left += keep.length;
    }
    if (left > 0) {
      this.#idleTimer = setTimeout(() => this.#expireIdle(), this.#opts.idleTimeoutMs / 2);
    }
  }
}
