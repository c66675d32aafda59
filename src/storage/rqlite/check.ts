/**
 * The start-up check of an rqlite cluster: every node is asked once (in
 * parallel); the first that answers a read through a leader ends the check.
 * Otherwise the error says what is wrong: unreachable, credentials refused,
 * or no leader, for which it waits a bounded time first.
 *
 * @module
 */

import type { RqliteClient } from "./client.ts";

/** The cluster cannot be used; the message says why and what to check. */
export class RqliteUnavailableError extends Error {
  /** What went wrong, for callers that branch on it. */
  readonly reason: "unreachable" | "auth" | "no_leader" | "error";

  /** A one-line message. */
  constructor(reason: RqliteUnavailableError["reason"], message: string) {
    super(message);
    this.name = "RqliteUnavailableError";
    this.reason = reason;
  }
}

const PROBE_TIMEOUT_MS = 2000;
const POLL_MS = 200;

/**
 * Resolves once some node answers a read through a leader.
 *
 * @throws {RqliteUnavailableError} when no node is reachable, credentials are
 * refused, or no leader appears within `leaderWaitMs`
 */
export async function checkCluster(
  client: RqliteClient,
  leaderWaitMs: number,
  withCredentials: boolean,
): Promise<void> {
  const until = Date.now() + leaderWaitMs;
  for (;;) {
    const urls = client.urls;
    const answers = await Promise.all(urls.map((u) => client.probe(u, PROBE_TIMEOUT_MS)));
    if (answers.some((a) => a.kind === "ok")) return;
    const list = urls.join(", ");
    const failures = answers.map((a, i) => ({ url: urls[i]!, a })).filter((f) => f.a.kind !== "ok");
    const auth = failures.find((f) => f.a.kind !== "ok" && f.a.cause === "auth");
    if (auth !== undefined && auth.a.kind !== "ok") {
      throw new RqliteUnavailableError(
        "auth",
        withCredentials
          ? `rqlite at ${auth.url} refused the credentials (${auth.a.reason}): ` +
            `check the rqlite user and password in the secrets file`
          : `rqlite at ${auth.url} requires credentials (${auth.a.reason}): ` +
            `put an rqlite user and password in the secrets file`,
      );
    }
    const causes = failures.map((f) => (f.a.kind === "ok" ? "" : f.a.cause));
    const detail = failures.map((f) => `${f.url}: ${f.a.kind === "ok" ? "" : f.a.reason}`)
      .join("; ");
    if (causes.every((c) => c === "unreachable" || c === "timeout")) {
      throw new RqliteUnavailableError("unreachable", `Cannot reach rqlite at ${list} (${detail})`);
    }
    if (!causes.some((c) => c === "no_leader" || c === "forwarding")) {
      throw new RqliteUnavailableError("error", `rqlite at ${list} cannot answer: ${detail}`);
    }
    if (Date.now() + POLL_MS > until) {
      throw new RqliteUnavailableError(
        "no_leader",
        `rqlite at ${list} has no leader after ${Math.round(leaderWaitMs / 1000)} s ` +
          `(an election is still running, or too few nodes are up for a quorum): ${detail}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
