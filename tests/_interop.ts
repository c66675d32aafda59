/**
 * One combination of the official Python client's interop suite
 * (tests/interop/*.py) against `cli.ts`, asserted by its result line.
 *
 * @module
 */

import { strict as assert } from "node:assert";
import { join } from "node:path";
import { INTEROP, ROOT, run, tail, venvPython } from "./_venv.ts";

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'"'"'`)}'`;
}

/**
 * Runs one combination of `script` (run_interop.py or run_interop_ws.py, with
 * `args`) and asserts its result line, `<label> TB/TS: PASS`. `env` reaches
 * the broadcasters (e.g. `LONELYPSS_POSTGRES_URL`).
 */
export async function combination(
  script: string,
  label: string,
  tb: string,
  ts: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<void> {
  const python = await venvPython();
  const ran = await run(python, [join(INTEROP, script), `${tb}/${ts}`, ...args], {
    // the same deno that runs this test runs the CLI
    LONELYPSS_INTEROP_DENO: shellQuote(Deno.execPath()),
    LONELYPSS_INTEROP_CLI: join(ROOT, "cli.ts"),
    LONELYPSS_INTEROP_TRACEBACK: "1",
    PYTHONUNBUFFERED: "1",
    PYTHONDONTWRITEBYTECODE: "1",
    ...env,
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
