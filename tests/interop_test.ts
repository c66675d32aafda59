/**
 * Interop suite: the official Python client (lonelypsc 0.0.17) against our
 * broadcaster, run through `cli.ts setup` and `cli.ts serve` for each of the
 * 9 auth combinations: the HTTP half (tests/interop/run_interop.py does the
 * driving) and the websocket half (tests/interop/run_interop_ws.py, two
 * broadcasters on one SQLite file).
 *
 * Needs `python3` on PATH; without it every combination FAILS (CI installs it).
 * The pinned requirements go into `.venv/interop` once; a stamp file holding
 * the hash of the requirements and the Python version decides when to rebuild.
 *
 * @module
 */

import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const INTEROP = join(ROOT, "tests", "interop");
const REQUIREMENTS = join(INTEROP, "requirements.txt");
const VENV = join(ROOT, ".venv", "interop");
const STAMP = join(VENV, "lonelypss-interop.stamp");
const WINDOWS = Deno.build.os === "windows";
const VENV_PYTHON = WINDOWS ? join(VENV, "Scripts", "python.exe") : join(VENV, "bin", "python");
const AUTHS = ["none", "token", "hmac"] as const;

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Ran> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

const NEEDS_PYTHON = "Interop suite needs python3 (3.11 or newer, with venv) on PATH: install " +
  "it, e.g. apt-get install python3 python3-venv; the suite is never skipped";

/** The python command and its `--version` text. */
async function findPython(): Promise<[string, string]> {
  for (const candidate of WINDOWS ? ["python3", "python", "py"] : ["python3"]) {
    let ran: Ran;
    try {
      ran = await run(candidate, ["--version"]);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw e;
    }
    const version = (ran.stdout + ran.stderr).trim();
    const match = /^Python 3\.(\d+)\./.exec(version);
    if (ran.code !== 0 || match === null) continue;
    // the pinned fastapi, starlette and multidict need 3.11
    if (Number(match[1]) < 11) throw new Error(`${NEEDS_PYTHON}: found ${version}`);
    return [candidate, version];
  }
  throw new Error(NEEDS_PYTHON);
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return null;
  }
}

function tail(text: string, lines = 30): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}

/** Creates or reuses the venv; resolves to its python. */
async function prepareVenv(): Promise<string> {
  const [python, version] = await findPython();
  const stamp = createHash("sha256")
    .update(await readFile(REQUIREMENTS))
    .update(version)
    .digest("hex");
  if ((await readText(STAMP))?.trim() === stamp) return VENV_PYTHON;
  // --clear: a half-built or outdated venv is rebuilt from scratch
  const venv = await run(python, ["-m", "venv", "--clear", VENV]);
  if (venv.code !== 0) {
    throw new Error(`Cannot create ${VENV} (is python3-venv installed?): ${tail(venv.stderr)}`);
  }
  const pip = await run(VENV_PYTHON, [
    "-m",
    "pip",
    "install",
    "--disable-pip-version-check",
    "--no-input",
    "--quiet",
    "-r",
    REQUIREMENTS,
  ]);
  if (pip.code !== 0) {
    throw new Error(`pip install -r ${REQUIREMENTS} failed: ${tail(pip.stdout + pip.stderr)}`);
  }
  await writeFile(STAMP, stamp + "\n");
  return VENV_PYTHON;
}

let venvReady: Promise<string> | undefined;

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'"'"'`)}'`;
}

/**
 * Runs one combination of `script` (run_interop.py or run_interop_ws.py) and
 * asserts its result line, `<label> TB/TS: PASS`.
 */
async function combination(script: string, label: string, tb: string, ts: string): Promise<void> {
  venvReady ??= prepareVenv();
  const python = await venvReady;
  const ran = await run(python, [join(INTEROP, script), `${tb}/${ts}`], {
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
