/**
 * Python processes for the client interop suite: the reference broadcaster
 * (lonelypss 0.0.11, bench/reference_server.py) and one-shot lonelypsc peers
 * (tests/interop/client_peer.py), all from the pinned interop venv.
 *
 * @module
 */

import { join } from "node:path";
import { INTEROP, ROOT, venvPython } from "./_venv.ts";

/** A running child whose stdout is read line by line. */
export interface PyChild extends AsyncDisposable {
  /** The next stdout line (rejects when the process ends first). */
  line(): Promise<string>;
  /** Waits for the exit; resolves to the code and stderr. */
  done(): Promise<{ code: number; stderr: string }>;
}

/** Spawns `python <script> …args` with cwd `cwd`. */
export async function spawnPython(script: string, args: string[], cwd = INTEROP): Promise<PyChild> {
  const python = await venvPython();
  const child = new Deno.Command(python, {
    args: [script, ...args],
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { PYTHONUNBUFFERED: "1" },
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const line = async (): Promise<string> => {
    for (;;) {
      const i = buf.indexOf("\n");
      if (i >= 0) {
        const l = buf.slice(0, i);
        buf = buf.slice(i + 1);
        return l;
      }
      const r = await reader.read();
      if (r.done) throw new Error(`${script} ended: ${(await stderr).slice(-2000)}`);
      buf += r.value;
    }
  };
  const done = async () => {
    const s = await status;
    await reader.cancel().catch(() => {});
    return { code: s.code, stderr: await stderr };
  };
  return {
    line,
    done,
    async [Symbol.asyncDispose]() {
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch {
          // already gone
        }
      }
      await done();
    },
  };
}

/** The reference broadcaster with hmac both ways; resolves once it listens. */
export async function startReference(
  s2b: string,
  b2s: string,
): Promise<{ url: string; child: PyChild }> {
  const child = await spawnPython(
    join(ROOT, "bench", "reference_server.py"),
    [
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--db",
      ":memory:",
      // `--name=value`: a base64url secret may start with "-", which argparse would take for
      // an option in `--name value` (one run in 32 failed so).
      `--hmac-s2b=${s2b}`,
      `--hmac-b2s=${b2s}`,
    ],
    ROOT,
  );
  for (;;) {
    const l = await child.line();
    const m = /^LISTENING (\d+)/.exec(l);
    if (m) return { url: `http://127.0.0.1:${m[1]}`, child };
  }
}
