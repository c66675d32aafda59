/**
 * Helpers shared by the outbound unit tests (test-only; nothing else imports it).
 *
 * @module
 */

/**
 * What a raw test server writes back to one request: a string (then it
 * reads the next request), `{ thenClose }` (then it closes), or null (it
 * closes without answering).
 */
export type RawAnswer = string | { thenClose: string } | null;

/**
 * A raw TCP server on 127.0.0.1 for the HTTP clients' tests: `answer(request
 * text, connection number, request number)` decides each reply (a request is
 * taken to fit in one read: tiny bodies on loopback). `fn` gets its url
 * (`/path`) and the count of connections accepted so far.
 */
export async function withRawServer(
  answer: (request: string, conn: number, n: number) => RawAnswer,
  fn: (url: string, connections: () => number) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  const handlers: Promise<void>[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      const c = ++connections;
      handlers.push((async () => {
        const buf = new Uint8Array(64 * 1024);
        let n = 0;
        try {
          for (;;) {
            const read = await conn.read(buf);
            if (read === null) break;
            const reply = answer(new TextDecoder().decode(buf.subarray(0, read)), c, ++n);
            if (reply === null) break;
            const bytes = typeof reply === "string" ? reply : reply.thenClose;
            await conn.write(new TextEncoder().encode(bytes));
            if (typeof reply !== "string") break;
          }
        } catch {
          // The client may reset or give up; either way this connection is done.
        } finally {
          conn.close();
        }
      })());
    }
  })();
  try {
    await fn(`http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/path`, () => connections);
  } finally {
    listener.close();
    await serving.catch(() => {});
    await Promise.all(handlers);
  }
}
