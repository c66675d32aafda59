/**
 * rqlite's HTTP API over `fetch` (no client library): several node urls, any
 * live one answers (followers forward to the leader), a failed node is passed
 * over for a while and tried again later, every request is bounded by the
 * caller's deadline, and every failure is classified by whether a write may
 * have been applied (see `third_party/rqlite/FACTS.md` for what rqlite sends).
 *
 * @module
 */

import type { Logger } from "../../log.ts";
import { type Attempt, attemptOnce, type RawResult } from "./_http.ts";
import { encodeStatements, type Statement } from "./values.ts";

import type { ReadConsistency } from "./options.ts";
export { READ_CONSISTENCIES, type ReadConsistency } from "./options.ts";

/** A statement's result: rows (by column position) or a write's row count. */
export interface Result {
  /** Column names of a read (empty for a write). */
  readonly columns: readonly string[];
  /** Rows of a read (empty for a write). */
  readonly values: readonly (readonly unknown[])[];
  /** Rows changed by a write (0 for a read). */
  readonly rowsAffected: number;
  /** This statement's SQL error, only in answers of {@link RqliteClient.executeEach}. */
  readonly error?: string;
}

/**
 * Why a call failed. `unavailable`: nothing was applied (or it was a read);
 * `unknown`: a write may or may not have been applied (the connection broke
 * after sending, a timeout, leadership lost while committing).
 */
export interface Failure {
  readonly ok: false;
  readonly outcome: "unavailable" | "unknown";
  /** For logs; never sent to our callers. */
  readonly reason: string;
}

/** A call's answer. */
export type Answer = { readonly ok: true; readonly results: Result[] } | Failure;

/** Options of {@link RqliteClient}. */
export interface RqliteClientOptions {
  /** Node base urls, e.g. `http://127.0.0.1:4001`. */
  readonly urls: readonly string[];
  /** Basic auth user, if rqlite has authentication on. */
  readonly user?: string | undefined;
  /** Basic auth password. */
  readonly password?: string | undefined;
  /** Read consistency of queries. */
  readonly readConsistency: ReadConsistency;
  /** How long a node that failed is passed over, ms. */
  readonly nodeRetryMs: number;
  /** Where node failures are reported. */
  readonly log: Logger;
}

interface Node {
  readonly url: string;
  downUntil: number;
}

const MAX_BACKOFF_MS = 200;

/** A client of one rqlite cluster. */
export class RqliteClient {
  #nodes: Node[];
  #current = 0;
  #headers: Record<string, string>;
  #level: ReadConsistency;
  #nodeRetryMs: number;
  #log: Logger;
  #closed = new AbortController();

  /** A client; it sends nothing until called. */
  constructor(opts: RqliteClientOptions) {
    if (opts.urls.length === 0) throw new RangeError("Invalid option: no rqlite url given");
    this.#nodes = opts.urls.map((url) => ({ url: url.replace(/\/+$/, ""), downUntil: 0 }));
    this.#headers = { "content-type": "application/json" };
    if (opts.user !== undefined) {
      const pair = new TextEncoder().encode(`${opts.user}:${opts.password ?? ""}`);
      this.#headers.authorization = `Basic ${btoa(String.fromCharCode(...pair))}`;
    }
    this.#level = opts.readConsistency;
    this.#nodeRetryMs = opts.nodeRetryMs;
    this.#log = opts.log;
  }

  /** The node urls, as given (without trailing slashes). */
  get urls(): string[] {
    return this.#nodes.map((n) => n.url);
  }

  /** Reads at the configured consistency; any failure is retried until `deadline` (epoch ms). */
  query(statements: readonly Statement[], deadline: number): Promise<Answer> {
    return this.#call("/db/query", `level=${this.#level}`, statements, deadline, true);
  }

  /**
   * Reads (strictly at least `weak`, so the leader answers) where an answer
   * decides whether a write happened.
   */
  queryLeader(statements: readonly Statement[], deadline: number): Promise<Answer> {
    const level = this.#level === "none" ? "weak" : this.#level;
    return this.#call("/db/query", `level=${level}`, statements, deadline, true);
  }

  /**
   * Runs writes (and reads, with `/db/request`) in one transaction. Failures
   * that certainly applied nothing are retried until `deadline`; one that may
   * have applied is returned as `unknown` unless `idempotent`, when it is
   * retried too.
   */
  write(
    statements: readonly Statement[],
    deadline: number,
    opts: { readonly idempotent?: boolean; readonly withReads?: boolean } = {},
  ): Promise<Answer> {
    const path = opts.withReads ? "/db/request" : "/db/execute";
    const level = this.#level === "none" ? "weak" : this.#level;
    return this.#call(path, `transaction&level=${level}`, statements, deadline, !!opts.idempotent);
  }

