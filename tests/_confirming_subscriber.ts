/**
 * A tiny subscriber for the CLI tests: records each RECEIVE (header fields and
 * message) and answers RESPONSE_CONFIRM_RECEIVE with the identifier echoed,
 * written out byte by byte so it does not depend on our encoder.
 *
 * @module
 */

import { parseReceiveHeader } from "../src/protocol/receive.ts";

/** One RECEIVE. */
export interface Received {
  /** Topic bytes. */
  readonly topic: Uint8Array;
  /** The identifier chosen by the broadcaster. */
  readonly identifier: Uint8Array;
  /** The message bytes. */
  readonly message: Uint8Array;
}

/** Listens on 127.0.0.1:0 until disposed. */
export class ConfirmingSubscriber implements AsyncDisposable {
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  /** Every RECEIVE so far, in order. */
  readonly received: Received[] = [];
  /** Resolvers waiting for a release (see {@link hold}). */
  #held: (() => void)[] = [];
  #holding = false;
  #arrived: (() => void)[] = [];

  /** Starts listening. */
  constructor() {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (req) => this.#handle(req),
    );
  }

  /** The RECEIVE url. */
  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}/receive`;
  }

  /** From now on, RECEIVEs are answered only after {@link release}. */
  hold(): void {
    this.#holding = true;
  }

  /** Answers every held RECEIVE (and stops holding). */
  release(): void {
    this.#holding = false;
    for (const go of this.#held) go();
    this.#held = [];
  }

  /** Resolves once a RECEIVE is being held. */
  waitForHeld(): Promise<void> {
    if (this.#held.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.#arrived.push(resolve));
  }

  async #handle(req: Request): Promise<Response> {
    const body = new Uint8Array(await req.arrayBuffer());
    const parsed = parseReceiveHeader(body);
    if (parsed === null) return new Response("Truncated RECEIVE\n", { status: 400 });
    const { header, headerLength } = parsed;
    this.received.push({
      topic: header.topic.slice(),
      identifier: header.identifier.slice(),
      message: body.slice(headerLength),
    });
    if (this.#holding) {
      await new Promise<void>((resolve) => {
        this.#held.push(resolve);
        for (const wake of this.#arrived) wake();
        this.#arrived = [];
      });
    }
    // type 8 (RESPONSE_CONFIRM_RECEIVE), no authorization, no tracing,
    // lp8 identifier, u32 number of subscribers = 1.
    const id = header.identifier;
    const answer = new Uint8Array([0, 8, 0, 0, 0, 0, id.length, ...id, 0, 0, 0, 1]);
    return new Response(answer, { headers: { "content-type": "application/octet-stream" } });
  }

  /** Stops listening. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
    await this.#server.shutdown();
  }
}
