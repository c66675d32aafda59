/**
 * The PostgreSQL driver (`npm:postgres`, porsager/postgres), loaded on first
 * use so that SQLite and rqlite users load nothing of it, behind the few
 * structural types the store needs.
 *
 * @module
 */

/** One result row. */
export type Row = Record<string, unknown>;

/** The rows of a statement, with the number of rows it affected. */
export type Rows = Row[] & { readonly count: number };

/** A statement on its way: a promise of its rows that can be cancelled. */
export interface PendingQuery extends Promise<Rows> {
  /** Asks the server to cancel the statement. */
  cancel(): unknown;
}

/** A pool of connections, or the one connection of a transaction. */
export interface Sql {
  /** Runs `query` with `$n` parameters (prepared once per connection). */
  unsafe(query: string, params?: unknown[], opts?: { prepare?: boolean }): PendingQuery;
  /** Runs `fn` in a transaction (committed when it resolves, rolled back when it throws). */
  begin<T>(fn: (tx: Sql) => Promise<T> | T): Promise<T>;
  /** Closes every connection, waiting up to `timeout` seconds for queries in flight. */
  end(opts?: { timeout?: number }): Promise<void>;
}

/** TLS settings in the driver's terms (node:tls options, or a mode). */
export type DriverSsl = false | "prefer" | "require" | Record<string, unknown>;

/** What {@link connect} needs. */
export interface DriverOptions {
  /** Connection string (its TLS parameters already taken out). */
  readonly url: string;
  /** TLS. */
  readonly ssl: DriverSsl;
  /** Connections in the pool. */
  readonly max: number;
  /** How long a connection attempt may take, seconds. */
  readonly connectTimeoutS: number;
  /** Server-side bound of every statement, ms (`statement_timeout`). */
  readonly statementTimeoutMs: number;
  /** Called with each notification of a LISTENed channel. */
  readonly onnotify?: (channel: string, payload: string) => void;
  /** Called when a connection closes. */
  readonly onclose?: () => void;
  /**
   * Keep connections open however long they are idle and however old they
   * are (a LISTENing connection: closing it would drop the LISTEN). Default:
   * idle ones close after a minute, and each is replaced after 30–60 minutes.
   */
  readonly keepOpen?: boolean;
}

type Factory = (url: string, options: Record<string, unknown>) => Sql;
let factory: Promise<Factory> | null = null;

/** Loads the driver (once) and opens a pool; no connection is made until the first query. */
export async function connect(opts: DriverOptions): Promise<Sql> {
  factory ??= import("postgres").then((m) => m.default as unknown as Factory);
  const postgres = await factory;
  return postgres(opts.url, {
    ssl: opts.ssl,
    max: opts.max,
    connect_timeout: opts.connectTimeoutS,
    idle_timeout: opts.keepOpen === true ? null : 60,
    ...(opts.keepOpen === true ? { max_lifetime: null } : {}),
    // The driver's own backoff grows to 20 s while the server is down, and a
    // pool waiting it out stays unavailable long after the server is back:
    // ours doubles from 50 ms to at most one second.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
    // Notices (e.g. "relation already exists, skipping") are not ours to print.
    onnotice: () => {},
    ...(opts.onnotify === undefined ? {} : { onnotify: opts.onnotify }),
    ...(opts.onclose === undefined ? {} : { onclose: opts.onclose }),
    connection: {
      application_name: "lonelypss",
      statement_timeout: opts.statementTimeoutMs,
    },
  });
}
