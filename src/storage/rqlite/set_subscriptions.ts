/**
 * set_subscriptions on rqlite (docs/decisions.md#set-subscriptions): read the url's rows, diff in
 * memory, apply every insert, delete and recovery update in one `?transaction`
 * request (all or nothing). Without interactive transactions the read is not
 * inside that transaction; every statement is idempotent and by row id or
 * unique key, so the four SET_SUBSCRIPTIONS guarantees hold under concurrent
 * changes to the same url, and a retry after an unknown outcome is safe.
 *
 * @module
 */

import { binaryKey } from "../bytes_key.ts";
import type { SubscriptionSet, WriteResult } from "../types.ts";
import type { GlobChange } from "../glob_rows.ts";
import type { RqliteClient } from "./client.ts";
import { generationOf, type RqliteGlobCache } from "./glob_cache.ts";
import {
  DELETE_EXACT_BY_ID,
  DELETE_GLOB_BY_ID,
  EXACT_ROWS_OF_URL,
  GENERATION,
  GLOB_ROWS_OF_URL,
  INSERT_EXACT,
  INSERT_GLOB,
  RENEW_URL,
  SET_EXACT_RECOVERY,
  SET_GLOB_RECOVERY,
} from "./sql.ts";
import { decodeBlob, nullableText, randomId, type Statement } from "./values.ts";

/** Makes `url`'s rows exactly `desired`; kept rows keep their id and missed state. */
export async function setSubscriptions(
  client: RqliteClient,
  globs: RqliteGlobCache,
  url: string,
  desired: SubscriptionSet,
  deadline: number,
): Promise<WriteResult> {
  const current = await client.queryLeader(
    [[EXACT_ROWS_OF_URL, url], [GLOB_ROWS_OF_URL, url]],
    deadline,
  );
  if (!current.ok) return "unavailable";
  const now = Date.now();
  // What it keeps is renewed (a lease starts again); what it adds is new.
  const statements: Statement[] = RENEW_URL.map((sql) => [sql, now, url]);
  const want = new Map<string, { topic: Uint8Array; recovery: string | null }>();
  for (const e of desired.exacts) want.set(binaryKey(e.topic), e);
  for (const [id, exact, recovery] of current.results[0]!.values) {
    const key = binaryKey(decodeBlob(exact));
    const wanted = want.get(key);
    if (wanted === undefined) {
      statements.push([DELETE_EXACT_BY_ID, Number(id)]);
      continue;
    }
    want.delete(key);
    if (nullableText(recovery) !== wanted.recovery) {
      statements.push([SET_EXACT_RECOVERY, wanted.recovery, Number(id)]);
    }
  }
  for (const e of want.values()) {
    statements.push([INSERT_EXACT, randomId(), url, e.topic, e.recovery, now]);
  }

  const changes: GlobChange[] = [];
  const wantGlobs = new Map<string, string | null>();
  for (const g of desired.globs) wantGlobs.set(g.glob, g.recovery);
  for (const [id, glob, recovery] of current.results[1]!.values) {
    const pattern = String(glob);
    const wanted = wantGlobs.get(pattern);
    if (wanted === undefined) {
      statements.push([DELETE_GLOB_BY_ID, Number(id)]);
      changes.push({ op: "remove", url, glob: pattern });
      continue;
    }
    wantGlobs.delete(pattern);
    if (nullableText(recovery) !== wanted) {
      statements.push([SET_GLOB_RECOVERY, wanted, Number(id)]);
      changes.push({ op: "put", url, glob: pattern, recovery: wanted });
    }
  }
  for (const [glob, recovery] of wantGlobs) {
    statements.push([INSERT_GLOB, randomId(), url, glob, recovery, now]);
    changes.push({ op: "put", url, glob, recovery });
  }

  const w = await client.write([[GENERATION], ...statements, [GENERATION]], deadline, {
    idempotent: true,
    withReads: true,
  });
  if (!w.ok) {
    globs.invalidate();
    return "unavailable";
  }
  globs.afterWrite(generationOf(w.results[0]), generationOf(w.results.at(-1)), changes);
  return "success";
}
