/**
 * Relays one client connection to the internal server, for the Deno
 * adapter's front (see `deno.ts`), both directions at once. An idle
 * connection holds small buffers; one moving bulk data grows them, so a
 * notify of a GiB crosses in large reads.
 *
 * Requests pass through {@link RequestFraming}: a head over the limit is
 * never passed on; once the server has answered what came before it, the
 * client gets 414 or 431 from here.
 *
 * When the server ends its side while the client is still sending (an
 * early answer: 401 before the body, 413, `connection: close`), the client
 * is not reset: closing a socket with unread bytes sends a TCP reset, which
 * fails the client's writes and can destroy the answer before it is read.
 * Instead the relay closes gracefully, as nginx's lingering close does: it
 * half-closes towards the client (the answer is followed by the end of the
 * stream), then reads and drops what the client still sends, until the
 * client ends too or {@link LINGER_MS} / {@link LINGER_BYTES} run out.
 *
 * @module
 */

import { deadline } from "../deadline.ts";
import { RequestFraming } from "./_framing.ts";

const SMALL = 16 * 1024;
const LARGE = 256 * 1024;

/** Longest a lingering close waits for the client to stop sending, ms. */
export const LINGER_MS = 2_000;
/** Most bytes a lingering close reads (and drops) before closing anyway. */
export const LINGER_BYTES = 64 * 1024 * 1024;

const REASONS = {
  414: ["URI Too Long", "Request line (URL) longer than the limit of 16384 bytes"],
  431: [
    "Request Header Fields Too Large",
    "Request header fields longer than the limit of 49152 bytes",
  ],
} as const;

/** One client connection relayed to the internal server. */
export class Relay {
  readonly #client: Deno.Conn;
  readonly #upstream: Deno.Conn;
  readonly #framing = new RequestFraming();
  readonly #onRefused: (status: 414 | 431) => void;
  /** Client bytes still go to the server (false once finishing, refused, or the server ended). */
  #forwarding = true;
  #refused: 414 | 431 | null = null;
  #lingerBytes = 0;
  #lingerDone: (() => void) | null = null;
  #first: Uint8Array | null;

  /**
   * Relays `client` to `upstream`, starting with `first` (bytes the client
   * sent that were read already); `onRefused` hears of each head refused
   * here.
   */
  constructor(
    client: Deno.Conn,
    upstream: Deno.Conn,
    onRefused: (status: 414 | 431) => void,
    first: Uint8Array | null = null,
  ) {
    this.#client = client;
    this.#upstream = upstream;
    this.#onRefused = onRefused;
    this.#first = first;
  }

  /**
   * Passes no further request on: the server answers what it has, ends its
   * side, and the client is then closed gracefully.
   */
  finish(): void {
    this.#stopForwarding();
  }

  /**
   * Relays until both sides are done. Resolves (never rejects) once the
   * connection may be closed; the caller closes both sockets.
   */
  async run(): Promise<void> {
    const fromClient = this.#fromClient();
    const fromServer = this.#fromServer();
    const first = await Promise.race([
      fromServer.then((ok) => ok ? "served" : "failed"),
      fromClient.then((ok) => ok ? "client ended" : "failed"),
    ]);
    // A failure (a reset, a socket closed under us) ends it all: the caller closes.
    if (first === "failed") return;
    // The client sent everything and half-closed: its answers are still coming.
    if (first === "client ended" && !await fromServer) return;
    if (this.#refused !== null && !await this.#answerRefusal(this.#refused)) return;
    await this.#linger(fromClient);
  }

  /** Client to server; false when the client failed (reset, or closed under us). */
  async #fromClient(): Promise<boolean> {
    if (this.#first !== null && this.#first.length > 0) await this.#forward(this.#first);
    this.#first = null;
    let buf = new Uint8Array(SMALL);
    for (;;) {
      let n: number | null;
      try {
        n = await this.#client.read(buf);
      } catch {
        return false;
      }
      if (n === null) {
        this.#stopForwarding();
        this.#lingerDone?.();
        return true;
      }
      if (this.#forwarding) await this.#forward(buf.subarray(0, n));
      else if ((this.#lingerBytes += n) > LINGER_BYTES) this.#lingerDone?.();
      if (n === buf.length && buf.length < LARGE) buf = new Uint8Array(LARGE);
    }
  }

  async #forward(bytes: Uint8Array): Promise<void> {
    const step = this.#framing.push(bytes);
    try {
      for (const part of step.forward) {
        let written = 0;
        while (written < part.length) written += await this.#upstream.write(part.subarray(written));
      }
    } catch {
      // The server ended its side (it answered early): the rest is dropped.
      this.#forwarding = false;
    }
    if (step.refuse !== null) {
      this.#refused = step.refuse;
      this.#onRefused(step.refuse);
      this.#stopForwarding();
    }
    // The server sees the body end there, and answers it (400).
    if (step.malformed) this.#stopForwarding();
  }

  /** Server to client until the server ends; false when either failed. */
  async #fromServer(): Promise<boolean> {
    let buf = new Uint8Array(SMALL);
    try {
      for (;;) {
        const n = await this.#upstream.read(buf);
        if (n === null) break;
        let written = 0;
        while (written < n) written += await this.#client.write(buf.subarray(written, n));
        if (n === buf.length && buf.length < LARGE) buf = new Uint8Array(LARGE);
      }
    } catch {
      return false;
    }
    this.#forwarding = false;
    return true;
  }

  async #answerRefusal(status: 414 | 431): Promise<boolean> {
    const [phrase, reason] = REASONS[status];
    const body = reason + "\n";
    const text = `HTTP/1.1 ${status} ${phrase}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`;
    const bytes = new TextEncoder().encode(text);
    try {
      let written = 0;
      while (written < bytes.length) written += await this.#client.write(bytes.subarray(written));
      return true;
    } catch {
      return false;
    }
  }

  /** Half-closes towards the client, then drops what it sends until it ends, or a bound. */
  async #linger(fromClient: Promise<boolean>): Promise<void> {
    try {
      await this.#client.closeWrite();
    } catch {
      return;
    }
    if (this.#lingerBytes > LINGER_BYTES) return;
    const bound = deadline(LINGER_MS);
    const enough = new Promise<void>((resolve) => this.#lingerDone = resolve);
    await Promise.race([fromClient, bound.promise, enough]);
    bound.cancel();
  }

  #stopForwarding(): void {
    if (!this.#forwarding) return;
    this.#forwarding = false;
    this.#upstream.closeWrite().catch(() => {});
  }
}
