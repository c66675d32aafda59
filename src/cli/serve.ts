/**
 * `lonelypss serve`: loads the configuration, opens storage and auth, listens
 * on the current runtime's server, prints the banner, and shuts down
 * gracefully on SIGINT / SIGTERM.
 *
 * @module
 */

import { nodeBuiltin } from "../portable.ts";
import { currentRuntime } from "../runtime_name.ts";
import { type Broadcaster, createBroadcaster } from "../broadcaster.ts";
import { consoleLogger, type Logger } from "../log.ts";
import {
  type AuthConfig,
  authFromSecrets,
  loadSecretsFile,
  type SecretsFile,
  sqliteReplayStore,
} from "../auth/mod.ts";
import { AddressInUseError, type RunningServer, serve as listen } from "../runtime/mod.ts";
import { openConfiguredPostgres, postgresLabel } from "./postgres.ts";
import type { Store } from "../storage/types.ts";
import { parseFlags } from "./args.ts";
import { findConfig } from "./find_config.ts";
import { openConfiguredRqlite } from "./open_store.ts";
import { loadCompression } from "./config_compression.ts";
import { CliError, errorMessage } from "./errors.ts";
import { SERVE_HELP } from "./help.ts";
import type { Io } from "./io.ts";
import {
  defaultHost,
  isLoopback,
  resolveSettings,
  type ServeFlags,
  type ServeSettings,
} from "./settings.ts";
import { VERSION } from "./version.ts";

