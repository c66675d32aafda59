import assert from "node:assert/strict";
import type { PinnedFetch } from "../core/outbound.ts";
import { ssrfGuard } from "./destination.ts";
import { postBytes } from "./http_client.ts";

/** A pin factory that records what it was asked to pin. */
function recordingPin(): { pinned: string[]; pin: (a: string, p: number) => PinnedFetch } {
  const pinned: string[] = [];
  return {
    pinned,
    pin: (address, port) => {
      pinned.push(`${address}:${port}`);
      return { fetch: () => Promise.reject(new Error("not used")), close() {} };
    },
  };
}

Deno.test("the SSRF guard judges the address a name resolves to, and pins the one it checked", async () => {
  const { pinned, pin } = recordingPin();
  const answers: Record<string, string[]> = {
    "rebind.test": ["169.254.169.254"],
    "mixed.test": ["10.0.0.1", "93.184.216.34"],
    "public.test": ["93.184.216.34"],
    "inside.test": ["10.1.2.3"],
  };
  const refused: string[] = [];
  const guard = ssrfGuard({
    allow: ["10.1.0.0/16"],
    pin,
    resolve: (host) => Promise.resolve(answers[host] ?? []),
    onRefuse: (url) => refused.push(url.hostname),
  });
  const verdict = (u: string) => guard.route(new URL(u));
  assert.deepEqual(await verdict("http://rebind.test/r"), {
    ok: false,
    reason: "Refused by the SSRF guard: rebind.test resolves to 169.254.169.254 (metadata)",
  });
  assert.equal((await verdict("http://[::ffff:127.0.0.1]:8080/r")).ok, false);
  assert.equal((await verdict("http://nowhere.test/r")).ok, false);
  assert.ok((await verdict("http://mixed.test/r")).ok);
  assert.ok((await verdict("https://public.test/r")).ok);
  assert.ok((await verdict("http://inside.test:81/r")).ok);
  assert.ok((await verdict("http://[2606:4700::1]/r")).ok);
  assert.deepEqual(pinned, [
    "93.184.216.34:80",
    "93.184.216.34:443",
    "10.1.2.3:81",
    "2606:4700::1:80",
  ]);
  assert.deepEqual(refused, ["rebind.test", "[::ffff:7f00:1]", "nowhere.test"]);
});

Deno.test("a name look-up that never answers is bounded by the connect timeout", async () => {
  const guard = ssrfGuard({ pin: null, resolve: () => new Promise(() => {}) });
  const started = performance.now();
  const res = await postBytes("http://hangs.test/r", {
    headers: {},
    body: new Uint8Array(0),
    totalTimeoutMs: 5_000,
    connectTimeoutMs: 50,
    readIdleTimeoutMs: 1_000,
    maxResponseBytes: 8,
    guard,
  });
  assert.deepEqual(res, { ok: false, reason: "Connect timeout" });
  assert.ok(performance.now() - started < 1_000);
});
