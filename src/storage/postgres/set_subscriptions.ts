/**
 * set_subscriptions on PostgreSQL (docs/decisions.md#set-subscriptions) as one transaction: lock
 * the url (a transaction-scoped advisory lock, so two calls for one url never interleave), read its
 * rows, diff in memory, then apply every insert, delete and recovery update as a few set-based
 * statements. Kept rows keep their id and missed state.
 *
 * @module
 */

import { binaryKey } from "../bytes_key.ts";
import type { GlobChange } from "../glob_rows.ts";
import type { SubscriptionSet } from "../types.ts";
import type { PendingQuery, Sql } from "./driver.ts";
import type { Statements } from "./sql.ts";
import { bytesOf, hex, textOrNull } from "./values.ts";

/** What the transaction did to glob rows, with the generations around it. */
export interface SetOutcome {
  /** Glob changes to apply in memory. */
  readonly changes: GlobChange[];
  /** Generation before (locked), or null when no glob row changed. */
  readonly before: number | null;
  /** Generation after. */
  readonly after: number | null;
}

// pg_advisory_xact_lock(int, int): our class ("lpst"), then the url.
const URL_LOCK_CLASS = 0x6c707374;

/** Makes `url`'s rows exactly `desired` in one transaction. */
export function setSubscriptions(
  sql: Sql,
  st: Statements,
  lockKey: string,
  url: string,
  desired: SubscriptionSet,
): Promise<SetOutcome> {
  return sql.begin(async (tx) => {
    await tx.unsafe(`SELECT pg_advisory_xact_lock(${URL_LOCK_CLASS}, hashtext($1))`, [
      `${lockKey} ${url}`,
    ]);
    const [exacts, globs] = await Promise.all([
      tx.unsafe(st.exactRowsOfUrl, [url]),
      tx.unsafe(st.globRowsOfUrl, [url]),
    ]);

    const want = new Map<string, { topic: Uint8Array; recovery: string | null }>();
    for (const e of desired.exacts) want.set(binaryKey(e.topic), e);
    const deleteExacts: string[] = [];
    const exactRecoveries: [string, string | null][] = [];
    for (const row of exacts) {
      const key = binaryKey(bytesOf(row.exact));
      const wanted = want.get(key);
      if (wanted === undefined) {
        deleteExacts.push(String(row.id));
        continue;
      }
      want.delete(key);
      if (textOrNull(row.missed_url) !== wanted.recovery) {
        exactRecoveries.push([String(row.id), wanted.recovery]);
      }
    }
    const insertExacts = [...want.values()].map((e) => [hex(e.topic), e.recovery]);

    const changes: GlobChange[] = [];
    const wantGlobs = new Map<string, string | null>();
    for (const g of desired.globs) wantGlobs.set(g.glob, g.recovery);
    const deleteGlobs: string[] = [];
    const globRecoveries: [string, string | null][] = [];
    for (const row of globs) {
      const glob = String(row.glob);
      const wanted = wantGlobs.get(glob);
      if (wanted === undefined) {
        deleteGlobs.push(String(row.id));
        changes.push({ op: "remove", url, glob });
        continue;
      }
      wantGlobs.delete(glob);
      if (textOrNull(row.missed_url) !== wanted) {
        globRecoveries.push([String(row.id), wanted]);
        changes.push({ op: "put", url, glob, recovery: wanted });
      }
    }
    const insertGlobs = [...wantGlobs].map(([glob, recovery]) => [glob, recovery]);
    for (const [glob, recovery] of wantGlobs) changes.push({ op: "put", url, glob, recovery });

    const json = (v: unknown) => JSON.stringify(v);
    const now = Date.now();
    // What it keeps is renewed (a lease starts again); what it adds is new.
    const writes: PendingQuery[] = [tx.unsafe(st.renewUrl, [now, url])];
    if (deleteExacts.length > 0) writes.push(tx.unsafe(st.deleteExactIds, [json(deleteExacts)]));
    if (exactRecoveries.length > 0) {
      writes.push(tx.unsafe(st.setExactRecoveries, [json(exactRecoveries)]));
    }
    if (insertExacts.length > 0) {
      writes.push(tx.unsafe(st.insertExacts, [url, json(insertExacts), now]));
    }
    if (changes.length === 0) {
      await Promise.all(writes);
      return { changes, before: null, after: null };
    }
    const before = tx.unsafe(st.lockGeneration);
    if (deleteGlobs.length > 0) writes.push(tx.unsafe(st.deleteGlobIds, [json(deleteGlobs)]));
    if (globRecoveries.length > 0) {
      writes.push(tx.unsafe(st.setGlobRecoveries, [json(globRecoveries)]));
    }
    if (insertGlobs.length > 0) {
      writes.push(tx.unsafe(st.insertGlobs, [url, json(insertGlobs), now]));
    }
    const after = tx.unsafe(st.generation);
    const [b] = await before;
    await Promise.all(writes);
    const [a] = await after;
    return { changes, before: Number(b?.value), after: Number(a?.value) };
  });
}
