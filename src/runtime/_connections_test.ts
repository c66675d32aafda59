import assert from "node:assert/strict";
import { AcceptErrors, ConnectionTable } from "./_connections.ts";
import type { Logger } from "../log.ts";

/** A table whose closes are recorded and reported back as done at once. */
function table(max: number, headersTimeoutMs = 60_000, keepAliveTimeoutMs = 60_000) {
  const closed: number[] = [];
  const t = new ConnectionTable({ max, headersTimeoutMs, keepAliveTimeoutMs });
  let next = 0;
  const add = () => {
    const id = next++;
    const close = () => {
      closed.push(id);
      conn.closed();
    };
    const conn = t.add({ close, finish: close });
    return conn;
  };
  return { t, add, closed };
}

Deno.test("ConnectionTable makes room by closing the longest-idle connection, never a busy one", () => {
  const { t, add, closed } = table(3);
  const [a, b, c] = [add(), add(), add()];
  b.requestStarted();
  a.requestStarted();
  a.requestEnded(); // idle again: now younger than c
  assert.equal(t.makeRoom(), false);
  assert.deepEqual(closed, [2], "c was idle longest");
  assert.equal(t.size, 2);
  assert.equal(t.makeRoom(), true);
  add();
  c.closed();
  b.upgraded();
  assert.equal(t.makeRoom(), false);
  assert.deepEqual(closed, [2, 0], "then a; the websocket b is never chosen");
  t.closeAll();
});

Deno.test("ConnectionTable closes a connection that sends no request, or idles after one", async () => {
  const { t, add, closed } = table(10, 30, 60);
  const silent = add();
  const served = add();
  served.requestStarted();
  served.requestEnded();
  const busy = add();
  busy.requestStarted();
  const deadline = Date.now() + 5_000;
  while (closed.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(closed.toSorted(), [0, 1]);
  assert.equal(silent.closing && served.closing, true);
  assert.equal(busy.closing, false, "a request in flight has no timer");
  t.closeAll();
});

Deno.test("ConnectionTable drain closes idle connections now and busy ones when their request ends", async () => {
  const { t, add, closed } = table(10);
  add();
  const busy = add();
  busy.requestStarted();
  const ws = add();
  ws.upgraded();
  const room = t.waitForRoom(new Promise(() => {}));
  await room;
  t.drain();
  assert.deepEqual(closed, [0]);
  busy.requestEnded();
  assert.deepEqual(closed, [0, 1]);
  t.closeHttp();
  assert.deepEqual(closed, [0, 1], "websockets close themselves");
  t.closeAll();
  assert.deepEqual(closed, [0, 1, 2]);
  assert.equal(t.size, 0);
});

Deno.test("ConnectionTable waitForRoom resolves once a connection has gone", async () => {
  const { t, add } = table(1);
  const only = add();
  only.requestStarted();
  let woken = false;
  const wait = t.waitForRoom(new Promise(() => {})).then(() => woken = true);
  await Promise.resolve();
  assert.equal(woken, false);
  only.closed();
  await wait;
  assert.equal(woken, true);
});

Deno.test("AcceptErrors backs off exponentially to 1 s and logs once per interval", () => {
  const lines: unknown[] = [];
  const log: Logger = {
    debug() {},
    info() {},
    warn: (msg, fields) => lines.push([msg, fields]),
    error() {},
  };
  const errors = new AcceptErrors(log, "Accepting connections", 60_000);
  const delays = Array.from({ length: 9 }, () => errors.failed(new Error("EMFILE")));
  assert.deepEqual(delays, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
  assert.equal(lines.length, 1);
  errors.succeeded();
  assert.equal(errors.failed(new Error("EMFILE")), 10);
  assert.equal(lines.length, 1);
});
