/**
 * A websocket client over a raw TCP connection (RFC 6455 by hand), for tests
 * that need what a `WebSocket` cannot do: a client that truly never reads
 * (a `WebSocket` always drains the socket), so the broadcaster's sends back
 * up in the kernel and in its own buffers. It reads only when asked to, at
 * the end, to find out how the broadcaster closed.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { encodeS2B, type S2BMessage } from "../src/protocol/stateful/mod.ts";
import { concatBytes, indexOfCrlfCrlf } from "./_bytes.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** What {@link RawWsClient.drainUntilClose} found. */
export interface RawClosed {
  /** Close code of the broadcaster's close frame (1005 without one, 1006 if none came). */
  readonly code: number;
  /** Its reason. */
  readonly reason: string;
  /** Binary messages read before the close frame. */
  readonly messages: number;
  /** Bytes read after the handshake. */
  readonly bytes: number;
}

/** One hand-made websocket connection. */
export class RawWsClient implements AsyncDisposable {
  readonly #conn: Deno.TcpConn;
  /** Bytes read past the handshake response (the start of the first frames). */
  #pending: Uint8Array;
  #closed = false;

  private constructor(conn: Deno.TcpConn, pending: Uint8Array) {
    this.#conn = conn;
    this.#pending = pending;
  }

  /** Connects to `http://host:port…` and completes the upgrade at `/v1/websocket`. */
  static async connect(httpBase: string): Promise<RawWsClient> {
    const url = new URL(httpBase);
    const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
    try {
      const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
      const request = `GET ${url.pathname.replace(/\/$/, "")}/v1/websocket HTTP/1.1\r\n` +
        `Host: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
      await writeAll(conn, new TextEncoder().encode(request));
      let buf: Uint8Array = new Uint8Array(0);
      let end = -1;
      while ((end = indexOfCrlfCrlf(buf)) < 0) {
        const chunk = await readSome(conn);
        if (chunk === null) throw new Error("Connection closed during the handshake");
        buf = concatBytes(buf, chunk);
      }
      const head = new TextDecoder().decode(buf.subarray(0, end));
      const accept = createHash("sha1").update(key + GUID).digest("base64");
      if (!head.startsWith("HTTP/1.1 101")) throw new Error(`Upgrade refused: ${head}`);
      if (!new RegExp(`^sec-websocket-accept: *${escape(accept)}\\s*$`, "im").test(head)) {
        throw new Error(`Bad Sec-WebSocket-Accept: ${head}`);
      }
      return new RawWsClient(conn, buf.subarray(end + 4));
    } catch (error) {
      conn.close();
      throw error;
    }
  }

  /** Sends one masked frame (binary by default). */
  async sendFrame(payload: Uint8Array, opcode = 2): Promise<void> {
    await writeAll(this.#conn, maskedFrame(opcode, payload));
  }

  /** Sends one protocol message, minimal headers. */
  async send(msg: S2BMessage): Promise<void> {
    await this.sendFrame(encodeS2B(msg));
  }

  /** Reads the next binary message (for the replies before the client stops reading). */
  async next(ms = 10_000): Promise<Uint8Array> {
    const timer = setTimeout(() => this.#conn.close(), ms);
    try {
      for (;;) {
        const frame = parseFrame(this.#pending);
        if (frame !== null) {
          this.#pending = this.#pending.subarray(frame.size);
          if (frame.opcode === 8) throw new Error("Closed while waiting for a message");
          if (frame.opcode === 2 && frame.fin) return frame.payload;
          continue;
        }
        const chunk = await readSome(this.#conn);
        if (chunk === null) throw new Error("Connection ended while waiting for a message");
        this.#pending = concatBytes(this.#pending, chunk);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Reads (everything the broadcaster sent, from the start) until its close
   * frame or the end of the stream, whichever comes first, or `ms` elapses.
   */
  async drainUntilClose(ms = 10_000): Promise<RawClosed> {
    let buf = this.#pending;
    this.#pending = new Uint8Array(0);
    let messages = 0;
    let bytes = buf.length;
    const timer = setTimeout(() => this.#conn.close(), ms);
    try {
      for (;;) {
        const frame = parseFrame(buf);
        if (frame === null) {
          const chunk = await readSome(this.#conn);
          if (chunk === null) return { code: 1006, reason: "", messages, bytes };
          bytes += chunk.length;
          buf = concatBytes(buf, chunk);
          continue;
        }
        buf = buf.subarray(frame.size);
        if (frame.opcode === 8) {
          const p = frame.payload;
          const code = p.length >= 2 ? (p[0]! << 8) | p[1]! : 1005;
          return { code, reason: new TextDecoder().decode(p.subarray(2)), messages, bytes };
        }
        if (frame.opcode === 2 && frame.fin) messages++;
      }
    } catch (error) {
      if (error instanceof Deno.errors.BadResource) throw new Error("No close frame in time");
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drops the TCP connection (no close frame). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Closed by the drain timeout.
    }
  }

  /** @inheritdoc */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

interface Frame {
  readonly fin: boolean;
  readonly opcode: number;
  readonly payload: Uint8Array;
  /** Bytes the frame takes in the buffer. */
  readonly size: number;
}

/** One unmasked server frame from the start of `buf`, or null when incomplete. */
function parseFrame(buf: Uint8Array): Frame | null {
  if (buf.length < 2) return null;
  const fin = (buf[0]! & 0x80) !== 0;
  const opcode = buf[0]! & 0x0f;
  let len = buf[1]! & 0x7f;
  let at = 2;
  if (len === 126) {
    if (buf.length < 4) return null;
    len = (buf[2]! << 8) | buf[3]!;
    at = 4;
  } else if (len === 127) {
    if (buf.length < 10) return null;
    len = Number(new DataView(buf.buffer, buf.byteOffset + 2, 8).getBigUint64(0));
    at = 10;
  }
  if (buf.length < at + len) return null;
  return { fin, opcode, payload: buf.subarray(at, at + len), size: at + len };
}

/** A client frame: FIN set, masked with a random key (RFC 6455 §5.3). */
export function maskedFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + ext + 4 + len);
  out[0] = 0x80 | opcode;
  if (ext === 0) out[1] = 0x80 | len;
  else if (ext === 2) {
    out[1] = 0x80 | 126;
    out[2] = len >> 8;
    out[3] = len & 0xff;
  } else {
    out[1] = 0x80 | 127;
    new DataView(out.buffer, 2, 8).setBigUint64(0, BigInt(len));
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  out.set(mask, 2 + ext);
  const start = 2 + ext + 4;
  for (let i = 0; i < len; i++) out[start + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
}

async function readSome(conn: Deno.TcpConn): Promise<Uint8Array | null> {
  const buf = new Uint8Array(64 * 1024);
  const n = await conn.read(buf);
  return n === null ? null : buf.subarray(0, n);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
