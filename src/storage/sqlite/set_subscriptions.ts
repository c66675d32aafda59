/**
 * set_subscriptions as one transaction: read the url's rows, diff in memory,
 * apply inserts, deletes and recovery updates (docs/decisions.md#set-subscriptions: the
 * reference loses rows from 16 up and never updates a recovery url).
 *
 * @module
 */

import { binaryKey } from "../bytes_key.ts";
import type { SubscriptionSet } from "../types.ts";
import type { SqliteDb } from "./driver.ts";
import { transaction } from "./driver.ts";
import type { GlobCache, GlobChange } from "./glob_cache.ts";
import type { Statements } from "./statements.ts";

/** Makes `url`'s rows exactly `desired`; kept rows keep their id and missed state. */
export function setSubscriptions(
  db: SqliteDb,
  st: Statements,
  globs: GlobCache,
  url: string,
  desired: SubscriptionSet,
): void {
  let changes: GlobChange[] = [];
  const now = Date.now();
  try {
    changes = transaction(db, () => {
      // What it keeps is renewed (a lease starts again); what it adds is new.
      st.renewUrlExacts.run(now, url);
      st.renewUrlGlobs.run(now, url);
      syncExacts(st, url, desired, now);
      const before = globs.beforeWrite();
      const out = syncGlobs(st, url, desired, now);
      globs.afterWrite(before);
      return out;
    });
  } catch (e) {
    globs.invalidate();
    throw e;
  }
  globs.apply(changes);
}

function syncExacts(st: Statements, url: string, desired: SubscriptionSet, now: number): void {
  const want = new Map<string, { topic: Uint8Array; recovery: string | null }>();
  for (const e of desired.exacts) want.set(binaryKey(e.topic), e);
  for (const row of st.exactIdsOfUrl.all(url)) {
    const topic = row["exact"];
    const key = topic instanceof Uint8Array ? binaryKey(topic) : undefined;
    const wanted = key === undefined ? undefined : want.get(key);
    if (wanted === undefined) {
      st.deleteExactById.run(row["id"]!);
      continue;
    }
    want.delete(key!);
    if ((row["missed_url"] ?? null) !== wanted.recovery) {
      st.setExactRecovery.run(wanted.recovery, row["id"]!);
    }
  }
  for (const e of want.values()) st.subscribeExact.run(url, e.topic, e.recovery, now);
}

function syncGlobs(
  st: Statements,
  url: string,
  desired: SubscriptionSet,
  now: number,
): GlobChange[] {
  const changes: GlobChange[] = [];
  const want = new Map<string, string | null>();
  for (const g of desired.globs) want.set(g.glob, g.recovery);
  for (const row of st.globIdsOfUrl.all(url)) {
    const glob = String(row["glob"]);
    const recovery = want.get(glob);
    if (recovery === undefined) {
      st.deleteGlobById.run(row["id"]!);
      changes.push({ op: "remove", url, glob });
      continue;
    }
    want.delete(glob);
    if ((row["missed_url"] ?? null) !== recovery) {
      st.setGlobRecovery.run(recovery, row["id"]!);
      changes.push({ op: "put", url, glob, recovery });
    }
  }
  for (const [glob, recovery] of want) {
    st.subscribeGlob.run(url, glob, recovery, now);
    changes.push({ op: "put", url, glob, recovery });
  }
  return changes;
}
