/**
 * `lonelypss setup`: writes `lonelypss.json` and the two secrets files into
 * the current directory (docs/decisions.md#setup).
 * Every combination of flags yields a configuration `serve` starts as is.
 *
 * @module
 */

import { lstat, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  decodeHmacSecret,
  encodeHmacSecret,
  formatSecretsFile,
  generateHmacSecret,
  parseSecretsFile,
  type SecretsEntry,
  type SecretsFile,
} from "../auth/mod.ts";
import { parseChoice, parseFlags, parseInteger } from "./args.ts";
import { CONFIG_FILE } from "./config.ts";
import { CliError, errorMessage, UsageError } from "./errors.ts";
import { SETUP_HELP } from "./help.ts";
import type { Io } from "./io.ts";
import { selfCommand } from "./self.ts";
import { defaultHost } from "./settings.ts";
import { parseUrls } from "./urls.ts";
import { postgresLabel } from "./postgres.ts";
import { parsePostgresUrl } from "../storage/postgres/url.ts";

const AUTH_KINDS = ["hmac", "token", "none"] as const;
type AuthKind = (typeof AUTH_KINDS)[number];

/** The files setup writes, in order. */
export const SETUP_OUTPUTS = [
  CONFIG_FILE,
  "broadcaster-secrets.json",
  "subscriber-secrets.json",
] as const;

