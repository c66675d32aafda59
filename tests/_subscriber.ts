/**
 * A real test subscriber: an HTTP server on 127.0.0.1:0 that records every
 * RECEIVE or MISSED it gets (streamed: the message is hashed, kept only when
 * small) and answers as configured per path. Tests wait on its promises,
 * never on sleeps. It can also hold its answers (see {@link TestSubscriber.hold})
 * so a test can act while a delivery is in flight.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { AuthConfig, AuthMessage, AuthResult } from "../src/auth/types.ts";
import { concatParts, Writer } from "../src/protocol/bytes.ts";
import { parseMissed } from "../src/protocol/missed.ts";
import { parseReceiveHeader } from "../src/protocol/receive.ts";
import type { ReceiveHeader } from "../src/protocol/receive.ts";
import {
  encodeResponseConfirmMissed,
  encodeResponseUnsubscribeImmediate,
} from "../src/protocol/mod.ts";

/** How a path answers. */
export type Behaviour =
  /** RESPONSE_CONFIRM_RECEIVE echoing the identifier, with `numSubscribers` (default 1). */
  | { readonly kind: "confirm"; readonly numSubscribers?: number }
  /** Status 500, empty body. */
  | { readonly kind: "fail500" }
  /** RESPONSE_UNSUBSCRIBE_IMMEDIATE. */
  | { readonly kind: "unsubscribe" }
  /** Never answers until the client gives up or the subscriber closes. */
  | { readonly kind: "hang" }
  /** RESPONSE_CONFIRM_MISSED (for recovery urls), with this status (default 200). */
  | { readonly kind: "confirm_missed"; readonly status?: number };

/** One recorded request. */
export interface Recorded {
  /** Request path. */
  readonly path: string;
  /** Request headers. */
  readonly headers: Headers;
  /** Total body length. */
  readonly bodyLength: number;
  /** The whole body when at most {@link KEEP_BYTES}, else null. */
  readonly body: Uint8Array | null;
  /** For RECEIVE: the parsed header, or null when the body is not a RECEIVE. */
  readonly receive: ReceiveHeader | null;
  /**
   * With subscriber-side auth: the verdict on the request's authorization
   * (RECEIVE or MISSED), else null.
   */
  authVerdict: AuthResult | null;
  /** For RECEIVE: SHA-512 of the message bytes after the header. */
  readonly messageSha512: Uint8Array | null;
  /** For RECEIVE: the message bytes after the header, when the body was kept whole. */
  readonly message: Uint8Array | null;
}

/** Bodies up to this size are kept whole. */
export const KEEP_BYTES = 1024 * 1024;

/** A running test subscriber. */
export class TestSubscriber {
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #behaviour: (path: string) => Behaviour;
  readonly #received: Recorded[] = [];
  #waiters: { n: number; path: string | null; resolve: () => void }[] = [];
  readonly #closing = Promise.withResolvers<void>();
  #holding = false;
  /** Answers waiting for {@link release}. */
  #held: (() => void)[] = [];
  /** Callers of {@link waitForHeld} waiting for an answer to be held. */
  #heldWaiters: (() => void)[] = [];

  readonly #auth: AuthConfig | null;

