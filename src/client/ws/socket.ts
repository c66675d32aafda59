/**
 * One websocket to a broadcaster, reduced to what the protocol needs:
 * ordered sends whose frames are built (counter consumed, authorization
 * signed) in wire order, a FIFO of expected acknowledgements, and one
 * failure that ends everything waiting on the connection.
 *
 * @module
 */

import { type B2SMessage, parseB2S } from "../../protocol/stateful/mod.ts";
import { ClientError } from "../errors.ts";

/** The connection is gone; an operation on it may be replayed on the next one. */
export class ConnectionLost extends ClientError {
  /** With the reason. */
  constructor(message: string, options?: ErrorOptions) {
    super("unavailable", message, options);
    this.name = "ConnectionLost";
  }
}

interface Expected {
  readonly type: B2SMessage["type"];
  readonly check: (m: B2SMessage) => boolean;
  readonly resolve: (m: B2SMessage) => void;
  readonly reject: (e: unknown) => void;
}

/** The framed, ordered side of one websocket. */
export class FrameSocket {
  readonly url: string;
  readonly #socket: WebSocket;
  #sendChain: Promise<void> = Promise.resolve();
  #inChain: Promise<void> = Promise.resolve();
  readonly #expected: Expected[] = [];
  #failure: ClientError | null = null;
  readonly #gone: Promise<void>;
  /** Resolves with the reason once the connection has failed or closed. */
  readonly failed: Promise<ClientError>;
  #resolveFailed!: (e: ClientError) => void;
  /** Handles every frame in arrival order (set before the socket opens). */
  onFrame: (m: B2SMessage) => Promise<void> = () => Promise.resolve();

  /** Opens `url`; resolves once open. */
  static async open(url: string): Promise<FrameSocket> {
    const s = new FrameSocket(url);
    await new Promise<void>((resolve, reject) => {
      if (s.#socket.readyState === WebSocket.OPEN) return resolve();
      s.#socket.addEventListener("open", () => resolve(), { once: true });
      s.failed.then((e) => reject(e));
    });
    return s;
  }

  private constructor(url: string) {
    this.url = url;
    this.failed = new Promise((r) => (this.#resolveFailed = r));
    let socket: WebSocket;
    try {
      socket = new WebSocket(url);
    } catch (e) {
      throw new ClientError("invalid", `Invalid websocket url: ${url}`, { cause: e });
    }
    socket.binaryType = "arraybuffer";
    this.#socket = socket;
    this.#gone = new Promise((resolve) => {
      socket.addEventListener("close", (e) => {
        this.fail(
          new ConnectionLost(
            `Connection to ${url} closed (${e.code}${e.reason ? ` ${e.reason}` : ""})`,
          ),
        );
        resolve();
      });
    });
    socket.addEventListener(
      "error",
      () => this.fail(new ConnectionLost(`Connection to ${url} failed`)),
    );
    socket.addEventListener("message", (e: MessageEvent) => {
      if (typeof e.data === "string") {
        this.fail(new ClientError("protocol", "Text frame from the broadcaster"));
        return;
      }
      const frame = new Uint8Array(e.data as ArrayBuffer);
      this.#inChain = this.#inChain.then(async () => {
        if (this.#failure !== null) return;
        let msg: B2SMessage;
        try {
          msg = parseB2S(frame);
        } catch (err) {
          throw new ClientError("protocol", `Malformed frame: ${(err as Error).message}`);
        }
        await this.onFrame(msg);
      }).catch((err) => this.fail(asClientError(err)));
    });
  }

  /** Whether the connection has failed. */
  get failure(): ClientError | null {
    return this.#failure;
  }

  /**
   * Builds and sends one frame after every earlier one; when `expect` is
   * given, registers it as the next acknowledgement due.
   */
  send(
    build: () => Promise<Uint8Array> | Uint8Array,
    expect?: Omit<Expected, "resolve" | "reject">,
  ): Promise<B2SMessage | null> {
    return new Promise<B2SMessage | null>((resolve, reject) => {
      const step = this.#sendChain.then(async () => {
        if (this.#failure !== null) throw this.#failure;
        const frame = await build();
        if (this.#failure !== null) throw this.#failure;
        if (expect) this.#expected.push({ ...expect, resolve, reject });
        this.#socket.send(frame as Uint8Array<ArrayBuffer>);
        if (!expect) resolve(null);
      });
      this.#sendChain = step.catch((e) => {
        reject(e);
        this.fail(asClientError(e));
      });
    });
  }

  /** Matches an acknowledgement against the head of the FIFO. */
  acknowledge(m: B2SMessage): void {
    const head = this.#expected[0];
    if (head === undefined || head.type !== m.type || !head.check(m)) {
      throw new ClientError(
        "protocol",
        `Unexpected ${m.type}${head ? `, expected ${head.type}` : ""}`,
      );
    }
    this.#expected.shift();
    head.resolve(m);
  }

  /** Ends the connection with `e` (the first failure wins); everything waiting is rejected. */
  fail(e: ClientError): void {
    if (this.#failure !== null) return;
    this.#failure = e;
    for (const x of this.#expected.splice(0)) {
      x.reject(e instanceof ConnectionLost ? e : new ConnectionLost(e.message, { cause: e }));
    }
    if (
      this.#socket.readyState === WebSocket.OPEN || this.#socket.readyState === WebSocket.CONNECTING
    ) {
      try {
        this.#socket.close(1000);
      } catch {
        // already closing
      }
    }
    this.#resolveFailed(e);
  }

  /** Closes and waits until the socket is released. */
  async close(reason: ClientError): Promise<void> {
    this.fail(reason);
    await this.#gone;
    await this.#inChain;
  }
}

function asClientError(e: unknown): ClientError {
  return e instanceof ClientError
    ? e
    : new ClientError("protocol", (e as Error)?.message ?? String(e), { cause: e });
}
