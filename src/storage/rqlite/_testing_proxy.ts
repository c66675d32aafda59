/**
 * Test helper: a TCP proxy in front of one rqlite node that counts requests
 * and can drop a response after the node has answered (a write applied whose
 * answer never arrives).
 *
 * @module
 */

/** A TCP proxy in front of one node that can break the connection after a request was answered. */
export interface BreakingProxy extends AsyncDisposable {
  /** The proxy's base url. */
  readonly url: string;
  /** The next response from the node is not passed on: both connections are closed instead. */
  breakNextResponse(): void;
  /** How many responses were dropped so far. */
  readonly broken: number;
  /** How many rqlite requests (`POST /db/…`) went through so far. */
  readonly requests: number;
}

/** Starts a {@link BreakingProxy} on a free 127.0.0.1 port in front of `target` (a base url). */
export function breakingProxy(target: string): BreakingProxy {
  const port = Number(new URL(target).port);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  let armed = 0;
  let broken = 0;
  let requests = 0;
  const POST = /POST \/db\//g;
  const close = (c: Deno.Conn) => {
    if (conns.delete(c)) {
      try {
        c.close();
      } catch {
        // Already closed.
      }
    }
  };
  const pump = async (from: Deno.Conn, to: Deno.Conn, mayBreak: boolean) => {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        if (!mayBreak) {
          requests += (new TextDecoder().decode(buf.subarray(0, n)).match(POST) ?? []).length;
        }
        if (mayBreak && armed > 0) {
          armed--;
          broken++;
          break;
        }
        let off = 0;
        while (off < n) off += await to.write(buf.subarray(off, n));
      }
    } catch {
      // The other side closed.
    } finally {
      close(to);
      close(from);
    }
  };
  const handle = async (client: Deno.Conn) => {
    conns.add(client);
    let server: Deno.Conn;
    try {
      server = await Deno.connect({ hostname: "127.0.0.1", port });
    } catch {
      close(client);
      return;
    }
    conns.add(server);
    await Promise.all([pump(client, server, false), pump(server, client, true)]);
  };
  const accepting = (async () => {
    try {
      for await (const client of listener) {
        const task = handle(client).finally(() => tasks.delete(task));
        tasks.add(task);
      }
    } catch {
      // Listener closed.
    }
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    breakNextResponse() {
      armed++;
    },
    get broken() {
      return broken;
    },
    get requests() {
      return requests;
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      for (const c of [...conns]) close(c);
      await Promise.all([...tasks]);
    },
  };
}
