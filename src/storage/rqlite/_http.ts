/**
 * One HTTP request to one rqlite node, and what its answer means: applied,
 * certainly not applied (retry anywhere), maybe applied, or refused for good.
 * The table of rqlite's answers is in `third_party/rqlite/FACTS.md` ("Errors").
 *
 * @module
 */

/** A statement result as rqlite sends it. */
export interface RawResult {
  readonly columns?: string[];
  readonly types?: string[];
  readonly values?: unknown[][];
  readonly rows_affected?: number;
  readonly error?: string;
}

/** Why an attempt failed, for start-up diagnostics. */
export type Cause =
  | "unreachable"
  | "timeout"
  | "no_leader"
  | "forwarding"
  | "auth"
  | "sql"
  | "protocol";

/** The classified outcome of one request. */
export type Attempt =
  | { readonly kind: "ok"; readonly results: RawResult[] }
  | {
    readonly kind: "retry";
    /** Whether a write in the request may have been applied. */
    readonly applied: "no" | "maybe";
    /** The node itself failed (pass it over for a while), not the cluster. */
    readonly nodeDown: boolean;
    readonly cause: Cause;
    readonly reason: string;
  }
  | { readonly kind: "fatal"; readonly cause: Cause; readonly reason: string };

/** What {@link attemptOnce} sends. */
export interface AttemptRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Epoch ms; the request is aborted then. */
  readonly deadline: number;
  /** Aborts the request (the store is closing). */
  readonly signal: AbortSignal;
  /** Sent with `?transaction`: one statement error means nothing was applied. */
  readonly transaction: boolean;
  /** Statements stand alone: a statement's error is its result, not the request's failure. */
  readonly each: boolean;
}

// rqlite's own words for "no leader to send this to": nothing was applied.
const NO_LEADER = /leader not found|not leader|dial tcp|connection refused|no route to host/i;

/** POSTs one request and classifies the answer; never throws. */
export async function attemptOnce(req: AttemptRequest): Promise<Attempt> {
  const ctl = new AbortController();
  const abort = () => ctl.abort();
  req.signal.addEventListener("abort", abort);
  const timer = setTimeout(abort, Math.max(0, req.deadline - Date.now()));
  try {
    let res: Response;
    try {
      res = await fetch(req.url, {
        method: "POST",
        headers: req.headers,
        body: req.body,
        signal: ctl.signal,
        redirect: "manual",
      });
    } catch (e) {
      const refused = !ctl.signal.aborted && isConnectError(e);
      return {
        kind: "retry",
        applied: refused ? "no" : "maybe",
        nodeDown: true,
        cause: ctl.signal.aborted ? "timeout" : "unreachable",
        reason: ctl.signal.aborted
          ? "no answer in time"
          : refused
          ? "connection refused"
          : describe(e),
      };
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      return {
        kind: "retry",
        applied: "maybe",
        nodeDown: true,
        cause: ctl.signal.aborted ? "timeout" : "unreachable",
        reason: `answer broken off: ${describe(e)}`,
      };
    }
    return classify(res.status, text, req.transaction, req.each);
  } finally {
    clearTimeout(timer);
    req.signal.removeEventListener("abort", abort);
  }
}

function classify(status: number, text: string, transaction: boolean, each: boolean): Attempt {
  const snippet = text.slice(0, 200).trim();
  if (status === 401 || status === 403) {
    return { kind: "fatal", cause: "auth", reason: `HTTP ${status} ${snippet}` };
  }
  if (status >= 500) {
    const noLeader = NO_LEADER.test(text);
    return {
      kind: "retry",
      applied: noLeader ? "no" : "maybe",
      nodeDown: !noLeader,
      cause: noLeader ? "no_leader" : "protocol",
      reason: `HTTP ${status} ${snippet}`,
    };
  }
  if (status !== 200) {
    return { kind: "fatal", cause: "protocol", reason: `HTTP ${status} ${snippet}` };
  }
  let body: { results?: unknown; error?: unknown };
  try {
    body = JSON.parse(text);
  } catch {
    return {
      kind: "retry",
      applied: "maybe",
      nodeDown: true,
      cause: "protocol",
      reason: `not JSON: ${snippet}`,
    };
  }
  if (typeof body.error === "string") {
    // A follower that could not forward, or a leader that lost leadership
    // while committing (that write may still be committed later).
    const noLeader = NO_LEADER.test(body.error);
    return {
      kind: "retry",
      applied: noLeader ? "no" : "maybe",
      nodeDown: false,
      cause: noLeader ? "no_leader" : "forwarding",
      reason: body.error,
    };
  }
  if (!Array.isArray(body.results)) {
    return { kind: "fatal", cause: "protocol", reason: `no results: ${snippet}` };
  }
  const results = body.results as RawResult[];
  const failed = each ? undefined : results.find((r) => typeof r?.error === "string");
  if (failed !== undefined) {
    const reason = transaction ? `${failed.error} (rolled back)` : String(failed.error);
    return { kind: "fatal", cause: "sql", reason };
  }
  return { kind: "ok", results };
}

// Deno: "…client error (Connect): tcp connect error: Connection refused";
// Node (undici): cause.code ECONNREFUSED; Bun: code "ConnectionRefused".
function isConnectError(e: unknown): boolean {
  const text = describe(e);
  return /\(Connect\)|tcp connect error|ECONNREFUSED|ConnectionRefused|connection refused/i
    .test(text);
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause as { code?: unknown; message?: unknown } | undefined;
  const extra = cause === undefined
    ? ""
    : ` (${[cause.code, cause.message].filter((x) => x !== undefined).join(" ")})`;
  const code = (e as { code?: unknown }).code;
  return `${e.message}${code === undefined ? "" : ` ${code}`}${extra}`;
}
