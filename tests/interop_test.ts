/**
 * Interop suite: the official Python client (lonelypsc 0.0.17) against our
 * broadcaster, run through `cli.ts setup` and `cli.ts serve` for each of the
 * 9 auth combinations: the HTTP half (tests/interop/run_interop.py does the
 * driving), the websocket half (tests/interop/run_interop_ws.py, two
 * broadcasters on one SQLite file) and its zstd part (run_interop_ws.py
 * --compression on: tests/interop/ws_zstd_scenario.py).
 *
 * Needs `python3` on PATH; without it every combination FAILS (CI installs it).
 * The pinned requirements go into `.venv/interop` once (tests/_venv.ts).
 *
 * @module
 */

import { strict as assert } from "node:assert";
import { join } from "node:path";
import { INTEROP, ROOT, run, tail, venvPython } from "./_venv.ts";

const AUTHS = ["none", "token", "hmac"] as const;

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'"'"'`)}'`;
}

/**
 * Runs one combination of `script` (run_interop.py or run_interop_ws.py, with
 * `args`) and asserts its result line, `<label> TB/TS: PASS`.
 */
async function combination(
  script: string,
  label: string,
  tb: string,
  ts: string,
  args: string[] = [],
): Promise<void> {
  const python = await venvPython();
  const ran = await run(python, [join(INTEROP, script), `${tb}/${ts}`, ...args], {
    // the same deno that runs this test runs the CLI
    LONELYPSS_INTEROP_DENO: shellQuote(Deno.execPath()),
    LONELYPSS_INTEROP_CLI: join(ROOT, "cli.ts"),
    LONELYPSS_INTEROP_TRACEBACK: "1",
    PYTHONUNBUFFERED: "1",
    PYTHONDONTWRITEBYTECODE: "1",
  });
  const line = ran.stdout.split("\n").find((l) => l.startsWith(`${label} ${tb}/${ts}: `));
  console.log(line ?? `${label} ${tb}/${ts}: no result line`);
  assert.equal(
    line,
    `${label} ${tb}/${ts}: PASS`,
    `exit code ${ran.code}\n${tail(ran.stdout)}\n${tail(ran.stderr)}`,
  );
  assert.equal(ran.code, 0);
}

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
