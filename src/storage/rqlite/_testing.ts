/**
 * Test helpers: real `rqlited` nodes and clusters on free 127.0.0.1 ports,
 * started and stopped by the tests themselves. `rqlited` is found through
 * `RQLITE_BIN` or `PATH`. Without it the rqlite tests do not run: under CI
 * (`CI=true`) that is a failure, elsewhere one line says how to get it.
 *
 * @module
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Short raft timeouts: elections in well under a second on loopback. */
export const FAST_RAFT = [
  "-raft-timeout",
  "300ms",
  "-raft-election-timeout",
  "300ms",
  "-raft-leader-lease-timeout",
  "300ms",
];

const HOW_TO_GET = "set RQLITE_BIN to an rqlited binary or put rqlited on PATH " +
  "(see tests/README.md#rqlited)";

/** The rqlited executable, or null when there is none. */
export function findRqlited(): string | null {
  const given = Deno.env.get("RQLITE_BIN");
  if (given !== undefined && given !== "") return isExecutable(given) ? given : null;
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    const candidate = join(dir, "rqlited");
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

let noticePrinted = false;

/**
 * Registers a test that needs rqlited: it gets the binary's path. Without
 * rqlited the test fails under CI and is skipped (with one printed line) elsewhere.
 */
export function rqliteTest(
  name: string,
  fn: (bin: string, t: Deno.TestContext) => Promise<void>,
): void {
  const bin = findRqlited();
  if (bin !== null) {
    Deno.test(name, (t) => fn(bin, t));
  } else if (Deno.env.get("CI") === "true") {
    Deno.test(name, () => {
      throw new Error(`rqlited not found, so the rqlite tests cannot run: ${HOW_TO_GET}`);
    });
  } else {
    if (!noticePrinted) {
      noticePrinted = true;
      console.log(`rqlite tests not run: rqlited not found; to run them, ${HOW_TO_GET}`);
    }
    Deno.test({ name, ignore: true, fn() {} });
  }
}

/** Free TCP ports on 127.0.0.1 (bound, then released, so another process may race for them). */
export function freePorts(n: number): number[] {
  const listeners = Array.from(
    { length: n },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  for (const l of listeners) l.close();
  return ports;
}

/** One rqlited process of a cluster. */
export class RqliteNode {
  /** Node id, e.g. `node1`. */
  readonly id: string;
  /** HTTP API base url. */
  readonly url: string;
  /** Raft address, host:port. */
  readonly raft: string;
  readonly #bin: string;
  readonly #args: string[];
  readonly #headers: Record<string, string>;
  #child: Deno.ChildProcess | null = null;
  #output: Promise<string> = Promise.resolve("");

  /** A node description; {@link start} runs it. */
  constructor(
    bin: string,
    id: string,
    httpPort: number,
    raftPort: number,
    args: string[],
    headers: Record<string, string> = {},
  ) {
    this.#bin = bin;
    this.#headers = headers;
    this.id = id;
    this.url = `http://127.0.0.1:${httpPort}`;
    this.raft = `127.0.0.1:${raftPort}`;
    this.#args = [
      "-node-id",
      id,
      "-http-addr",
      `127.0.0.1:${httpPort}`,
      "-raft-addr",
      this.raft,
      ...args,
    ];
  }

  /** Whether the process is running. */
  get running(): boolean {
    return this.#child !== null;
  }

  /** Starts the process (again, with the same data after a stop). */
  start(): void {
    if (this.#child !== null) throw new Error(`${this.id} is already running`);
    const child = new Deno.Command(this.#bin, {
      args: this.#args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    const drain = async (s: ReadableStream<Uint8Array>) => {
      let text = "";
      for await (const chunk of s.pipeThrough(new TextDecoderStream())) {
        text = (text + chunk).slice(-8000); // the tail is what explains a failure
      }
      return text;
    };
    this.#output = Promise.all([drain(child.stdout), drain(child.stderr)]).then((t) => t.join(""));
  }

  /** Stops the process (SIGTERM lets it step down gracefully; SIGKILL does not) and waits for it. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<string> {
    const child = this.#child;
    if (child === null) return "";
    try {
      child.kill(signal);
    } catch {
      // Already exited.
    }
    await child.status;
    this.#child = null;
    return await this.#output;
  }

  /** Whether this node answers /readyz with a leader known. */
  async ready(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/readyz`, {
        headers: this.#headers,
        signal: AbortSignal.timeout(1000),
      });
      await res.body?.cancel();
      return res.status === 200;
    } catch {
      return false;
    }
  }
}

/** A running cluster, stopped and deleted on dispose. */
export interface Cluster extends AsyncDisposable {
  /** The nodes, node1 first. */
  readonly nodes: RqliteNode[];
  /** The node that is leader now (polls until one is). */
  leader(timeoutMs?: number): Promise<RqliteNode>;
  /** Runs SQL directly against the cluster (test setup and inspection). */
  execute(statements: unknown[]): Promise<unknown>;
  /** Reads directly (strong consistency). */
  query(statements: unknown[]): Promise<{ columns: string[]; values?: unknown[][] }[]>;
}

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Extra rqlited flags for every node (e.g. {@link FAST_RAFT}, `-auth file`). */
  readonly args?: string[];
  /** Basic auth for {@link Cluster.execute} and {@link Cluster.query}. */
  readonly auth?: { user: string; password: string };
}

/** Starts `size` (1 or 3) nodes on free ports and waits until every one is ready. */
export async function startCluster(
  bin: string,
  size: 1 | 3,
  opts: ClusterOptions = {},
): Promise<Cluster> {
  const dir = await mkdtemp(join(tmpdir(), "lonelypss-rqlite-"));
  const ports = freePorts(size * 2);
  const raftAddrs = Array.from({ length: size }, (_, i) => `127.0.0.1:${ports[size + i]}`);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (opts.auth) headers.authorization = `Basic ${btoa(`${opts.auth.user}:${opts.auth.password}`)}`;
  const nodes = Array.from({ length: size }, (_, i) => {
    const join3 = size === 1
      ? []
      : ["-bootstrap-expect", "3", "-join", raftAddrs.join(","), "-join-interval", "200ms"];
    const args = [...join3, ...(opts.args ?? []), join(dir, `node${i + 1}`)];
    return new RqliteNode(bin, `node${i + 1}`, ports[i]!, ports[size + i]!, args, headers);
  });
  const send = async (url: string, statements: unknown[]): Promise<unknown> => {
    const res = await fetch(url, { method: "POST", headers, body: JSON.stringify(statements) });
    const body = await res.json();
    if (
      res.status !== 200 || body.error || body.results?.some((r: { error?: string }) => r.error)
    ) {
      throw new Error(`rqlite ${url} failed: ${JSON.stringify(body)}`);
    }
    return body;
  };
  const cluster: Cluster = {
    nodes,
    async leader(timeoutMs = 15_000) {
      let found: RqliteNode | undefined;
      await waitFor(`a leader among ${nodes.map((n) => n.url).join(", ")}`, timeoutMs, async () => {
        for (const n of nodes.filter((n) => n.running)) {
          const status = await getJson(`${n.url}/status`, headers);
          const addr = (status as { store?: { leader?: { addr?: string } } } | null)?.store?.leader
            ?.addr;
          const hit = nodes.find((m) => m.running && m.raft === addr);
          if (hit !== undefined && await hit.ready()) {
            found = hit;
            return true;
          }
        }
        return false;
      });
      return found!;
    },
    async execute(statements) {
      return await send(`${(await cluster.leader()).url}/db/execute?transaction`, statements);
    },
    async query(statements) {
      const body = await send(`${(await cluster.leader()).url}/db/query?level=strong`, statements);
      return (body as { results: { columns: string[]; values?: unknown[][] }[] }).results;
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const n of nodes) n.start();
    await waitFor("every node ready", 30_000, async () => {
      const ready = await Promise.all(nodes.map((n) => n.ready()));
      return ready.every(Boolean);
    });
  } catch (e) {
    const logs = await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}\n${logs.join("\n---\n")}`);
  }
  return cluster;
}

async function getJson(url: string, headers: Record<string, string>): Promise<unknown> {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(1000) });
    if (res.status !== 200) {
      await res.body?.cancel();
      return null;
    }
    return await res.json();
  } catch {
    return null;
  }
}

/**
 * Polls `check` (every 50 ms) until it holds.
 *
 * @throws {Error} naming `what` once `timeoutMs` has passed
 */
export async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean> | boolean,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > until) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
