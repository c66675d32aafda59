/**
 * One websocket subscription of this repository's client, for the bench's
 * delivered-messages row: prints `LISTENING 0` once subscribed (so
 * `startServer` can wait for it), then, on SIGTERM or after `expected`
 * messages, a JSON line `{"delivered", "seconds"}` (first to last delivery).
 *
 * Usage: deno run -A bench/client_ws_subscriber.ts <http url> <topic>
 *
 * @module
 */

import { connectWebsocket } from "../src/client/mod.ts";

const [url, topic] = Deno.args as [string, string];
const client = await connectWebsocket({
  broadcasters: [url.replace(/^http/, "ws") + "/v1/websocket"],
  queue: { maxMessages: 1_000_000 },
});
const sub = await client.subscribeExact(topic);
let delivered = 0;
let first = 0;
let last = 0;
const report = () => {
  console.log(JSON.stringify({ delivered, seconds: (last - first) / 1000 }));
};
Deno.addSignalListener("SIGTERM", () => {
  report();
  Deno.exit(0);
});
console.log("LISTENING 0");
for await (const m of sub) {
  await m.discard();
  last = performance.now();
  if (delivered++ === 0) first = last;
}
