/**
 * Requests that arrive while others are in flight share the next one: one
 * `/db/query` (or one non-transactional `/db/execute`, one Raft entry) with a
 * statement per caller. Each caller's statement is sent after the caller
 * asked, so a read sees everything confirmed before it began, and nobody
 * costs more than one request; under load many share one.
 *
 * @module
 */

import type { Answer, Result } from "./client.ts";
import type { Statement } from "./values.ts";

/** One caller's share of a batch: the shared leading results and its own. */
export type BatchAnswer =
  | { readonly ok: true; readonly shared: readonly Result[]; readonly own: Result }
  | { readonly ok: false; readonly outcome: "unavailable" | "unknown"; readonly reason: string };

interface Pending {
  readonly statement: Statement;
  readonly deadline: number;
  readonly resolve: (a: BatchAnswer) => void;
}

/** Sends `statements` (leading ones first) before `deadline`, one result per statement. */
export type BatchSender = (statements: Statement[], deadline: number) => Promise<Answer>;

/** Coalesces single statements into shared requests. */
export class Batcher {
  #send: BatchSender;
  #leading: readonly Statement[];
  #pending: Pending[] = [];
  #inFlight = 0;
  #maxInFlight: number;
  #maxBatch: number;

  /**
   * `leading` statements open every request (their results go to everyone);
   * at most `maxInFlight` requests at once, each for at most `maxBatch` callers.
   */
  constructor(send: BatchSender, leading: readonly Statement[], maxInFlight = 2, maxBatch = 128) {
    this.#send = send;
    this.#leading = leading;
    this.#maxInFlight = maxInFlight;
    this.#maxBatch = maxBatch;
  }

  /** Runs `statement` in the next request. */
  run(statement: Statement, deadline: number): Promise<BatchAnswer> {
    return new Promise((resolve) => {
      this.#pending.push({ statement, deadline, resolve });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#maxBatch);
      this.#inFlight++;
      void this.#flush(batch).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #flush(batch: Pending[]): Promise<void> {
    const lead = this.#leading.length;
    const deadline = Math.min(...batch.map((p) => p.deadline));
    let r: Answer;
    try {
      r = await this.#send([...this.#leading, ...batch.map((p) => p.statement)], deadline);
    } catch (e) {
      r = { ok: false, outcome: "unknown", reason: `unexpected error: ${String(e)}` };
    }
    batch.forEach((p, i) => {
      if (!r.ok) return p.resolve(r);
      const own = r.results[lead + i];
      if (own === undefined || own.error !== undefined) {
        // This statement alone failed (nothing of it applied) or is missing.
        return p.resolve({ ok: false, outcome: "unavailable", reason: own?.error ?? "no result" });
      }
      p.resolve({ ok: true, shared: r.results.slice(0, lead), own });
    });
  }
}