/** Runs `setup` with `args` (after the command name); returns the exit code. */
export async function setup(args: string[], io: Io): Promise<number> {
  const flags = parseFlags("setup", args, {
    db: { type: "string" },
    "rqlite-url": { type: "string" },
    "rqlite-user": { type: "string" },
    "rqlite-password": { type: "string" },
    "postgres-url": { type: "string" },
    "to-broadcasters-auth": { type: "string" },
    "to-broadcasters-secret": { type: "string" },
    "to-subscribers-auth": { type: "string" },
    "to-subscribers-secret": { type: "string" },
    host: { type: "string" },
    port: { type: "string" },
    debug: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (flags.help) {
    io.out(SETUP_HELP);
    return 0;
  }
  const db = parseChoice("--db", flags.db ?? "sqlite", ["sqlite", "rqlite", "postgres"] as const);
  const postgresUrl = postgresFlag(db, flags["postgres-url"]);
  const rqlite = rqliteFlags(
    db,
    flags["rqlite-url"],
    flags["rqlite-user"],
    flags["rqlite-password"],
  );
  const toBroadcaster = direction(
    "--to-broadcasters",
    flags["to-broadcasters-auth"],
    flags["to-broadcasters-secret"],
  );
  const toSubscriber = direction(
    "--to-subscribers",
    flags["to-subscribers-auth"],
    flags["to-subscribers-secret"],
  );
  // Without authorization of requests to the broadcaster, this machine only.
  const host = flags.host ?? defaultHost(toBroadcaster.kind);
  if (host === "") throw new UsageError("Invalid --host: must not be empty");
  const port = parseInteger("--port", flags.port ?? "3003", 0, 65535);

  const secrets: SecretsFile = {
    version: "2",
    ...(toBroadcaster.entry ? { toBroadcaster: toBroadcaster.entry } : {}),
    ...(toSubscriber.entry ? { toSubscriber: toSubscriber.entry } : {}),
  };
  const secretsText = formatSecretsFile(secrets);
  // The rqlite credentials and the PostgreSQL url stay on the broadcaster:
  // subscribers get the rest.
  const broadcasterText = rqlite?.credentials || postgresUrl !== null
    ? formatSecretsFile({
      ...secrets,
      ...(rqlite?.credentials ? { rqlite: rqlite.credentials } : {}),
      ...(postgresUrl === null ? {} : { postgres: { url: postgresUrl } }),
    })
    : secretsText;
  // What we write must be what serve accepts (token text, hmac length, …).
  try {
    parseSecretsFile(secretsText, "the secrets");
  } catch (e) {
    throw new UsageError(
      errorMessage(e).replace(/^Invalid secrets file the secrets: /, "Invalid "),
    );
  }
  const config = {
    host,
    port,
    ...(postgresUrl !== null
      ? { postgres: {} }
      : rqlite === null
      ? { database: "subscriptions.db" }
      : { rqlite: { urls: rqlite.urls, readConsistency: "weak" } }),
    secrets: "broadcaster-secrets.json",
    replayDatabase: "recent-hmacs.db",
    pathPrefix: "",
    logLevel: "info",
    limits: {},
  };
  const contents: Record<(typeof SETUP_OUTPUTS)[number], { text: string; mode: number }> = {
    [CONFIG_FILE]: { text: JSON.stringify(config, null, 2) + "\n", mode: 0o644 },
    "broadcaster-secrets.json": { text: broadcasterText, mode: 0o600 },
    "subscriber-secrets.json": { text: secretsText, mode: 0o600 },
  };

  await refuseOverwrite(io.cwd);
  await writeAll(io.cwd, contents);

  const c = io.outColour;
  io.out(c.bold("lonelypss setup"));
  io.out(
    postgresUrl !== null
      ? `  - db: ${postgresLabel(postgresUrl)} (url kept in broadcaster-secrets.json)`
      : rqlite === null
      ? `  - db: sqlite`
      : `  - db: rqlite ${rqlite.urls.join(",")}`,
  );
  if (rqlite !== null) io.out(`  - rqlite-user: ${rqlite.credentials?.user ?? "-"}`);
  io.out(`  - to-broadcasters-auth: ${toBroadcaster.kind}`);
  io.out(`  - to-broadcasters-secret: ${toBroadcaster.source}`);
  io.out(`  - to-subscribers-auth: ${toSubscriber.kind}`);
  io.out(`  - to-subscribers-secret: ${toSubscriber.source}`);
  io.out(`  - listen: ${host}:${port}`);
  io.out(`Wrote ${CONFIG_FILE}`);
  io.out(`Wrote broadcaster-secrets.json (mode 0600): keep it on the broadcaster`);
  io.out(`Wrote subscriber-secrets.json (mode 0600): give it to your subscribers`);
  io.out(`${c.green("Done.")} Start the broadcaster from this directory with:`);
  io.out(`  ${c.bold(`${selfCommand(io.cwd)} serve`)}`);
  return 0;
}

function postgresFlag(
  db: "sqlite" | "rqlite" | "postgres",
  url: string | undefined,
): string | null {
  if (db !== "postgres") {
    if (url !== undefined) throw new UsageError("--postgres-url needs --db postgres");
    return null;
  }
  if (url === undefined) {
    throw new UsageError(
      "--db postgres needs --postgres-url postgres://user:password@host:port/database",
    );
  }
  try {
    parsePostgresUrl(url);
  } catch (e) {
    throw new UsageError(
      errorMessage(e).replace(/^Invalid PostgreSQL url/, "Invalid --postgres-url"),
    );
  }
  return url;
}

function rqliteFlags(
  db: "sqlite" | "rqlite" | "postgres",
  urls: string | undefined,
  user: string | undefined,
  password: string | undefined,
): { urls: string[]; credentials: { user: string; password: string } | null } | null {
  if (db !== "rqlite") {
    const given = [["--rqlite-url", urls], ["--rqlite-user", user], ["--rqlite-password", password]]
      .find(([, v]) => v !== undefined);
    if (given !== undefined) throw new UsageError(`${given[0]} needs --db rqlite`);
    return null;
  }
  if ((user === undefined) !== (password === undefined)) {
    throw new UsageError("--rqlite-user and --rqlite-password go together: give both or neither");
  }
  if (user !== undefined && (user === "" || user.includes(":"))) {
    throw new UsageError('Invalid --rqlite-user: must be non-empty and without ":"');
  }
  return {
    urls: parseUrls("--rqlite-url", urls ?? "http://127.0.0.1:4001"),
    credentials: user === undefined ? null : { user, password: password! },
  };
}

function direction(
  flag: string,
  authText: string | undefined,
  given: string | undefined,
): { kind: AuthKind; entry: SecretsEntry | null; source: string } {
  const kind = parseChoice(`${flag}-auth`, authText ?? "hmac", AUTH_KINDS);
  if (kind === "none") return { kind, entry: null, source: given ? "ignored (auth none)" : "-" };
  if (given === undefined) {
    return {
      kind,
      entry: { type: kind, secret: encodeHmacSecret(generateHmacSecret()) },
      source: "generated",
    };
  }
  if (kind === "hmac") {
    try {
      decodeHmacSecret(given);
    } catch (e) {
      throw new UsageError(`Invalid ${flag}-secret: ${errorMessage(e)}`);
    }
  }
  return { kind, entry: { type: kind, secret: given }, source: "specified" };
}

async function refuseOverwrite(dir: string): Promise<void> {
  for (const name of SETUP_OUTPUTS) {
    const exists = await lstat(join(dir, name)).then(() => true, (e) => {
      if ((e as { code?: unknown }).code === "ENOENT") return false;
      throw new CliError(`Cannot check ${name}: ${errorMessage(e)}`);
    });
    if (exists) {
      throw new CliError(`${name} already exists, refusing to overwrite (nothing was written)`);
    }
  }
}

async function writeAll(
  dir: string,
  contents: Record<string, { text: string; mode: number }>,
): Promise<void> {
  const written: string[] = [];
  let current = "";
  try {
    for (const [name, { text, mode }] of Object.entries(contents)) {
      current = name;
      // "wx" fails if the file appeared since the check: never clobber.
      await writeFile(join(dir, name), text, { encoding: "utf8", mode, flag: "wx" });
      written.push(name);
    }
  } catch (e) {
    await Promise.all(written.map((name) => rm(join(dir, name), { force: true })));
    throw new CliError(`Cannot write ${current}: ${errorMessage(e)} (nothing was written)`);
  }
}
