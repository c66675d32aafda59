/**
 * Test helpers: a real PostgreSQL server of our own, made with `initdb` and
 * run with `pg_ctl` in a temporary directory, listening on a free 127.0.0.1
 * port (its unix socket in the same directory), password authentication over
 * TCP. The server refuses to run as root, so as root every command runs as
 * the `postgres` user (`runuser`), which owns the directory.
 *
 * The binaries are found through `PG_BIN` (a directory), Debian's
 * `/usr/lib/postgresql/<version>/bin`, or `PATH`. Without them the tests do
 * not run: under CI (`CI=true`) that is a failure, elsewhere one line says
 * how to get them.
 *
 * @module
 */

import { appendFile, chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "../rqlite/_testing.ts";

export { freePorts, waitFor } from "../rqlite/_testing.ts";

const HOW_TO_GET = "install PostgreSQL (apt-get install postgresql) or set PG_BIN " +
  "to the directory holding initdb and pg_ctl";

/** The password of the `postgres` user in every test cluster. */
export const TEST_PASSWORD = "s3cret-Pa55word";

/** The directory holding `initdb` and `pg_ctl`, or null when there is none. */
export function findPgBin(): string | null {
  const given = Deno.env.get("PG_BIN");
  if (given !== undefined && given !== "") return hasBinaries(given) ? given : null;
  const candidates: string[] = [];
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")]
      .map((e) => e.name)
      .filter((n) => /^\d+$/.test(n))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    // Not Debian's layout.
  }
  candidates.push(...(Deno.env.get("PATH") ?? "").split(":").filter((d) => d !== ""));
  return candidates.find(hasBinaries) ?? null;
}

function hasBinaries(dir: string): boolean {
  return ["initdb", "pg_ctl", "postgres"].every((b) => {
    try {
      const info = Deno.statSync(join(dir, b));
      return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
    } catch {
      return false;
    }
  });
}

let noticePrinted = false;

/**
 * Registers a test that needs PostgreSQL: it gets the binaries' directory.
 * Without them the test fails under CI and is skipped (with one printed line) elsewhere.
 */
export function postgresTest(
  name: string,
  fn: (bin: string, t: Deno.TestContext) => Promise<void>,
): void {
  const bin = findPgBin();
  if (bin !== null) {
    Deno.test(name, (t) => fn(bin, t));
  } else if (Deno.env.get("CI") === "true") {
    Deno.test(name, () => {
      throw new Error(`PostgreSQL not found, so the PostgreSQL tests cannot run: ${HOW_TO_GET}`);
    });
  } else {
    if (!noticePrinted) {
      noticePrinted = true;
      console.log(`PostgreSQL tests not run: initdb not found; to run them, ${HOW_TO_GET}`);
    }
    Deno.test({ name, ignore: true, fn() {} });
  }
}

/** Options of {@link startPostgres}. */
export interface PgClusterOptions {
  /** Serve TLS only, with this certificate and key (PEM; copied into the cluster). */
  readonly tls?: { readonly certPem: string; readonly keyPem: string };
}

/** A running test server, stopped and deleted on dispose. */
export class PgCluster implements AsyncDisposable {
  /** The temporary directory (data, socket, log). */
  readonly dir: string;
  /** TCP port on 127.0.0.1. */
  readonly port: number;
  readonly #bin: string;
  #running = false;

  private constructor(bin: string, dir: string, port: number) {
    this.#bin = bin;
    this.dir = dir;
    this.port = port;
  }

  /** A connection string for database `db` with the password, plus `query` parameters. */
  url(query = "", db = "postgres"): string {
    return `postgres://postgres:${TEST_PASSWORD}@127.0.0.1:${this.port}/${db}${query}`;
  }

  /** Whether the server is running (as far as this helper knows). */
  get running(): boolean {
    return this.#running;
  }

