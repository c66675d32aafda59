/**
 * `lonelypss subscriptions list|prune` and `lonelypss stats`: find and remove
 * dead subscribers on the configured store, beside a live server or not.
 * `--json` prints one JSON document instead of a table.
 *
 * @module
 */

import { consoleLogger } from "../log.ts";
import type { PruneRule, Store, SubscriptionStats } from "../storage/types.ts";
import { parseFlags, parseInteger } from "./args.ts";
import { findConfig } from "./find_config.ts";
import { STATS_HELP, SUBSCRIPTIONS_HELP } from "./help.ts";
import type { Io } from "./io.ts";
import { openConfiguredStore } from "./open_store.ts";
import { resolveSettings } from "./settings.ts";
import { CliError, UsageError } from "./errors.ts";
import { formatTable, keyText, when } from "./table.ts";

const STORE_FLAGS = {
  config: { type: "string" },
  db: { type: "string" },
  "rqlite-url": { type: "string" },
  "rqlite-consistency": { type: "string" },
  json: { type: "boolean" },
  debug: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

async function withStore(
  flags: { config?: string | undefined; db?: string | undefined },
  io: Io,
  fn: (store: Store) => Promise<number>,
): Promise<number> {
  const config = await findConfig(flags.config ?? io.env.LONELYPSS_CONFIG, io.cwd);
  const settings = resolveSettings(flags, io.env, config);
  const store = await openConfiguredStore(settings, consoleLogger("error"));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function need<T>(v: T | "unavailable"): T {
  if (v === "unavailable") throw new CliError("The store is unavailable (see the log above)");
  return v;
}

/** Runs `subscriptions <list|prune> …`; resolves to the exit code. */
export async function subscriptions(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "list") return await list(rest, io);
  if (sub === "prune") return await prune(rest, io);
  if (sub === undefined || sub === "-h" || sub === "--help" || sub === "help") {
    io.out(SUBSCRIPTIONS_HELP);
    return 0;
  }
  throw new UsageError(`Unknown subcommand "${sub}" (expected list or prune)`);
}

async function list(args: string[], io: Io): Promise<number> {
  const flags = parseFlags("subscriptions list", args, {
    ...STORE_FLAGS,
    url: { type: "string" },
    topic: { type: "string" },
    glob: { type: "string" },
    search: { type: "string" },
    failing: { type: "boolean" },
    limit: { type: "string" },
    offset: { type: "string" },
  });
  if (flags.help) return help(io, SUBSCRIPTIONS_HELP);
  const limit = flags.limit === undefined ? 100 : parseInteger("--limit", flags.limit, 1, 100_000);
  const offset = flags.offset === undefined
    ? 0
    : parseInteger("--offset", flags.offset, 0, 2 ** 31);
  return await withStore(flags, io, async (store) => {
    const page = need(
      await store.listSubscriptionStats({
        ...(flags.url === undefined ? {} : { url: flags.url }),
        ...(flags.topic === undefined ? {} : { topic: new TextEncoder().encode(flags.topic) }),
        ...(flags.glob === undefined ? {} : { glob: flags.glob }),
        ...(flags.search === undefined ? {} : { search: flags.search }),
        ...(flags.failing ? { failing: true } : {}),
        limit,
        offset,
      }),
    );
    if (flags.json) {
      io.out(JSON.stringify({ total: page.total, offset, rows: page.rows.map(toJson) }, null, 2));
      return 0;
    }
    io.out(formatTable(
      [
        "KIND",
        "URL",
        "TOPIC/GLOB",
        "SENT",
        "FAILED",
        "STREAK",
        "LAST FAILURE",
        "FAILING SINCE",
        "LAST SUCCESS",
      ],
      page.rows.map((r) => [
        r.kind,
        r.url,
        keyText(r.key),
        String(r.deliveries),
        String(r.failures),
        String(r.consecutiveFailures),
        r.lastFailure ?? "-",
        when(r.failingSince),
        when(r.lastSuccessAt),
      ]),
    ));
    io.out(`${page.rows.length} of ${page.total} subscriptions (from ${offset})`);
    return 0;
  });
}

function toJson(r: SubscriptionStats): Record<string, unknown> {
  return { ...r, key: keyText(r.key) };
}

/**
 * A duration: a number with an optional unit (`s`, `m`, `h`, `d`), seconds
 * without one. Returns milliseconds.
 *
 * @throws {UsageError} naming `what`
 */
export function parseDuration(what: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/.exec(text);
  if (m === null) {
    throw new UsageError(
      `Invalid ${what}: expected a duration like 90s, 30m, 12h or 5d, got "${text}"`,
    );
  }
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as "" | "s" | "m" | "h" | "d"];
  return Number(m[1]) * unit * 1000;
}

