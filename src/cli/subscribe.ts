/**
 * `lonelypss subscribe`: receives until stopped, printing each message or
 * running a command per message. The websocket client reconnects by itself;
 * this command also retries the first connection.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { createServer } from "node:net";
import process from "node:process";
import {
  type Client,
  ClientError,
  connectHttp,
  connectWebsocket,
  type Message,
} from "../client/mod.ts";
import { parseFlags, parseInteger } from "./args.ts";
import { broadcasterUrls, cliErrorOf, loadAuth, websocketUrl } from "./client_common.ts";
import { SUBSCRIBE_HELP } from "./client_help.ts";
import { UsageError } from "./errors.ts";
import type { Io } from "./io.ts";

/** Runs `subscribe`; resolves to the exit code. */
export async function subscribe(args: string[], io: Io): Promise<number> {
  const flags = parseFlags("subscribe", args, {
    broadcaster: { type: "string", multiple: true },
    secrets: { type: "string" },
    exact: { type: "string", multiple: true },
    glob: { type: "string", multiple: true },
    websocket: { type: "boolean" },
    receiver: { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    exec: { type: "string" },
    count: { type: "string" },
    debug: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (flags.help) {
    io.out(SUBSCRIBE_HELP);
    return 0;
  }
  const urls = broadcasterUrls(flags.broadcaster, "subscribe");
  const exact = flags.exact ?? [];
  const globs = flags.glob ?? [];
  if (exact.length + globs.length === 0) {
    throw new UsageError("subscribe needs --exact T or --glob P (see: lonelypss subscribe --help)");
  }
  const count = flags.count === undefined
    ? Infinity
    : parseInteger("--count", flags.count, 1, 2 ** 31);
  const auth = await loadAuth(flags.secrets);
  const stop = Promise.withResolvers<void>();
  const onSignal = () => stop.resolve();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let client: Client | null = null;
  try {
    if (flags.websocket) {
      client = await connectRetrying(
        () => connectWebsocket({ broadcasters: urls.map(websocketUrl), auth }),
        stop.promise,
        io,
      );
      if (client === null) return 0;
    } else {
      const port = flags.port === undefined
        ? await freePort(flags.host)
        : parseInteger("--port", flags.port, 0, 65_535);
      const url = flags.receiver ?? `http://${flags.host ?? "127.0.0.1"}:${port}`;
      client = await connectHttp({
        broadcasters: urls,
        auth,
        receiver: { url, port, ...(flags.host === undefined ? {} : { hostname: flags.host }) },
      });
    }
    const c = client;
    c.onStatus((s) => {
      if (s === "lost") io.err("connection lost: messages may have been missed");
      else if (s === "ok") io.err("receiving");
    });
    const subs = [
      ...await Promise.all(exact.map((t) => c.subscribeExact(t))),
      ...await Promise.all(globs.map((g) => c.subscribeGlob(g))),
    ];
    io.err(`subscribed (${subs.length})`);
    let seen = 0;
    const queue: Message[] = [];
    const waker: { wake: (() => void) | null } = { wake: null };
    for (const s of subs) {
      void (async () => {
        for await (const m of s) {
          queue.push(m);
          waker.wake?.();
        }
      })();
    }
    while (seen < count) {
      const m = queue.shift();
      if (m === undefined) {
        const w = Promise.withResolvers<void>();
        waker.wake = w.resolve;
        const stopped = await Promise.race([
          w.promise.then(() => false),
          stop.promise.then(() => true),
        ]);
        waker.wake = null;
        if (stopped) break;
        continue;
      }
      seen++;
      if (flags.exec !== undefined) await runFor(flags.exec, m, io);
      else io.out(await describe(m));
    }
    return 0;
  } catch (e) {
    throw e instanceof ClientError ? cliErrorOf(e) : e;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await client?.close();
  }
}

/** The first connection, retried (with a growing pause) while no broadcaster is reachable. */
async function connectRetrying(
  connect: () => Promise<Client>,
  stopped: Promise<void>,
  io: Io,
): Promise<Client | null> {
  let stop = false;
  void stopped.then(() => (stop = true));
  for (let attempt = 0;; attempt++) {
    try {
      return await connect();
    } catch (e) {
      if (!(e instanceof ClientError) || e.kind !== "unavailable" || stop) throw e;
      const ms = Math.min(20_000, 500 * 2 ** attempt) * Math.random();
      io.err(`${e.message}; retrying`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([new Promise((r) => (timer = setTimeout(r, ms))), stopped]);
      clearTimeout(timer);
      if (stop) return null;
    }
  }
}

async function describe(m: Message): Promise<string> {
  const topic = new TextDecoder().decode(m.topic);
  if (m.length <= 64 * 1024) {
    const bytes = await m.bytes();
    try {
      return `${topic}\t${new TextDecoder("utf-8", { fatal: true }).decode(bytes)}`;
    } catch {
      // not text: fall through
    }
  } else await m.discard();
  const hex = Array.from(m.sha512.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${topic}\t<${m.length} bytes, sha512 ${hex}…>`;
}

async function runFor(cmd: string, m: Message, io: Io): Promise<void> {
  const child = spawn("sh", ["-c", cmd], {
    stdio: ["pipe", "inherit", "inherit"],
    env: { ...process.env, LONELYPSS_TOPIC: new TextDecoder().decode(m.topic) },
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on("close", (code) => resolve(code));
    child.on("error", () => resolve(null));
  });
  child.stdin.on("error", () => {});
  try {
    for await (const chunk of m.stream()) {
      if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once("drain", r));
    }
  } catch {
    // the command stopped reading: its exit status says the rest
  }
  child.stdin.end();
  const code = await exited;
  if (code !== 0) {
    io.err(
      `--exec exited with ${code ?? "an error"} for a message on ${
        new TextDecoder().decode(m.topic)
      }`,
    );
  }
}

function freePort(host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, host ?? "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}
