/**
 * A raw HTTP/1.1 client over one TCP connection, for tests that misbehave on
 * purpose (slow headers, trickling bodies, idle connections): it records what
 * the server answered and when it closed the connection.
 *
 * @module
 */

/** A raw connection that records when the server closed it and what it answered. */
export class RawClient {
  /** The connection. */
  readonly conn: Deno.TcpConn;
  /** When it opened, epoch ms. */
  readonly opened = Date.now();
  /** Everything the server sent. */
  text = "";
  /** Resolves with the time the server closed the connection, ms after opening. */
  readonly closed: Promise<number>;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    this.closed = this.#read();
  }

  /** Connects to the port of `base` on 127.0.0.1. */
  static async open(base: string): Promise<RawClient> {
    const port = Number(new URL(base).port);
    return new RawClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  async #read(): Promise<number> {
    const buf = new Uint8Array(4096);
    const dec = new TextDecoder();
    try {
      for (;;) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        this.text += dec.decode(buf.subarray(0, n));
      }
    } catch {
      // Reset by the server: closed all the same.
    }
    return Date.now() - this.opened;
  }

  /** Writes, ignoring a connection the server already closed. */
  async write(bytes: Uint8Array): Promise<boolean> {
    try {
      await this.conn.write(bytes);
      return true;
    } catch {
      return false;
    }
  }

  /** Sends `bytes` `step` bytes every `everyMs` until the server closes or they run out. */
  async trickle(bytes: Uint8Array, step: number, everyMs: number): Promise<number> {
    let sent = 0;
    let open = true;
    void this.closed.then(() => open = false);
    while (open && sent < bytes.length) {
      if (!await this.write(bytes.subarray(sent, sent + step))) break;
      sent += step;
      await new Promise((r) => setTimeout(r, everyMs));
    }
    return sent;
  }

  /** Closes our end (idempotent). */
  close(): void {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** Resolves with `p`, or fails the test after `ms`. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