async function prune(args: string[], io: Io): Promise<number> {
  const flags = parseFlags("subscriptions prune", args, {
    ...STORE_FLAGS,
    url: { type: "string" },
    "failing-for": { type: "string" },
    "idle-for": { type: "string" },
    "dry-run": { type: "boolean" },
  });
  if (flags.help) return help(io, SUBSCRIPTIONS_HELP);
  const now = Date.now();
  const given = [flags.url, flags["failing-for"], flags["idle-for"]].filter((v) => v !== undefined);
  if (given.length !== 1) {
    throw new UsageError(
      "subscriptions prune needs exactly one of --url, --failing-for, --idle-for",
    );
  }
  const rule: PruneRule = flags.url !== undefined
    ? { kind: "url", url: flags.url }
    : flags["failing-for"] !== undefined
    ? { kind: "failing", before: now - parseDuration("--failing-for", flags["failing-for"]) }
    : { kind: "idle", before: now - parseDuration("--idle-for", flags["idle-for"]!) };
  const dryRun = flags["dry-run"] === true;
  return await withStore(flags, io, async (store) => {
    const urls = need(
      await store.pruneSubscriptions(rule, { now, dryRun, reason: `cli ${rule.kind}` }),
    );
    if (flags.json) {
      io.out(JSON.stringify({ dryRun, removed: urls }, null, 2));
      return 0;
    }
    if (urls.length > 0) {
      io.out(formatTable(
        ["URL", "EXACT", "GLOB"],
        urls.map((u) => [u.url, String(u.exacts), String(u.globs)]),
      ));
    }
    const n = urls.reduce((s, u) => s + u.exacts + u.globs, 0);
    io.out(`${dryRun ? "Would remove" : "Removed"} ${n} subscriptions of ${urls.length} urls`);
    return 0;
  });
}

/** Runs `stats …`; resolves to the exit code. */
export async function stats(args: string[], io: Io): Promise<number> {
  const flags = parseFlags("stats", args, { ...STORE_FLAGS, top: { type: "string" } });
  if (flags.help) return help(io, STATS_HELP);
  const top = flags.top === undefined ? 10 : parseInteger("--top", flags.top, 1, 1000);
  return await withStore(flags, io, async (store) => {
    const r = need(await store.subscriptionReport(top));
    const prunes = need(await store.listPrunes(top));
    if (flags.json) {
      io.out(JSON.stringify(
        {
          ...r,
          topFailing: r.topFailing,
          topKeys: r.topKeys.map((k) => ({ ...k, key: keyText(k.key) })),
          prunes,
        },
        null,
        2,
      ));
      return 0;
    }
    io.out(
      `subscriptions: ${r.exacts} exact, ${r.globs} glob; urls: ${r.urls}, failing: ${r.failingUrls}`,
    );
    io.out("\nTop failing urls:");
    io.out(formatTable(
      ["URL", "FAILING SINCE", "STREAK", "SUBSCRIPTIONS"],
      r.topFailing.map((
        f,
      ) => [f.url, when(f.failingSince), String(f.consecutiveFailures), String(f.subscriptions)]),
    ));
    io.out("\nTop topics by subscriptions:");
    io.out(formatTable(
      ["KIND", "TOPIC/GLOB", "SUBSCRIPTIONS"],
      r.topKeys.map((k) => [k.kind, keyText(k.key), String(k.subscriptions)]),
    ));
    io.out("\nLatest prunes:");
    io.out(formatTable(
      ["WHEN", "URL", "REASON", "EXACT", "GLOB"],
      prunes.map((p) => [when(p.at), p.url, p.reason, String(p.exacts), String(p.globs)]),
    ));
    return 0;
  });
}

function help(io: Io, text: string): number {
  io.out(text);
  return 0;
}
