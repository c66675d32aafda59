/**
 * The Deno front serving plain HTTP/1.1 requests itself (see `deno.ts`):
 * it reads each head (`_http1_head.ts`), builds the `Request`, calls the
 * handler and writes the `Response` (`_http1_write.ts`) on the client's own
 * connection, with no relay to `Deno.serve` behind it. Relaying cost two
 * more socket reads and writes, their wake-ups and one more connection per
 * client: 15–45 µs of CPU per small request
 * (docs/operating.md#connections-and-request-bodies).
 *
 * A head it does not serve (a websocket upgrade, anything unusual) ends
 * this: {@link PlainConnection.run} hands the bytes from that head on back,
 * and the connection is relayed from there to `Deno.serve`, which judges it
 * as before. The front's guarantees do not depend on which serves: the
 * accept loop, the connection cap and the header and keep-alive timeouts
 * stay in the front's table (the hooks here report each request), the slow
 * body guard (408) reads the body as any route does.
 *
 * @module
 */

import { deadline } from "../deadline.ts";
import { WHOLE_BODY } from "../http/request_body.ts";
import { abortRequest, plainRequest } from "./_http1_request.ts";
import { NOT_MINE, parsePlainHead, type PlainHead } from "./_http1_head.ts";
import { writeResponse } from "./_http1_write.ts";
import { LINGER_BYTES, LINGER_MS } from "./_pump.ts";

const SMALL = 16 * 1024;
/** Largest buffer a head may need (the head limit, and a little). */
const HEAD_ROOM = 64 * 1024;
/** Largest read of a streamed body without a caller's buffer. */
const BODY_CHUNK = 256 * 1024;

/** What the connection tells its owner. */
export interface PlainHooks {
  /** Answers a request (the broadcaster's handler). */
  handle(req: Request): Promise<Response>;
  /** A request's head is complete: the connection is busy. */
  started(): void;
  /** Its response was written (or failed): the connection is idle. */
  ended(): void;
}

/** One client connection while the front serves it. */
export class PlainConnection {
  readonly #conn: Deno.Conn;
  readonly #hooks: PlainHooks;
  #buf = new Uint8Array(SMALL);
  /** Where body bytes are read when the consumer brings no buffer of its own. */
  #scratch: Uint8Array | null = null;
  #start = 0;
  #end = 0;
  #finishing = false;
  #waiting = false;
  /** Bytes of a streamed request body not yet read from the socket. */
  #bodyLeft = 0;
  /** A streamed body's read in flight. */
  #pull: Promise<void> | null = null;
  /** The request being served (its signal aborts when its body cannot be read). */
  #current: Request | null = null;

  /** Serves `conn`, reporting to `hooks`. */
  constructor(conn: Deno.Conn, hooks: PlainHooks) {
    this.#conn = conn;
    this.#hooks = hooks;
  }

  /** Waiting for the next request with none of it read: may be closed at once. */
  get waiting(): boolean {
    return this.#waiting;
  }

  /** Serves no further request: the connection ends after the response in flight. */
  finish(): void {
    this.#finishing = true;
  }

