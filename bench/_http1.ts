/**
 * A minimal keep-alive HTTP/1.1 client over one TCP connection, for the load
 * generator. Why not `fetch`: it leaves Nagle's algorithm on and writes the
 * headers and the body separately, which against uvicorn stalls every request
 * on a delayed ACK (~40 ms; the Python client, aiohttp, sets TCP_NODELAY); it
 * also costs more CPU per request than this. Each request goes out as one
 * write (or the head then the streamed body), with Content-Length; responses
 * with Content-Length or chunked bodies are read whole.
 *
 * @module
 */

const enc = new TextEncoder();
const dec = new TextDecoder();
const CRLFCRLF = [13, 10, 13, 10];

/** A response as read. */
export interface Http1Response {
  readonly status: number;
  readonly body: Uint8Array;
}

/** One keep-alive connection; requests on it are sequential. */
export class Http1Conn {
  readonly #host: string;
  readonly #port: number;
  #conn: Deno.TcpConn | null = null;
  #buf = new Uint8Array(0);

  /** A connection to `host:port`, opened on first use. */
  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }

  /** Sends a POST and reads the whole answer. */
  async post(
    path: string,
    headers: Readonly<Record<string, string>>,
    body: Uint8Array | Iterable<Uint8Array>,
    length?: number,
  ): Promise<Http1Response> {
    const conn = await this.#open();
    const size = body instanceof Uint8Array ? body.length : length;
    if (size === undefined) throw new Error("Missing length: streamed body");
    let head =
      `POST ${path} HTTP/1.1\r\nhost: ${this.#host}:${this.#port}\r\ncontent-length: ${size}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    const headBytes = enc.encode(head + "\r\n");
    try {
      if (body instanceof Uint8Array) {
        const all = new Uint8Array(headBytes.length + body.length);
        all.set(headBytes);
        all.set(body, headBytes.length);
        await writeAll(conn, all);
      } else {
        await writeAll(conn, headBytes);
        for (const chunk of body) await writeAll(conn, chunk);
      }
      return await this.#readResponse();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Closes the socket (the next request reconnects). */
  close(): void {
    try {
      this.#conn?.close();
    } catch { /* already closed */ }
    this.#conn = null;
    this.#buf = new Uint8Array(0);
  }

  async #open(): Promise<Deno.TcpConn> {
    if (this.#conn !== null) return this.#conn;
    const conn = await Deno.connect({ hostname: this.#host, port: this.#port });
    conn.setNoDelay(true);
    this.#conn = conn;
    return conn;
  }

  readonly #scratch = new Uint8Array(65536);

  async #fill(): Promise<void> {
    const chunk = this.#scratch;
    const n = await this.#conn!.read(chunk);
    if (n === null) throw new Error("Connection closed by peer");
    if (this.#buf.length === 0) {
      this.#buf = chunk.slice(0, n);
      return;
    }
    const joined = new Uint8Array(this.#buf.length + n);
    joined.set(this.#buf);
    joined.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = joined;
  }

  async #take(n: number): Promise<Uint8Array> {
    while (this.#buf.length < n) await this.#fill();
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  async #line(): Promise<string> {
    for (;;) {
      const i = this.#buf.indexOf(10);
      if (i >= 0) return dec.decode(await this.#take(i + 1)).trimEnd();
      await this.#fill();
    }
  }

  async #readResponse(): Promise<Http1Response> {
    let end: number;
    while ((end = indexOf(this.#buf, CRLFCRLF)) < 0) await this.#fill();
    const head = dec.decode(await this.#take(end + 4)).split("\r\n");
    const status = Number(head[0]!.split(" ")[1]);
    const h = new Map<string, string>();
    for (const line of head.slice(1)) {
      const c = line.indexOf(":");
      if (c > 0) h.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim());
    }
    let body: Uint8Array;
    if (h.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
      const parts: Uint8Array[] = [];
      for (;;) {
        const n = parseInt(await this.#line(), 16);
        if (n === 0) {
          while ((await this.#line()) !== "") { /* trailers */ }
          break;
        }
        parts.push(await this.#take(n));
        await this.#take(2);
      }
      body = concat(parts);
    } else {
      body = await this.#take(Number(h.get("content-length") ?? "0"));
    }
    if (h.get("connection")?.toLowerCase() === "close") this.close();
    return { status, body };
  }
}

async function writeAll(conn: Deno.TcpConn, b: Uint8Array): Promise<void> {
  let off = 0;
  while (off < b.length) off += await conn.write(b.subarray(off));
}

function indexOf(hay: Uint8Array, needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
