/**
 * The webhook transport's requests to a broadcaster: notify (the binary
 * body with its SHA-512, the answer's signature checked) and (un)subscribe.
 *
 * @module
 */

import {
  bytesEqual,
  encodeNotifyHeader,
  encodeSubscribeExact,
  encodeSubscribeGlob,
  encodeUnsubscribeExact,
  encodeUnsubscribeGlob,
  parseResponseNotify,
} from "../../protocol/mod.ts";
import type { AuthConfig } from "../../auth/mod.ts";
import type { PreparedBody } from "../body.ts";
import { ClientError } from "../errors.ts";
import type { Registration } from "../registry.ts";
import { now } from "../settings.ts";
import { type Broadcasters, postToAny, statusError } from "./post.ts";

const EMPTY = new Uint8Array(0);

/** POSTs `/v1/notify`; resolves to the subscriber count. */
export async function httpNotify(
  broadcasters: Broadcasters,
  auth: AuthConfig,
  topic: Uint8Array,
  body: PreparedBody,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<number> {
  const identifier = crypto.getRandomValues(new Uint8Array(4));
  const { sha512 } = body;
  const header = encodeNotifyHeader({
    topic,
    sha512,
    tracing: EMPTY,
    identifier,
    length: BigInt(body.length),
  });
  const res = await postToAny(broadcasters, "/v1/notify", {
    body: () => {
      if (body.bytes !== null) return concat(header, body.bytes);
      return prefixed(header, body.open());
    },
    replayable: body.replayable,
    authorization: () =>
      auth.toBroadcaster.authorize({ type: "notify", topic, identifier, sha512 }, EMPTY, now()),
    timeoutMs,
    signal,
  });
  const refused = statusError("/v1/notify", res.status, res.body);
  if (refused) throw refused;
  let parsed;
  try {
    parsed = parseResponseNotify(res.body);
  } catch (e) {
    throw new ClientError(
      "protocol",
      `Invalid RESPONSE_NOTIFY from ${res.base}: ${(e as Error).message}`,
    );
  }
  if (!bytesEqual(parsed.identifier, identifier)) {
    throw new ClientError("protocol", `RESPONSE_NOTIFY from ${res.base} echoes another identifier`);
  }
  const verdict = await auth.toSubscriber.verify(
    { type: "confirm_notify", identifier, subscribers: parsed.count, topic, sha512 },
    parsed.tracing,
    parsed.authorization,
    now(),
  );
  if (verdict !== "ok") {
    throw new ClientError("protocol", `RESPONSE_NOTIFY from ${res.base}: authorization ${verdict}`);
  }
  return parsed.count;
}

/** Subscribes (`add`) or unsubscribes a registration under `url`/`recovery`. */
export async function httpSubscription(
  broadcasters: Broadcasters,
  auth: AuthConfig,
  add: boolean,
  reg: Registration,
  url: string,
  recovery: string,
  timeoutMs: number,
): Promise<void> {
  const exact = reg.kind === "exact";
  const path = `/v1/${add ? "subscribe" : "unsubscribe"}/${reg.kind}`;
  const rec = add ? recovery : null;
  const body = exact
    ? (add
      ? encodeSubscribeExact({ url, topic: reg.topic!, recovery: rec, tracing: EMPTY })
      : encodeUnsubscribeExact({ url, topic: reg.topic!, tracing: EMPTY }))
    : (add
      ? encodeSubscribeGlob({ url, glob: reg.glob!, recovery: rec, tracing: EMPTY })
      : encodeUnsubscribeGlob({ url, glob: reg.glob!, tracing: EMPTY }));
  const res = await postToAny(broadcasters, path, {
    body: () => body,
    replayable: true,
    authorization: () =>
      auth.toBroadcaster.authorize(
        exact
          ? { type: "subscribe_exact", url, recovery: rec, topic: reg.topic! }
          : { type: "subscribe_glob", url, recovery: rec, glob: reg.glob! },
        EMPTY,
        now(),
      ),
    timeoutMs,
  });
  // 409: already there (subscribe) or already gone (unsubscribe): what we wanted, as lonelypsc.
  if (res.status === 409) return;
  const refused = statusError(path, res.status, res.body);
  if (refused) throw refused;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function prefixed(head: Uint8Array, rest: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = rest.getReader();
  let sentHead = false;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (!sentHead) {
        sentHead = true;
        c.enqueue(head);
        return;
      }
      const { done, value } = await reader.read();
      if (done) c.close();
      else c.enqueue(value);
    },
    async cancel(reason) {
      await reader.cancel(reason);
    },
  });
}
