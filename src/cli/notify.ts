/**
 * `lonelypss notify`: publishes one message (a file, a text or standard
 * input) and prints the subscriber count. A file shows a progress bar on a
 * terminal.
 *
 * @module
 */

import { open, stat } from "node:fs/promises";
import process from "node:process";
import { Readable } from "node:stream";
import { connectHttp, connectWebsocket, type NotifyBody } from "../client/mod.ts";
import { parseFlags } from "./args.ts";
import { broadcasterUrls, cliErrorOf, loadAuth } from "./client_common.ts";
import { NOTIFY_HELP } from "./client_help.ts";
import { CliError, UsageError } from "./errors.ts";
import type { Io } from "./io.ts";

/** Runs `notify`; resolves to the exit code. */
export async function notify(args: string[], io: Io): Promise<number> {
  const stdin = args.includes("-");
  const flags = parseFlags("notify", args.filter((a) => a !== "-"), {
    broadcaster: { type: "string", multiple: true },
    secrets: { type: "string" },
    topic: { type: "string" },
    file: { type: "string" },
    data: { type: "string" },
    debug: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (flags.help) {
    io.out(NOTIFY_HELP);
    return 0;
  }
  const urls = broadcasterUrls(flags.broadcaster, "notify");
  if (flags.topic === undefined) {
    throw new UsageError("notify needs --topic T (see: lonelypss notify --help)");
  }
  const sources =
    [flags.file !== undefined, flags.data !== undefined, stdin].filter(Boolean).length;
  if (sources !== 1) {
    throw new UsageError(
      "notify needs exactly one of --file F, --data S or - (see: lonelypss notify --help)",
    );
  }
  const auth = await loadAuth(flags.secrets);
  let body: NotifyBody;
  let size: number | null = null;
  if (flags.data !== undefined) body = flags.data;
  else if (flags.file !== undefined) {
    try {
      size = (await stat(flags.file)).size;
    } catch (e) {
      throw new CliError(`Cannot read ${flags.file}: ${(e as Error).message}`);
    }
    body = withProgress(await fileStream(flags.file), size);
  } else body = Readable.toWeb(process.stdin) as unknown as ReadableStream<Uint8Array>;
  const ws = urls.every((u) => /^wss?:/.test(u));
  try {
    await using client = ws
      ? await connectWebsocket({ broadcasters: urls, auth, reconnect: { maxAttempts: 3 } })
      : await connectHttp({ broadcasters: urls, auth });
    const { notified } = await client.notify(flags.topic, body);
    io.out(`notified ${notified} subscriber${notified === 1 ? "" : "s"}`);
    return 0;
  } catch (e) {
    throw cliErrorOf(e);
  }
}

async function fileStream(path: string): Promise<ReadableStream<Uint8Array>> {
  const file = await open(path, "r");
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const buf = new Uint8Array(256 * 1024);
      const { bytesRead } = await file.read(buf, 0, buf.length, null);
      if (bytesRead === 0) {
        await file.close();
        c.close();
      } else c.enqueue(buf.subarray(0, bytesRead));
    },
    async cancel() {
      await file.close();
    },
  });
}

/** Counts bytes through `s`, drawing a bar on stderr when it is a terminal and `size` is large. */
function withProgress(s: ReadableStream<Uint8Array>, size: number): ReadableStream<Uint8Array> {
  if (!process.stderr.isTTY || size < 1024 * 1024) return s;
  let done = 0;
  let drawn = -1;
  return s.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, c) {
        done += chunk.length;
        const pct = Math.floor((done / size) * 100);
        if (pct !== drawn) {
          drawn = pct;
          const bar = "#".repeat(Math.floor(pct / 4)).padEnd(25, " ");
          process.stderr.write(`\r[${bar}] ${pct}% of ${(size / 1048576).toFixed(1)} MiB`);
        }
        c.enqueue(chunk);
      },
      flush() {
        process.stderr.write("\n");
      },
    }),
  );
}
