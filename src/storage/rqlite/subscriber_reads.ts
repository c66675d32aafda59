/**
 * Fan-out reads, batched: notifies that arrive while a read is in flight
 * share the next request (one `/db/query` with the glob generation and one
 * statement per topic). Every notify still gets a read that started after it
 * did, so it sees every subscription confirmed before it began, and no notify
 * ever costs more than one query; under load many share one.
 *
 * @module
 */

import type { Answer, RqliteClient } from "./client.ts";
import { generationOf } from "./glob_cache.ts";
import { EXACT_SUBSCRIBERS, GENERATION } from "./sql.ts";
import type { Statement } from "./values.ts";

/** What one notify needs: the glob generation and its exact rows (url, recovery). */
export interface SubscriberRead {
  readonly generation: number;
  readonly exact: readonly (readonly unknown[])[];
}

interface Pending {
  readonly topic: Uint8Array;
  readonly deadline: number;
  readonly resolve: (r: SubscriberRead | null) => void;
}

/** Batches exact-subscriber reads over one client. */
export class SubscriberReads {
  #client: RqliteClient;
  #pending: Pending[] = [];
  #inFlight = 0;
  #maxInFlight: number;
  #maxBatch: number;

  /** At most `maxInFlight` requests at once, each for at most `maxBatch` topics. */
  constructor(client: RqliteClient, maxInFlight = 2, maxBatch = 128) {
    this.#client = client;
    this.#maxInFlight = maxInFlight;
    this.#maxBatch = maxBatch;
  }

  /** The rows for `topic`, or null when the cluster could not answer by `deadline`. */
  read(topic: Uint8Array, deadline: number): Promise<SubscriberRead | null> {
    return new Promise((resolve) => {
      this.#pending.push({ topic, deadline, resolve });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#maxBatch);
      this.#inFlight++;
      void this.#send(batch).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #send(batch: Pending[]): Promise<void> {
    const statements: Statement[] = [[GENERATION]];
    for (const p of batch) statements.push([EXACT_SUBSCRIBERS, p.topic]);
    const deadline = Math.min(...batch.map((p) => p.deadline));
    let r: Answer;
    try {
      r = await this.#client.query(statements, deadline);
    } catch {
      r = { ok: false, outcome: "unavailable", reason: "unexpected error" };
    }
    if (!r.ok) {
      for (const p of batch) p.resolve(null);
      return;
    }
    const generation = generationOf(r.results[0]);
    batch.forEach((p, i) => p.resolve({ generation, exact: r.results[i + 1]?.values ?? [] }));
  }
}
