/**
 * The pinned Python environment of the interop suites (`.venv/interop`, from
 * tests/interop/requirements.txt): created once, reused while a stamp file
 * holding the hash of the requirements and the Python version matches.
 *
 * Needs `python3` (3.11 or newer, with venv) on PATH; without it the suites
 * FAIL with a message saying so (CI installs it). They are never skipped.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** tests/interop: the Python side of the interop suites. */
export const INTEROP = join(ROOT, "tests", "interop");
const REQUIREMENTS = join(INTEROP, "requirements.txt");
const VENV = join(ROOT, ".venv", "interop");
const STAMP = join(VENV, "lonelypss-interop.stamp");
const WINDOWS = Deno.build.os === "windows";
const VENV_PYTHON = WINDOWS ? join(VENV, "Scripts", "python.exe") : join(VENV, "bin", "python");

/** What a finished process printed. */
export interface Ran {
  /** Exit code. */
  readonly code: number;
  /** Everything on stdout. */
  readonly stdout: string;
  /** Everything on stderr. */
  readonly stderr: string;
}

/** Runs `cmd args` in the repository root with only `env` (and no stdin) to completion. */
export async function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Ran> {
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

/** The last `lines` lines of `text`. */
export function tail(text: string, lines = 30): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}

/** Creates or reuses the venv; resolves to its python. */
async function createVenv(): Promise<string> {
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

/** The venv's python, creating the venv on first use (once per process). */
export function venvPython(): Promise<string> {
  venvReady ??= createVenv();
  return venvReady;
}
