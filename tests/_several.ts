/**
 * Helpers for end-to-end tests of several broadcasters sharing one database
 * (rqlite, PostgreSQL): subscribe and notify over HTTP without auth, and
 * the steps every shared store must pass.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  compareBytes,
  encodeNotify,
  encodeSubscribeExact,
  encodeSubscribeGlob,
  parseResponseNotify,
  strongEtag,
} from "../src/protocol/mod.ts";
import { waitFor } from "../src/storage/rqlite/_testing.ts";
import { postBytes } from "./_cli.ts";
import { checkEtag } from "./_harness.ts";
import { type TestSubscriber, withSubscriber } from "./_subscriber.ts";

const UTF8 = new TextEncoder();
const NO_TRACING = new Uint8Array(0);

/** Subscribes `url` to `topic` through the broadcaster at `base`; the status. */
export async function subscribeExact(
  base: string,
  url: string,
  topic: string,
  recovery: string | null = null,
): Promise<number> {
  const body = encodeSubscribeExact({
    url,
    topic: UTF8.encode(topic),
    recovery,
    tracing: NO_TRACING,
  });
  return (await postBytes(`${base}/v1/subscribe/exact`, body)).status;
}

/** Subscribes `url` to `glob` through the broadcaster at `base`; the status. */
export async function subscribeGlob(
  base: string,
  url: string,
  glob: string,
  recovery: string | null = null,
): Promise<number> {
  const body = encodeSubscribeGlob({ url, glob, recovery, tracing: NO_TRACING });
  return (await postBytes(`${base}/v1/subscribe/glob`, body)).status;
}

/** Notifies `topic`; the status and, when 200, the subscriber count. */
export async function notify(
  base: string,
  topic: string,
): Promise<{ status: number; count: number }> {
  const message = UTF8.encode(`message for ${topic}`);
  const body = encodeNotify({
    topic: UTF8.encode(topic),
    sha512: new Uint8Array(createHash("sha512").update(message).digest()),
    tracing: NO_TRACING,
    identifier: UTF8.encode(topic).slice(0, 64),
  }, message);
  const res = await postBytes(`${base}/v1/notify`, body);
  return {
    status: res.status,
    count: res.status === 200 ? parseResponseNotify(res.body).count : -1,
  };
}

/**
 * The behaviour every shared store must show through two broadcasters `a`
 * and `b`, as steps of `t`: 100 rounds of subscribe (exact and glob) through
 * one and notify through the other, both directions; check_subscriptions
 * agreeing on both; and the sweepers of both delivering each MISSED once
 * (`pendingMissed` reads how many records the database still holds).
 * `more` runs further steps with the same subscriber.
 */
export async function sharedStoreSteps(
  t: Deno.TestContext,
  a: { readonly url: string },
  b: { readonly url: string },
  pendingMissed: () => Promise<number>,
  more: (sub: TestSubscriber) => Promise<void> = async () => {},
): Promise<void> {
  await withSubscriber(
    (path) =>
      path.startsWith("/dead/")
        ? { kind: "fail500" }
        : path.startsWith("/missed/")
        ? { kind: "confirm_missed" }
        : { kind: "confirm" },
    async (sub) => {
      await t.step("100 rounds back to back, exact and glob, both directions", async () => {
        const exactUrl = sub.url("/exact");
        const globUrl = sub.url("/glob");
        for (let i = 0; i < 100; i++) {
          const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
          const topic = `x/${i}.`;
          assert.equal(await subscribeExact(from.url, exactUrl, topic), 200);
          // Matches x/<i>. but no other round's topic.
          assert.equal(await subscribeGlob(from.url, globUrl, `*/${i}.`), 200);
          const { status, count } = await notify(to.url, topic);
          assert.equal(status, 200);
          assert.equal(count, 2, `round ${i}`);
          assert.equal(sub.receivedAt("/exact").length, i + 1);
          assert.equal(sub.receivedAt("/glob").length, i + 1);
        }
        const topics = sub.receivedAt("/exact").map((r) =>
          new TextDecoder().decode(r.receive!.topic)
        );
        assert.deepEqual(topics, Array.from({ length: 100 }, (_, i) => `x/${i}.`));
      });

      await t.step("check_subscriptions agrees on both broadcasters", async () => {
        for (const path of ["/exact", "/glob"]) {
          const url = sub.url(path);
          const expected = strongEtag(url, {
            exacts: path === "/exact"
              ? Array.from(
                { length: 100 },
                (_, i) => ({ topic: UTF8.encode(`x/${i}.`), recovery: null }),
              ).sort((p, q) => compareBytes(p.topic, q.topic))
              : [],
            globs: path === "/glob"
              ? Array.from({ length: 100 }, (_, i) => ({ glob: `*/${i}.`, recovery: null }))
                .sort((p, q) => compareBytes(UTF8.encode(p.glob), UTF8.encode(q.glob)))
              : [],
          });
          assert.deepEqual(await checkEtag(a.url, url), expected);
          assert.deepEqual(await checkEtag(b.url, url), expected);
        }
      });

      await t.step("the sweepers of both processes deliver each MISSED once", async () => {
        const n = 12;
        for (let k = 0; k < n; k++) {
          const [via, notifier] = k % 2 === 0 ? [a, b] : [b, a];
          const dead = sub.url(`/dead/${k}`);
          const missed = sub.url(`/missed/${k}`);
          if (k % 3 === 0) {
            assert.equal(await subscribeGlob(via.url, dead, `m/${k}/*`, missed), 200);
            await notify(notifier.url, `m/${k}/x`);
          } else {
            assert.equal(await subscribeExact(via.url, dead, `m/${k}`, missed), 200);
            await notify(notifier.url, `m/${k}`);
          }
        }
        // Every record delivered and cleared in the database: nothing left to send.
        await waitFor("every MISSED delivered and its record cleared", 20_000, async () => {
          for (let k = 0; k < n; k++) {
            if (sub.receivedAt(`/missed/${k}`).length === 0) return false;
          }
          return await pendingMissed() === 0;
        });
        for (let k = 0; k < n; k++) {
          assert.equal(sub.receivedAt(`/missed/${k}`).length, 1, `MISSED ${k}`);
          assert.equal(sub.receivedAt(`/dead/${k}`).length, 1, `RECEIVE ${k}`);
        }
      });
      await more(sub);
    },
  );
}