  /**
   * Listens on 127.0.0.1:0; `behaviour` picks the answer by path (default:
   * confirm). With `auth` (the subscriber's copy of both directions), RECEIVE
   * and MISSED authorizations are verified as lonelypsc does (refused: 403,
   * or 503 when unavailable) and confirmations are signed.
   */
  constructor(
    behaviour: (path: string) => Behaviour = () => ({ kind: "confirm" }),
    auth: AuthConfig | null = null,
  ) {
    this.#behaviour = behaviour;
    this.#auth = auth;
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (req) => this.#handle(req),
    );
  }

  /** The url of `path` on this server. */
  url(path: string): string {
    return `http://127.0.0.1:${this.#server.addr.port}${path}`;
  }

  /** Everything received so far, in arrival order (recorded once the body is read). */
  get received(): readonly Recorded[] {
    return this.#received;
  }

  /** Requests recorded for `path`. */
  receivedAt(path: string): Recorded[] {
    return this.#received.filter((r) => r.path === path);
  }

  /** Resolves once `n` requests (to `path`, or to any path) have been recorded. */
  waitFor(n: number, path: string | null = null): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.push({ n, path, resolve });
    this.#wake();
    return promise;
  }

  /** From now on, each request is recorded but answered only after {@link release}. */
  hold(): void {
    this.#holding = true;
  }

  /** Answers every held request and stops holding. */
  release(): void {
    this.#holding = false;
    for (const go of this.#held) go();
    this.#held = [];
  }

  /** Resolves once a request is being held. */
  waitForHeld(): Promise<void> {
    if (this.#held.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.#heldWaiters.push(resolve));
  }

  /** Releases held and hanging requests and stops the server. */
  async close(): Promise<void> {
    this.release();
    this.#closing.resolve();
    await this.#server.shutdown();
  }

  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Verifies a RECEIVE (by its header and message hash) or a MISSED (by its body). */
  #verify(req: Request, r: Recorded): Promise<AuthResult> {
    const auth = this.#auth!;
    const authorization = req.headers.get("authorization");
    const now = Date.now() / 1000;
    if (r.receive !== null && r.messageSha512 !== null) {
      const { topic, identifier, tracing } = r.receive;
      const sha512 = r.messageSha512;
      const message: AuthMessage = { type: "receive", url: req.url, topic, identifier, sha512 };
      return auth.toSubscriber.verify(message, tracing, authorization, now);
    }
    if (r.body === null) return Promise.resolve("forbidden");
    const missed = parseMissed(r.body);
    return auth.toSubscriber.verify(
      { type: "missed", recovery: req.url, topic: missed.topic },
      missed.tracing,
      authorization,
      now,
    );
  }

  #wake(): void {
    this.#waiters = this.#waiters.filter((w) => {
      const count = w.path === null ? this.#received.length : this.receivedAt(w.path).length;
      if (count < w.n) return true;
      w.resolve();
      return false;
    });
  }

  async #handle(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    const behaviour = this.#behaviour(path);
    let recorded: Recorded;
    try {
      recorded = await record(path, req);
    } catch {
      return new Response(null, { status: 400 });
    }
    if (this.#auth !== null) recorded.authVerdict = await this.#verify(req, recorded);
    this.#received.push(recorded);
    this.#wake();
    if (recorded.authVerdict !== null && recorded.authVerdict !== "ok") {
      return new Response(null, { status: recorded.authVerdict === "unavailable" ? 503 : 403 });
    }
    if (this.#holding) {
      await new Promise<void>((resolve) => {
        this.#held.push(resolve);
        for (const wake of this.#heldWaiters) wake();
        this.#heldWaiters = [];
      });
    }
    switch (behaviour.kind) {
      case "confirm": {
        if (recorded.receive === null) return new Response(null, { status: 400 });
        const { identifier } = recorded.receive;
        const numSubscribers = behaviour.numSubscribers ?? 1;
        const authorization = await this.#auth?.toBroadcaster.authorize(
          { type: "confirm_receive", identifier, numSubscribers, url: req.url },
          new Uint8Array(0),
          Date.now() / 1000,
        ) ?? null;
        return octets(confirmReceive(identifier, numSubscribers, authorization));
      }
      case "fail500":
        return new Response(null, { status: 500 });
      case "unsubscribe":
        return octets(encodeResponseUnsubscribeImmediate());
      case "confirm_missed": {
        const topic = recorded.body === null ? null : parseMissed(recorded.body).topic;
        const authorization = topic === null ? null : await this.#auth?.toBroadcaster.authorize(
          { type: "confirm_missed", topic, url: req.url },
          new Uint8Array(0),
          Date.now() / 1000,
        ) ?? null;
        return octets(
          encodeResponseConfirmMissed({ authorization, tracing: new Uint8Array(0) }),
          behaviour.status ?? 200,
        );
      }
      case "hang": {
        const gone = new Promise<void>((r) => req.signal.addEventListener("abort", () => r()));
        await Promise.race([gone, this.#closing.promise]);
        return new Response(null, { status: 503 });
      }
    }
  }
}

/**
 * Runs `fn` with a fresh subscriber answering by `behaviour`, closing it
 * afterwards whatever happens.
 */
export async function withSubscriber(
  behaviour: (path: string) => Behaviour,
  fn: (sub: TestSubscriber) => Promise<void>,
): Promise<void> {
  const sub = new TestSubscriber(behaviour);
  try {
    await fn(sub);
  } finally {
    await sub.close();
  }
}

/**
 * RESPONSE_CONFIRM_RECEIVE written field by field, so the broadcaster's
 * parser is checked against bytes that do not come from our own encoder:
 * type 8, lp16 authorization, empty tracing, lp8 identifier, u32 count.
 */
function confirmReceive(
  identifier: Uint8Array,
  numSubscribers: number,
  authorization: string | null,
): Uint8Array {
  return new Writer().u16(8).lp16(authorization ?? "").u16(0).lp8(identifier).u32(numSubscribers)
    .finish().slice();
}

function octets(body: Uint8Array, status = 200): Response {
  return new Response(body as Uint8Array<ArrayBuffer>, {
    status,
    headers: { "content-type": "application/octet-stream" },
  });
}

async function record(path: string, req: Request): Promise<Recorded> {
  const kept: Uint8Array[] = [];
  let head = new Uint8Array(0);
  let receive: ReceiveHeader | null = null;
  let headerLength = 0;
  let total = 0;
  const hash = createHash("sha512");
  for await (const chunk of req.body ?? []) {
    total += chunk.length;
    if (total <= KEEP_BYTES) kept.push(chunk);
    if (receive !== null) {
      hash.update(chunk);
      continue;
    }
    const joined = new Uint8Array(head.length + chunk.length);
    joined.set(head);
    joined.set(chunk, head.length);
    head = joined;
    let parsed: ReturnType<typeof parseReceiveHeader> = null;
    try {
      parsed = parseReceiveHeader(head);
    } catch {
      parsed = null;
    }
    if (parsed !== null) {
      receive = copyHeader(parsed.header);
      headerLength = parsed.headerLength;
      hash.update(head.subarray(parsed.headerLength));
      head = new Uint8Array(0);
    }
  }
  const body = total <= KEEP_BYTES ? concatParts(kept, total) : null;
  return {
    path,
    headers: req.headers,
    bodyLength: total,
    body,
    receive,
    authVerdict: null,
    messageSha512: receive === null ? null : new Uint8Array(hash.digest()),
    message: receive === null || body === null ? null : body.slice(headerLength),
  };
}

function copyHeader(h: ReceiveHeader): ReceiveHeader {
  return {
    tracing: h.tracing.slice(),
    topic: h.topic.slice(),
    identifier: h.identifier.slice(),
    length: h.length,
  };
}
