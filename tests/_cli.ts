/**
 * Helpers for tests that run the real CLI as a child process: on Deno, Bun or
 * Node, collecting its output, parsing the banner, stopping it with a signal.
 *
 * @module
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeSubscribeExact } from "../src/protocol/subscribe.ts";
import { post } from "./_harness.ts";

/** Absolute path of cli.ts. */
export const CLI = fileURLToPath(new URL("../cli.ts", import.meta.url));

/** Repository root. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** A runtime we can run the CLI on. */
export type Runtime = "deno" | "bun" | "node";

const NPX_PACKAGES: Record<Exclude<Runtime, "deno">, string> = {
  bun: "bun@1",
  node: "node@24",
};
const resolved = new Map<Runtime, Promise<string>>();

/**
 * The runtime's executable. Bun and Node come from npx once, then run
 * directly, so signals reach the runtime and not an npx wrapper.
 */
export function runtimeExecutable(runtime: Runtime): Promise<string> {
  if (runtime === "deno") return Promise.resolve(Deno.execPath());
  let p = resolved.get(runtime);
  if (p === undefined) {
    p = (async () => {
      const out = await run("npx", [
        "-y",
        NPX_PACKAGES[runtime],
        "-e",
        "console.log(process.execPath)",
      ]);
      if (out.code !== 0) throw new Error(`Cannot get ${runtime} via npx: ${out.stderr}`);
      return out.stdout.trim().split("\n").at(-1)!;
    })();
    resolved.set(runtime, p);
  }
  return p;
}

/** The command (executable and leading arguments) that runs cli.ts on `runtime`. */
export async function cliCommand(runtime: Runtime): Promise<[string, string[]]> {
  const exe = await runtimeExecutable(runtime);
  return [exe, runtime === "deno" ? ["run", "-A", CLI] : [CLI]];
}

/** What a finished process printed. */
export interface Ran {
  /** Exit code. */
  readonly code: number;
  /** Everything on stdout. */
  readonly stdout: string;
  /** Everything on stderr. */
  readonly stderr: string;
}

/** Where and with what environment a child runs. */
export interface SpawnOptions {
  /** Working directory. */
  readonly cwd?: string;
  /** Extra environment variables. */
  readonly env?: Record<string, string>;
}

/** A child with no stdin and piped output, without colours. */
function command(exe: string, args: string[], opts: SpawnOptions): Deno.Command {
  return new Deno.Command(exe, {
    args,
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    env: { NO_COLOR: "1", ...opts.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs a command to completion. */
export async function run(exe: string, args: string[], opts: SpawnOptions = {}): Promise<Ran> {
  const out = await command(exe, args, opts).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs `deno run -A cli.ts <args>` to completion. */
export async function runCli(args: string[], opts: SpawnOptions = {}): Promise<Ran> {
  const [exe, pre] = await cliCommand("deno");
  return await run(exe, [...pre, ...args], opts);
}

/** A CLI `serve` child that printed its banner. */
export interface Served extends AsyncDisposable {
  /** Base url from the banner (prefix included). */
  readonly url: string;
  /** The child's process id (the runtime itself: `exec` replaces a wrapping shell). */
  readonly pid: number;
  /** The banner line. */
  readonly banner: string;
  /** Resolves with the first stderr line matching `re`. */
  waitForStderr(re: RegExp): Promise<string>;
  /** Sends `signal`, waits for the exit and returns its code and output. */
  stop(signal?: Deno.Signal): Promise<Ran>;
}

const BANNER = /^lonelypss \S+ listening on (http:\/\/\S+) \(db .*, auth \w+\/\w+\)$/;

/** Starts `exe args` (a CLI `serve`) and waits for its banner. */
export async function startServe(
  exe: string,
  args: string[],
  opts: SpawnOptions = {},
): Promise<Served> {
  const child = command(exe, args, opts).spawn();
  const stdout = lines(child.stdout);
  const stderr = lines(child.stderr);
  const stopWith = async (signal: Deno.Signal | null): Promise<Ran> => {
    if (signal !== null) {
      try {
        child.kill(signal);
      } catch {
        // Already exited.
      }
    }
    const [status] = await Promise.all([child.status, stdout.done, stderr.done]);
    return { code: status.code, stdout: stdout.text(), stderr: stderr.text() };
  };
  const first = await stdout.next();
  const match = first === null ? null : BANNER.exec(first);
  if (match === null) {
    const ran = await stopWith("SIGKILL");
    throw new Error(`No banner (exit ${ran.code}): ${ran.stdout}\n${ran.stderr}`);
  }
  let stopped: Promise<Ran> | null = null;
  const stop = (signal: Deno.Signal = "SIGTERM") => stopped ??= stopWith(signal);
  return {
    url: match[1]!,
    pid: child.pid,
    banner: first!,
    waitForStderr: (re) => stderr.waitFor(re),
    stop,
    async [Symbol.asyncDispose]() {
      await stop("SIGKILL");
    },
  };
}

interface Lines {
  /** The next line not yet returned by next(), or null at the end. */
  next(): Promise<string | null>;
  waitFor(re: RegExp): Promise<string>;
  text(): string;
  readonly done: Promise<void>;
}

// Reads a stream to its end in the background (so the pipe never fills and
// the resource is closed), remembering every line.
function lines(stream: ReadableStream<Uint8Array>): Lines {
  const all: string[] = [];
  let waiters: { test: (l: string | null) => boolean }[] = [];
  let ended = false;
  let partial = "";
  const push = (line: string | null) => {
    if (line !== null) all.push(line);
    waiters = waiters.filter((w) => !w.test(line));
  };
  const done = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      partial += chunk;
      let i;
      while ((i = partial.indexOf("\n")) >= 0) {
        push(partial.slice(0, i));
        partial = partial.slice(i + 1);
      }
    }
    if (partial !== "") push(partial);
    ended = true;
    push(null);
  })();
  let read = 0;
  return {
    next() {
      if (read < all.length) return Promise.resolve(all[read++]!);
      if (ended) return Promise.resolve(null);
      return new Promise((resolve) => {
        waiters.push({
          test: (l) => {
            if (l === null) resolve(null);
            else {
              read++;
              resolve(l);
            }
            return true;
          },
        });
      });
    },
    waitFor(re) {
      const hit = all.find((l) => re.test(l));
      if (hit !== undefined) return Promise.resolve(hit);
      if (ended) return Promise.reject(new Error(`Stream ended without ${re}`));
      return new Promise((resolve, reject) => {
        waiters.push({
          test: (l) => {
            if (l === null) reject(new Error(`Stream ended without ${re}: ${all.join("\n")}`));
            else if (re.test(l)) resolve(l);
            else return false;
            return true;
          },
        });
      });
    },
    text: () => all.join("\n"),
    done,
  };
}

/** A fresh temp dir, removed on dispose. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await mkdtemp(join(tmpdir(), "lonelypss-cli-"));
  return {
    path,
    async [Symbol.asyncDispose]() {
      await rm(path, { recursive: true, force: true });
    },
  };
}

/** POSTs bytes and reads the whole answer (the end-to-end harness's `post`). */
export { post as postBytes } from "./_harness.ts";

/** Subscribes `subscriberUrl` to the exact `topic` (no recovery url) on the broadcaster at `base`. */
export async function subscribeOver(
  base: string,
  subscriberUrl: string,
  topic: Uint8Array,
): Promise<number> {
  const body = encodeSubscribeExact({
    url: subscriberUrl,
    topic,
    recovery: null,
    tracing: new Uint8Array(0),
  });
  return (await post(`${base}/v1/subscribe/exact`, body)).status;
}
