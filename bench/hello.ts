/**
 * Bench ceiling for any route: a hello-world `Deno.serve` that answers every
 * request with a fixed 2-byte body, without reading the request body itself
 * (Deno.serve drains it). What a route costs beyond this is the route's own
 * work. Prints `LISTENING <port>`.
 *
 * Usage: deno run -A bench/hello.ts
 *
 * @module
 */

const server = Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`LISTENING ${port}`),
}, () => new Response("ok"));
Deno.addSignalListener("SIGTERM", () => server.shutdown());
await server.finished;
Deno.exit(0);