  /**
   * Serves requests until the connection ends (null; the caller closes it)
   * or a head comes that is not served here: then the bytes from that head
   * on, for the relay.
   */
  async run(): Promise<Uint8Array | null> {
    for (;;) {
      const head = await this.#nextHead();
      if (head === null) return null;
      if (head === NOT_MINE) return this.#buf.slice(this.#start, this.#end);
      const req = this.#request(head);
      this.#hooks.started();
      let res: Response;
      try {
        res = await this.#hooks.handle(req);
      } catch (error) {
        console.error("Unhandled server error", error);
        res = new Response("Internal error\n", { status: 500 });
      }
      let close = head.close || this.#finishing;
      try {
        const written = await writeResponse(this.#conn, res, head.method === "HEAD", close);
        close ||= written.close;
      } catch {
        this.#hooks.ended();
        return null;
      }
      this.#hooks.ended();
      // A body left unread stays in the socket: close rather than drain it.
      if (close || this.#finishing || this.#bodyLeft > 0) {
        await this.#linger();
        return null;
      }
    }
  }

  /** The next head: null when the client ended or failed first. */
  async #nextHead(): Promise<PlainHead | typeof NOT_MINE | null> {
    for (;;) {
      if (this.#start < this.#end) {
        const head = parsePlainHead(this.#buf, this.#start, this.#end);
        if (head !== null) return head;
      } else {
        this.#start = this.#end = 0;
        if (this.#finishing) return null;
      }
      this.#makeRoom();
      this.#waiting = this.#start === this.#end;
      let n: number | null;
      try {
        n = await this.#conn.read(this.#buf.subarray(this.#end));
      } catch {
        return null;
      } finally {
        this.#waiting = false;
      }
      if (n === null) return null;
      this.#end += n;
    }
  }

  #makeRoom(): void {
    if (this.#end < this.#buf.length) return;
    if (this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#end === this.#buf.length) {
      const grown = new Uint8Array(HEAD_ROOM);
      grown.set(this.#buf.subarray(0, this.#end));
      this.#buf = grown;
    }
  }

  /**
   * The `Request` for `head`, taking its body (whole when it has arrived,
   * else streamed from the socket).
   */
  #request(head: PlainHead): Request {
    const avail = this.#end - head.end;
    let body: Uint8Array | ReadableStream<Uint8Array> | null = null;
    let next = head.end;
    let left = 0;
    if (head.length > 0 && avail >= head.length) {
      next = head.end + head.length;
      body = this.#buf.slice(head.end, next);
    } else if (head.length > 0) {
      next = this.#end;
      left = head.length - avail;
      body = this.#stream(this.#buf.slice(head.end, this.#end));
    }
    const req = plainRequest({ method: head.method, url: head.url, headers: head.headers, body });
    if (body instanceof Uint8Array) {
      (req as Request & { [WHOLE_BODY]?: Uint8Array })[WHOLE_BODY] = body;
    }
    this.#start = next;
    this.#bodyLeft = left;
    this.#current = req;
    return req;
  }

  /** A request body: `first`, then what the socket brings, to its length. */
  #stream(first: Uint8Array): ReadableStream<Uint8Array> {
    return new ReadableStream({
      type: "bytes",
      start: (c) => {
        if (first.length > 0) c.enqueue(first);
      },
      pull: (c) => this.#pull = this.#pullBody(c),
    }, { highWaterMark: 0 });
  }

  async #pullBody(c: ReadableByteStreamController): Promise<void> {
    if (this.#bodyLeft === 0) {
      c.close();
      c.byobRequest?.respond(0);
      return;
    }
    const byob = c.byobRequest;
    const given = byob?.view;
    // Without a BYOB request, read into this connection's scratch buffer and hand out an exact
    // copy: a fresh 256 KiB buffer per read would leave 256 KiB of garbage for each socket read
    // (often 64 KiB), and V8 collects ArrayBuffers only once tens of MiB of them piled up.
    const view = given
      ? new Uint8Array(given.buffer, given.byteOffset, Math.min(given.byteLength, this.#bodyLeft))
      : (this.#scratch ??= new Uint8Array(BODY_CHUNK)).subarray(
        0,
        Math.min(this.#bodyLeft, BODY_CHUNK),
      );
    let n: number | null;
    try {
      n = await this.#conn.read(view);
    } catch (error) {
      this.#bodyFailed(c, error);
      return;
    }
    if (n === null) {
      this.#bodyFailed(c, new Error("Connection closed before the request body ended"));
      return;
    }
    this.#bodyLeft -= n;
    try {
      if (given) byob!.respond(n);
      else c.enqueue(view.slice(0, n));
      if (this.#bodyLeft === 0) c.close();
    } catch {
      // Cancelled meanwhile: the connection closes after the answer.
    }
  }

  #bodyFailed(c: ReadableByteStreamController, error: unknown): void {
    if (this.#current !== null) abortRequest(this.#current);
    c.error(error);
  }

  /**
   * Half-closes towards the client, then drops what it still sends until it
   * ends or a bound (as the relay's lingering close, `_pump.ts`): closing
   * with unread bytes would reset the connection and can destroy the answer.
   */
  async #linger(): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch {
      return;
    }
    const bound = deadline(LINGER_MS);
    const drain = (async () => {
      await this.#pull?.catch(() => {});
      const scratch = new Uint8Array(SMALL);
      for (let total = 0; total <= LINGER_BYTES;) {
        const n = await this.#conn.read(scratch).catch(() => null);
        if (n === null) return;
        total += n;
      }
    })();
    await Promise.race([drain, bound.promise]);
    bound.cancel();
  }
}
