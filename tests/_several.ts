/**
 * Helpers for end-to-end tests of several broadcasters sharing one database
 * (rqlite, PostgreSQL): subscribe and notify over HTTP without auth.
 *
 * @module
 */

import { createHash } from "node:crypto";
import {
  encodeNotify,
  encodeSubscribeExact,
  encodeSubscribeGlob,
  parseResponseNotify,
} from "../src/protocol/mod.ts";
import { postBytes } from "./_cli.ts";

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