  /**
   * Runs each write on its own (no transaction: one failing statement leaves
   * the others applied, its result carries the error), all in one request.
   * Like {@link write} without `idempotent`: a possibly applied request is `unknown`.
   */
  executeEach(statements: readonly Statement[], deadline: number): Promise<Answer> {
    const level = this.#level === "none" ? "weak" : this.#level;
    return this.#call("/db/execute", `level=${level}`, statements, deadline, false, true);
  }

  /** One request to one node, for start-up checks: its raw classification. */
  probe(url: string, timeoutMs: number): Promise<Attempt> {
    return attemptOnce({
      url: `${url.replace(/\/+$/, "")}/db/query?level=weak&timeout=${Math.ceil(timeoutMs)}ms`,
      headers: this.#headers,
      body: encodeStatements([["SELECT 1"]]),
      deadline: Date.now() + timeoutMs,
      signal: this.#closed.signal,
      transaction: false,
      each: false,
    });
  }

  /** Aborts every request in flight; later calls fail at once. Idempotent. */
  close(): void {
    this.#closed.abort();
  }

  async #call(
    path: string,
    params: string,
    statements: readonly Statement[],
    deadline: number,
    retryUnknown: boolean,
    each = false,
  ): Promise<Answer> {
    const body = encodeStatements(statements);
    const transaction = params.startsWith("transaction");
    let lastReason = "timed out before any request";
    let maybeApplied = false;
    for (let attempt = 0;; attempt++) {
      if (this.#closed.signal.aborted) return failure(maybeApplied, "the store is closed");
      const left = deadline - Date.now();
      if (left <= 0) return failure(maybeApplied, `timed out; last failure: ${lastReason}`);
      const node = this.#pick();
      const r = await attemptOnce({
        url: `${node.url}${path}?${params}&timeout=${Math.max(1, Math.ceil(left))}ms`,
        headers: this.#headers,
        body,
        deadline,
        signal: this.#closed.signal,
        transaction,
        each,
      });
      if (r.kind === "ok") {
        if (node.downUntil !== 0) {
          node.downUntil = 0;
          this.#log.info("rqlite node answers again", { node: node.url });
        }
        return { ok: true, results: r.results.map(toResult) };
      }
      lastReason = `${node.url}: ${r.reason}`;
      if (r.kind === "fatal") {
        this.#log.warn("rqlite refused a request", { node: node.url, reason: r.reason });
        return failure(false, lastReason);
      }
      if (r.applied === "maybe") {
        maybeApplied = true;
        if (!retryUnknown) return failure(true, lastReason);
      }
      if (r.nodeDown) this.#markDown(node, r.reason);
      else this.#current = (this.#current + 1) % this.#nodes.length;
      // Another live node is tried at once; a cluster-wide condition (an
      // election) gets a short, growing pause.
      if (!r.nodeDown || this.#allDown()) {
        await this.#sleep(Math.min(MAX_BACKOFF_MS, 20 * 2 ** Math.min(attempt, 4)), deadline);
      }
    }
  }

  #pick(): Node {
    const now = Date.now();
    const n = this.#nodes.length;
    for (let i = 0; i < n; i++) {
      const at = (this.#current + i) % n;
      if (this.#nodes[at]!.downUntil <= now) {
        this.#current = at;
        return this.#nodes[at]!;
      }
    }
    // Every node failed recently: the one passed over longest gets another try.
    return this.#nodes.reduce((a, b) => (b.downUntil < a.downUntil ? b : a));
  }

  #allDown(): boolean {
    const now = Date.now();
    return this.#nodes.every((n) => n.downUntil > now);
  }

  #markDown(node: Node, reason: string): void {
    if (node.downUntil === 0) this.#log.warn("rqlite node failed", { node: node.url, reason });
    node.downUntil = Date.now() + this.#nodeRetryMs;
    if (this.#nodes[this.#current] === node) {
      this.#current = (this.#current + 1) % this.#nodes.length;
    }
  }

  #sleep(ms: number, deadline: number): Promise<void> {
    const wait = Math.max(0, Math.min(ms, deadline - Date.now()));
    const signal = this.#closed.signal;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, wait);
      signal.addEventListener("abort", done);
    });
  }
}

function failure(maybeApplied: boolean, reason: string): Failure {
  return { ok: false, outcome: maybeApplied ? "unknown" : "unavailable", reason };
}

function toResult(r: RawResult): Result {
  return {
    columns: r.columns ?? [],
    values: r.values ?? [],
    rowsAffected: typeof r.rows_affected === "number" ? r.rows_affected : 0,
    ...(typeof r.error === "string" ? { error: r.error } : {}),
  };
}
