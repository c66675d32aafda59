/**
 * Interop suite: the official Python client (lonelypsc 0.0.17) against our
 * broadcaster, run through `cli.ts setup` and `cli.ts serve` for each of the
 * 9 auth combinations: the HTTP half (tests/interop/run_interop.py does the
 * driving), the websocket half (tests/interop/run_interop_ws.py, two
 * broadcasters on one SQLite file) and its zstd part (run_interop_ws.py
 * --compression on: tests/interop/ws_zstd_scenario.py), and a stress run
 * (tests/interop/run_interop_stress.py: two clients in two processes, zstd and
 * training on, hmac both ways, thousands of awaited notifies, every message in
 * order on one connection each).
 *
 * Needs `python3` on PATH; without it every combination FAILS (CI installs it).
 * The pinned requirements go into `.venv/interop` once (tests/_venv.ts).
 *
 * @module
 */

import { combination } from "./_interop.ts";

const AUTHS = ["none", "token", "hmac"] as const;

for (const tb of AUTHS) {
  for (const ts of AUTHS) {
    Deno.test(`interop: lonelypsc 0.0.17 against cli.ts, auth ${tb}/${ts}`, async () => {
      await combination("run_interop.py", "interop", tb, ts);
    });
  }
}

// The websocket half (run_interop_ws.py): WebsocketPubSubClient against two
// `cli.ts serve` processes sharing one SQLite file. Alone:
//   deno test -A tests/interop_test.ts --filter "interop ws"
for (const tb of AUTHS) {
  for (const ts of AUTHS) {
    Deno.test(`interop ws: lonelypsc 0.0.17 websocket against cli.ts, auth ${tb}/${ts}`, async () => {
      await combination("run_interop_ws.py", "interop ws", tb, ts);
    });
  }
}

// zstd on the websocket (run_interop_ws.py --compression on): clients with
// compression on against one `cli.ts serve` with a preset and small training
// watermarks; compressor ids checked on the wire. Alone:
//   deno test -A tests/interop_test.ts --filter "interop ws zstd"
for (const tb of AUTHS) {
  for (const ts of AUTHS) {
    Deno.test(`interop ws zstd: lonelypsc 0.0.17 websocket with zstd against cli.ts, auth ${tb}/${ts}`, async () => {
      await combination("run_interop_ws.py", "interop ws zstd", tb, ts, ["--compression", "on"]);
    });
  }
}

// The shape of the reference suite's trained-compression stress test: a
// subscriber and a notifier, each an official websocket client in its own
// process, zstd and training on, hmac both ways; 4 payload kinds × 2,000
// awaited notifies, each checked to arrive in order, on one connection each.
// Alone:
//   deno test -A tests/interop_test.ts --filter "interop stress"
Deno.test("interop stress: lonelypsc 0.0.17 notifier and subscriber processes, zstd + training, hmac/hmac", async () => {
  await combination("run_interop_stress.py", "interop stress", "hmac", "hmac");
});