  /** Creates the cluster (initdb), configures it and starts it. */
  static async start(bin: string, opts: PgClusterOptions = {}): Promise<PgCluster> {
    // As root, the postgres user must reach the directory: /tmp is
    // world-traversable, a TMPDIR under /root is not.
    const dir = await mkdtemp(join(Deno.uid() === 0 ? "/tmp" : tmpdir(), "lonelypss-pg-"));
    const [port] = freePorts(1);
    const cluster = new PgCluster(bin, dir, port!);
    try {
      await cluster.#init(opts);
      await cluster.startServer();
    } catch (e) {
      await cluster.#stopQuietly();
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
    return cluster;
  }

  async #init(opts: PgClusterOptions): Promise<void> {
    const pw = join(this.dir, "pw");
    await writeFile(pw, TEST_PASSWORD + "\n", { mode: 0o600 });
    await this.#own(pw);
    await this.#own(this.dir);
    await this.#run("initdb", [
      "-D",
      this.#data,
      "-U",
      "postgres",
      "-E",
      "UTF8",
      "--locale=C",
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      `--pwfile=${pw}`,
      "--no-sync",
    ]);
    const conf = [
      `listen_addresses = '127.0.0.1'`,
      `port = ${this.port}`,
      `unix_socket_directories = '${this.dir}'`,
      // Test data need not survive a power cut; a clean stop or a crash of the server keeps it.
      `fsync = off`,
      `full_page_writes = off`,
      `shared_buffers = 16MB`,
      `max_connections = 60`,
      `log_min_messages = warning`,
    ];
    if (opts.tls !== undefined) {
      const cert = join(this.dir, "server.crt");
      const key = join(this.dir, "server.key");
      await writeFile(cert, opts.tls.certPem);
      await writeFile(key, opts.tls.keyPem, { mode: 0o600 });
      await this.#own(cert);
      await this.#own(key);
      conf.push(`ssl = on`, `ssl_cert_file = '${cert}'`, `ssl_key_file = '${key}'`);
      // TLS or nothing over TCP: a client that connects has used TLS.
      await writeFile(
        join(this.#data, "pg_hba.conf"),
        "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n" +
          "hostnossl all all 127.0.0.1/32 reject\n",
      );
    }
    await appendFile(join(this.#data, "postgresql.conf"), conf.join("\n") + "\n");
  }

  get #data(): string {
    return join(this.dir, "data");
  }

  /** Starts the server (again, with the same data after {@link stopServer}); waits until it accepts connections. */
  async startServer(): Promise<void> {
    await this.#run("pg_ctl", [
      "-D",
      this.#data,
      "-l",
      join(this.dir, "log"),
      "-w",
      "-t",
      "60",
      "start",
    ]);
    this.#running = true;
  }

  /** Stops the server: `fast` ends sessions cleanly, `immediate` is a crash. */
  async stopServer(mode: "fast" | "immediate" = "fast"): Promise<void> {
    await this.#run("pg_ctl", ["-D", this.#data, "-m", mode, "-w", "-t", "60", "stop"]);
    this.#running = false;
  }

  /** The server's log so far. */
  async log(): Promise<string> {
    try {
      return await Deno.readTextFile(join(this.dir, "log"));
    } catch {
      return "";
    }
  }

  async #stopQuietly(): Promise<void> {
    try {
      await this.stopServer("immediate");
    } catch {
      // Not running.
    }
  }

  /** Stops the server and deletes everything. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#stopQuietly();
    await rm(this.dir, { recursive: true, force: true });
  }

  async #own(path: string): Promise<void> {
    if (Deno.uid() !== 0) return;
    const { uid, gid } = postgresUser();
    await chown(path, uid, gid);
  }

  async #run(tool: string, args: string[]): Promise<void> {
    const exe = join(this.#bin, tool);
    // The server refuses root; as root, run it as the postgres user.
    const [cmd, full] = Deno.uid() === 0
      ? ["runuser", ["-u", "postgres", "--", exe, ...args]]
      : [exe, args];
    const out = await new Deno.Command(cmd, {
      args: full,
      cwd: this.dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      throw new Error(`${tool} failed (${out.code}): ${text}\n${await this.log()}`);
    }
  }
}

/** Starts a fresh test cluster. */
export function startPostgres(bin: string, opts: PgClusterOptions = {}): Promise<PgCluster> {
  return PgCluster.start(bin, opts);
}

function postgresUser(): { uid: number; gid: number } {
  const line = Deno.readTextFileSync("/etc/passwd").split("\n").find((l) =>
    l.startsWith("postgres:")
  );
  const f = line?.split(":");
  if (f === undefined || f.length < 4) throw new Error("No postgres user in /etc/passwd");
  return { uid: Number(f[2]), gid: Number(f[3]) };
}