/** Runs `serve` with `args` (after the command name); returns the exit code once stopped. */
export async function serve(args: string[], io: Io): Promise<number> {
  const flags = parseFlags("serve", args, {
    config: { type: "string" },
    host: { type: "string" },
    port: { type: "string" },
    db: { type: "string" },
    "rqlite-url": { type: "string" },
    "rqlite-consistency": { type: "string" },
    "spool-dir": { type: "string" },
    "path-prefix": { type: "string" },
    "log-level": { type: "string" },
    grace: { type: "string" },
    "relay-url": { type: "string" },
    compression: { type: "string" },
    libzstd: { type: "string" },
    "deno-front": { type: "string" },
    debug: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (flags.help) {
    io.out(SERVE_HELP);
    return 0;
  }
  // Listen for signals before anything else: one that arrives while starting
  // (or right after the banner) must still mean a clean shutdown.
  const stop = Promise.withResolvers<string>();
  const onSigint = () => stop.resolve("SIGINT");
  const onSigterm = () => stop.resolve("SIGTERM");
  const signals = signalListeners();
  signals.on("SIGINT", onSigint);
  signals.on("SIGTERM", onSigterm);
  try {
    return await run(flags, io, stop.promise);
  } finally {
    signals.off("SIGINT", onSigint);
    signals.off("SIGTERM", onSigterm);
  }
}

async function run(
  flags: ServeFlags & { config?: string | undefined },
  io: Io,
  stopped: Promise<string>,
): Promise<number> {
  const config = await findConfig(flags.config ?? io.env.LONELYPSS_CONFIG, io.cwd);
  const settings = resolveSettings(flags, io.env, config);
  const logger = consoleLogger(settings.logLevel);
  const { broadcaster, authKinds, toBroadcaster, storage } = await open(settings, logger);
  const host = settings.host ?? defaultHost(toBroadcaster);
  let server: RunningServer;
  try {
    server = await listen(broadcaster, {
      hostname: host,
      port: settings.port,
      front: settings.denoFront,
    });
  } catch (e) {
    await broadcaster.close(0);
    if (e instanceof AddressInUseError) {
      throw new CliError(
        `Port ${settings.port} on ${host} is already in use: ` +
          `stop the other server or pick another port with --port`,
        1,
        { cause: e },
      );
    }
    throw new CliError(`Cannot listen on ${host}:${settings.port}: ${errorMessage(e)}`, 1, {
      cause: e,
    });
  }
  io.out(banner(server, settings.pathPrefix, storage, authKinds));
  if (toBroadcaster === "none" && !isLoopback(host)) {
    io.err(
      `${io.errColour.red("warning:")} no authorization is configured and ${host} is ` +
        `reachable from other machines: anyone who can reach it can subscribe any URL and ` +
        `publish. Run "lonelypss setup" for hmac authorization both ways, or bind 127.0.0.1.`,
    );
  }

  const signal = await Promise.race([stopped, server.finished.then(() => null)]);
  if (signal !== null) {
    logger.info("Shutting down", { signal, graceSeconds: settings.graceMs / 1000 });
  }
  await server.shutdown(settings.graceMs);
  logger.info("Stopped");
  return 0;
}

async function open(
  settings: ServeSettings,
  logger: Logger,
): Promise<{
  broadcaster: Broadcaster;
  authKinds: string;
  toBroadcaster: "none" | "token" | "hmac";
  storage: string;
}> {
  const compression = await loadCompression(settings.compression);
  let secrets: SecretsFile | null = null;
  if (settings.secrets !== null) {
    try {
      secrets = await loadSecretsFile(settings.secrets);
    } catch (e) {
      throw new CliError(errorMessage(e), 1, { cause: e });
    }
  }
  let auth: AuthConfig | undefined;
  if (secrets !== null) {
    const replayPath = settings.replayDatabase;
    auth = await authFromSecrets(secrets, {
      async replay() {
        try {
          const wait = settings.limits.sqliteBusyTimeoutMs;
          return await sqliteReplayStore({
            path: replayPath,
            log: logger,
            ...(wait === undefined ? {} : { busyTimeoutMs: wait }),
          });
        } catch (e) {
          throw new CliError(`Cannot open replay database ${replayPath}: ${errorMessage(e)}`, 1, {
            cause: e,
          });
        }
      },
    });
  }
  const closeAuth = async () => {
    await Promise.all([auth?.toBroadcaster.close(), auth?.toSubscriber.close()]);
  };
  let store: Store | undefined;
  const pgUrl = settings.postgresUrl ?? secrets?.postgres?.url ?? null;
  const storage = settings.postgres !== null && pgUrl !== null
    ? postgresLabel(pgUrl)
    : storageLabel(settings);
  if (settings.postgres !== null) {
    try {
      store = await openConfiguredPostgres(settings.postgres, pgUrl, logger);
    } catch (e) {
      await closeAuth();
      throw e;
    }
  } else if (settings.rqlite !== null) {
    try {
      store = await openConfiguredRqlite(settings.rqlite, secrets, logger);
    } catch (e) {
      await closeAuth();
      throw e;
    }
  }
  try {
    const broadcaster = await createBroadcaster({
      database: settings.database,
      ...(store === undefined ? {} : { store }),
      pathPrefix: settings.pathPrefix,
      ...(settings.relayUrl === null ? {} : { relayUrl: settings.relayUrl }),
      compression,
      logger,
      limits: settings.limits,
      operations: settings.operations,
      subscriptions: settings.subscriptions,
      ...(settings.ssrfGuard === null ? {} : { ssrfGuard: settings.ssrfGuard }),
      ...(auth === undefined ? {} : { auth }),
    });
    const authKinds = auth === undefined
      ? "none/none"
      : `${auth.toBroadcaster.kind}/${auth.toSubscriber.kind}`;
    return {
      broadcaster,
      authKinds,
      toBroadcaster: auth?.toBroadcaster.kind ?? "none",
      storage,
    };
  } catch (e) {
    await Promise.all([closeAuth(), store?.close()]);
    throw new CliError(`Cannot open database ${storage}: ${errorMessage(e)}`, 1, {
      cause: e,
    });
  }
}

/** What the banner and errors call the storage. */
function storageLabel(s: ServeSettings): string {
  return s.rqlite === null ? s.database : `rqlite ${s.rqlite.urls.join(",")}`;
}

/** The first stdout line; tests and scripts parse the port from it. */
function banner(
  server: RunningServer,
  pathPrefix: string,
  storage: string,
  authKinds: string,
): string {
  const bound = server.addr.hostname;
  const host = bound === "0.0.0.0"
    ? "127.0.0.1"
    : bound === "::"
    ? "[::1]"
    : bound.includes(":")
    ? `[${bound}]`
    : bound;
  return `lonelypss ${VERSION} listening on http://${host}:${server.addr.port}${pathPrefix} ` +
    `(db ${storage}, auth ${authKinds})`;
}

type Signal = "SIGINT" | "SIGTERM";

/** Signal listeners: `Deno.addSignalListener` on Deno (`process` loads part of its Node layer). */
function signalListeners(): {
  on(signal: Signal, listener: () => void): void;
  off(signal: Signal, listener: () => void): void;
} {
  if (currentRuntime() === "deno" && Deno.build.os !== "windows") {
    return {
      on: (signal, listener) => Deno.addSignalListener(signal, listener),
      off: (signal, listener) => Deno.removeSignalListener(signal, listener),
    };
  }
  return nodeBuiltin<{
    on(signal: Signal, listener: () => void): void;
    off(signal: Signal, listener: () => void): void;
  }>("node:process");
}
