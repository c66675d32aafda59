/**
 * Bench ceiling for one hop: accepts any POST, forwards its body unchanged to
 * `--target` with `fetch` (bodies over 1 MiB streamed, not held), and returns
 * the target's answer. No parsing, no hashing, no storage: the least a
 * broadcaster must do for notify → 1.
 * Prints `LISTENING <port>`.
 *
 * Usage: deno run -A bench/forwarder.ts --target http://127.0.0.1:PORT/x
 *
 * @module
 */

import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { target: { type: "string" } } });
const target = values.target;
if (target === undefined) throw new Error("Missing option: --target");

const STREAM_ABOVE = 1024 * 1024;

const server = Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`LISTENING ${port}`),
}, async (req) => {
  // Small bodies are read whole (the cheapest way for a one-hop notify);
  // large ones are streamed through, as fast as fetch can (chunked).
  const declared = Number(req.headers.get("content-length") ?? NaN);
  const body = declared <= STREAM_ABOVE ? await req.arrayBuffer() : req.body;
  const res = await fetch(target, {
    method: "POST",
    body,
    headers: { "content-type": "application/octet-stream" },
    duplex: "half",
  } as RequestInit);
  return new Response(await res.arrayBuffer(), {
    status: res.status,
    headers: { "content-type": "application/octet-stream" },
  });
});
Deno.addSignalListener("SIGTERM", () => server.shutdown());
await server.finished;
Deno.exit(0);
