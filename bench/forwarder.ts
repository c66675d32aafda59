/**
 * Bench ceiling for one hop: accepts any POST, forwards its body unchanged to
 * `--target` with `fetch`, and returns the target's answer. No parsing, no
 * hashing, no storage: the least a broadcaster must do for notify → 1.
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

const server = Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`LISTENING ${port}`),
}, async (req) => {
  const body = await req.arrayBuffer();
  const res = await fetch(target, {
    method: "POST",
    body,
    headers: { "content-type": "application/octet-stream" },
  });
  return new Response(await res.arrayBuffer(), {
    status: res.status,
    headers: { "content-type": "application/octet-stream" },
  });
});
Deno.addSignalListener("SIGTERM", () => server.shutdown());
await server.finished;
Deno.exit(0);
