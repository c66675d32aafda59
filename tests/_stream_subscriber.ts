/**
 * A raw-socket RECEIVE subscriber for the streaming tests: it sees a delivery byte by byte as it
 * arrives (so a test can tell that a delivery started before the notify's body ended), can stop
 * reading (a slow subscriber), tells a request that completed from one that broke off before
 * its Content-Length, and answers a whole RECEIVE with RESPONSE_CONFIRM_RECEIVE.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import { encodeResponseConfirmReceive, parseReceiveHeader } from "../src/protocol/receive.ts";
import { concatBytes, indexOfCrlfCrlf } from "./_bytes.ts";

/** How one request ended. */
export interface Ended {
  /** The whole Content-Length arrived (and was answered). */
  readonly complete: boolean;
  /** Body bytes that arrived. */
  readonly received: number;
  /** SHA-512 (hex) of the message after the RECEIVE header, when complete. */
  readonly sha512: string | null;
}

/** One request as it arrives. */
export class Delivery {
  /** The request path. */
  readonly path: string;
  /** Its Content-Length. */
  readonly contentLength: number;
  /** Body bytes so far. */
  received = 0;
  readonly #ended = Promise.withResolvers<Ended>();
  #waiters: { bytes: number; resolve: () => void }[] = [];

  constructor(path: string, contentLength: number) {
    this.path = path;
    this.contentLength = contentLength;
  }

  /** Resolves once the request ended, completely or not. */
  get ended(): Promise<Ended> {
    return this.#ended.promise;
  }

  /** Resolves once at least `bytes` body bytes arrived (rejects if it ends short of them). */
  reached(bytes: number): Promise<void> {
    if (this.received >= bytes) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.push({ bytes, resolve });
    return Promise.race([
      promise,
      this.ended.then((e) => {
        if (e.received < bytes) throw new Error(`${this.path} ended at ${e.received} bytes`);
      }),
    ]);
  }

  /** More body bytes arrived. */
  grew(n: number): void {
    this.received += n;
    this.#waiters = this.#waiters.filter((w) => {
      if (this.received < w.bytes) return true;
      w.resolve();
      return false;
    });
  }

  /** The request ended. */
  end(ended: Ended): void {
    this.#ended.resolve(ended);
  }
}

/** A listener on 127.0.0.1:0 taking RECEIVEs over raw sockets. */
export class StreamSubscriber implements AsyncDisposable {
  readonly #listener: Deno.TcpListener;
  readonly #conns = new Set<Deno.TcpConn>();
  readonly #tasks: Promise<void>[] = [];
  readonly #deliveries: Delivery[] = [];
  #arrivals: (() => void)[] = [];
  #paused: PromiseWithResolvers<void> | null = null;

  constructor() {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#tasks.push(this.#accept());
  }

  /** The url of `path` here. */
  url(path: string): string {
    return `http://127.0.0.1:${this.#listener.addr.port}${path}`;
  }

  /** Every request so far, in arrival order. */
  get deliveries(): readonly Delivery[] {
    return this.#deliveries;
  }

  /** Resolves once `n` requests have started arriving. */
  async started(n: number): Promise<readonly Delivery[]> {
    while (this.#deliveries.length < n) {
      await new Promise<void>((resolve) => this.#arrivals.push(resolve));
    }
    return this.#deliveries;
  }

  /** Stops reading from every connection (the socket buffers fill, the sender blocks). */
  pause(): void {
    this.#paused ??= Promise.withResolvers();
  }

  /** Reads again. */
  resume(): void {
    this.#paused?.resolve();
    this.#paused = null;
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.#conns.add(conn);
        this.#tasks.push(this.#serve(conn).finally(() => this.#conns.delete(conn)));
      }
    } catch {
      // The listener was closed.
    }
  }

  async #serve(conn: Deno.TcpConn): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    let pending: Uint8Array = new Uint8Array(0);
    let request: Request1 | null = null;
    try {
      for (;;) {
        if (this.#paused !== null) await this.#paused.promise;
        const n = await conn.read(buf);
        if (n === null) break;
        let data = buf.subarray(0, n);
        while (data.length > 0) {
          if (request === null) {
            pending = concatBytes(pending, data);
            const end = indexOfCrlfCrlf(pending);
            if (end < 0) break;
            const head = new TextDecoder().decode(pending.subarray(0, end));
            data = pending.slice(end + 4);
            pending = new Uint8Array(0);
            request = this.#start(head);
            continue;
          }
          const used = request.take(data);
          data = data.subarray(used);
          if (request.done) {
            await conn.write(request.answer());
            request = null;
          }
        }
      }
    } catch {
      // Reset by the broadcaster: the request (if any) broke off.
    } finally {
      request?.broke();
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  }

  #start(head: string): Request1 {
    const [line, ...fields] = head.split("\r\n");
    const path = line!.split(" ")[1]!;
    const length = fields.map((f) => /^content-length:\s*(\d+)$/i.exec(f)).find((m) => m);
    if (!length) throw new Error(`No Content-Length in ${JSON.stringify(head)}`);
    const delivery = new Delivery(path, Number(length[1]));
    this.#deliveries.push(delivery);
    for (const wake of this.#arrivals.splice(0)) wake();
    return new Request1(delivery);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.resume();
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    await Promise.allSettled(this.#tasks);
  }
}

/** One request's body as it comes: the RECEIVE header, then the message hashed. */
class Request1 {
  readonly #delivery: Delivery;
  #head: Uint8Array = new Uint8Array(0);
  #identifier: Uint8Array | null = null;
  readonly #hash: Hash = createHash("sha512");

  constructor(delivery: Delivery) {
    this.#delivery = delivery;
  }

  get done(): boolean {
    return this.#delivery.received === this.#delivery.contentLength;
  }

  /** Takes what belongs to this body; returns how many bytes of `data` it used. */
  take(data: Uint8Array): number {
    const d = this.#delivery;
    const used = Math.min(data.length, d.contentLength - d.received);
    let piece = data.subarray(0, used);
    if (this.#identifier === null) {
      this.#head = concatBytes(this.#head, piece);
      const parsed = parseReceiveHeader(this.#head);
      piece = new Uint8Array(0);
      if (parsed !== null) {
        this.#identifier = parsed.header.identifier;
        piece = this.#head.subarray(parsed.headerLength);
      }
    }
    if (piece.length > 0) this.#hash.update(piece);
    d.grew(used);
    return used;
  }

  /** The HTTP answer to a complete RECEIVE (and records it). */
  answer(): Uint8Array {
    const body = encodeResponseConfirmReceive({
      authorization: null,
      tracing: new Uint8Array(0),
      identifier: this.#identifier ?? new Uint8Array(0),
      numSubscribers: 1,
    });
    this.#delivery.end({
      complete: true,
      received: this.#delivery.received,
      sha512: this.#hash.digest("hex"),
    });
    const head = new TextEncoder().encode(
      `HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: ${body.length}\r\n\r\n`,
    );
    return concatBytes(head, body);
  }

  /** The connection ended before the body did. */
  broke(): void {
    this.#delivery.end({ complete: false, received: this.#delivery.received, sha512: null });
  }
}
