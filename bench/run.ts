/**
 * `deno task bench`: our broadcaster against the Python reference (and a raw
 * one-hop forwarder) on loopback. Every server and the load generator run as
 * separate processes; everything started is stopped at the end. Prints a
 * table and writes bench/results/bench-<time>.json.
 *
 * Flags: --quick (smoke run, seconds), --runs N, --only id,id (scenario ids:
 * ceiling,notify0,notify1,fanout,subscribe,big,hmac, and the websocket rows
 * wsnotify1,wsfanout,wsbig, or `ws` for all three; stats (delivery statistics
 * on vs off); rqlite; postgres; wszstd: zstd on a
 * websocket, bytes and CPU per message, see zstdScenario; client: the TypeScript client's
 * notify rate against lonelypsc's, and deliveries to one of its websocket
 * subscriptions, see bench/_client_rows.ts; scale: the scaling
 * table of bench/scale.ts, or one of its series: scale-glob, scale-fanout,
 * scale-ws; latency: p99 at half our peak rate against the forwarder, see
 * bench/latency.ts), --cpu-prof (profile
 * our broadcaster into bench/results/prof/), --no-ref. The rqlite scenario
 * needs rqlited (RQLITE_BIN or PATH) and is skipped, with a note, without it;
 * the postgres scenario needs PostgreSQL's initdb and pg_ctl (PG_BIN, Debian's
 * /usr/lib/postgresql/N/bin, or PATH), likewise.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  decodeHmacSecret,
  encodeHmacSecret,
  generateHmacSecret,
  hmacAuth,
  memoryReplayStore,
} from "../src/auth/mod.ts";
import { encodeSubscribeExact } from "../src/protocol/mod.ts";
import {
  aggregate,
  extraMedian,
  machine,
  type Row,
  type RunStat,
  table,
  zstdGoals,
  type ZstdRow,
  zstdTable,
} from "./_report.ts";
import {
  cpuSeconds,
  machineCpu,
  memory,
  resetPeak,
  type Server,
  spawn,
  startServer,
  stopAll,
} from "./_procs.ts";
import type { Job } from "./loadgen.ts";
import { FAST_RAFT, findRqlited, startCluster } from "../src/storage/rqlite/_testing.ts";
import { findPgBin, startPostgres } from "../src/storage/postgres/_testing.ts";
import { loadZstd, trainInWorker } from "../src/compression/mod.ts";
import { messageCorpus } from "../tests/compression/_corpus.ts";
import { best, measure as measureCodec, type Measured, packMessages } from "./_zstd_measure.ts";
import { createHash } from "node:crypto";
import { clientRows } from "./_client_rows.ts";
import { latencyRows } from "./latency.ts";
import { SCALE_SERIES, type ScalePoint, scaleScenario, scaleTable } from "./scale.ts";

const here = (p: string) => new URL(p, import.meta.url).pathname;
const RESULTS = here("./results/");
const VENV = here("./results/.venv/");
const PY = `${VENV}bin/python`;

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    runs: { type: "string" },
    only: { type: "string" },
    "cpu-prof": { type: "boolean", default: false },
    "no-ref": { type: "boolean", default: false },
    // "off": every broadcaster of ours serves with Deno.serve directly (`--front off`).
    "deno-front": { type: "string", default: "on" },
    // Length of the long hmac run, seconds (default 60; 5 with --quick).
    "hmac-long-s": { type: "string" },
    // wszstd: notifies per second in the measured part (default: as fast as delivered).
    "zstd-rate": { type: "string" },
  },
});
const Q = flags.quick;
const P = {
  runs: Number(flags.runs ?? (Q ? 1 : 3)),
  durationS: Q ? 1 : 3,
  warmupS: Q ? 0.2 : 0.5,
  subscribeOurs: Q ? 2_000 : 100_000,
  subscribeRqlite: Q ? 500 : 5_000,
  // The reference is far slower at subscribing (file DB: one fsync'd
  // transaction per request), so it gets fewer requests; the table says so.
  subscribeRef: { memory: Q ? 2_000 : 10_000, file: Q ? 200 : 2_000 } as Record<string, number>,
  bigBytes: Q ? 64 * 1024 * 1024 : 1024 * 1024 * 1024,
  fanout: [100, 1000],
  /** The long hmac run (RSS over time). */
  hmacLongS: Number(flags["hmac-long-s"] ?? (Q ? 5 : 60)),
  /** Subscriber processes the fan-out urls are spread over. */
  fanoutSubscribers: 3,
  // Websocket rows. Deliveries owed (queued by the broadcaster, not yet
  // acknowledged) are capped by the load generator: neither broadcaster pushes
  // back on a notify when a connection's queue fills, both close the
  // connection instead (at 255 queued), so an unpaced notifier only measures
  // how fast the queue overflows.
  wsNotify1: { concurrency: 16, window: 64 },
  wsFanout: { subscribers: 1000, processes: 4, concurrency: 1, windowNotifies: 4 },
  /**
   * The reference's RECEIVE_STREAM part size, its test harness's (its template's 16 MiB breaks the
   * official client, which refuses frames over 4 MiB); ours sends its default part size.
   */
  wsPartBytes: 3.5 * 1024 * 1024,
  // zstd on a websocket: the bench corpus (JSON messages of 100–1,000 bytes),
  // notified in order to one subscriber; the first messages warm up (and
  // train the dictionary), the last `measured` are measured.
  wsZstd: {
    messages: Q ? 2_500 : 10_000,
    measured: Q ? 2_000 : 8_000,
    seed: 1,
    concurrency: 16,
    window: 64,
    rate: flags["zstd-rate"] === undefined ? undefined : Number(flags["zstd-rate"]),
  },
};
const WS_IDS = ["wsnotify1", "wsfanout", "wsbig"];
const only = flags.only?.split(",").flatMap((id) => id === "ws" ? WS_IDS : [id]) ?? null;
const want = (id: string) => only === null || only.includes(id);
const withRef = !flags["no-ref"];

/** Creates the reference's venv from the pinned requirements when missing. */
async function ensureVenv(): Promise<void> {
  if (existsSync(PY)) return;
  console.error("Creating the reference venv in bench/results/.venv ...");
  const python = Deno.env.get("PYTHON") ?? "python3";
  for (
    const [cmd, args] of [
      [python, ["-m", "venv", VENV]],
      [PY, ["-m", "pip", "install", "-q", "-r", here("./requirements-reference.txt")]],
    ] as const
  ) {
    const out = await new Deno.Command(cmd, { args: [...args], stdout: "inherit" }).output();
    if (!out.success) throw new Error(`Venv setup failed: ${cmd} ${args.join(" ")}`);
  }
}

type Sys = "ours" | "ref" | "fwd";
let profRun = 0;

function startOurs(extra: string[] = []): Promise<Server> {
  const prof = flags["cpu-prof"]
    ? [
      "--cpu-prof",
      `--cpu-prof-dir=${RESULTS}prof`,
      `--cpu-prof-name=ours-${++profRun}.cpuprofile`,
    ]
    : [];
  const front = flags["deno-front"] === "off" && !extra.includes("--front")
    ? ["--front", "off"]
    : [];
  return startServer("ours", "deno", [
    "run",
    "-A",
    ...prof,
    here("./ours_server.ts"),
    ...front,
    ...extra,
  ]);
}

function startRef(extra: string[] = []): Promise<Server> {
  return startServer("ref", PY, [here("./reference_server.py"), ...extra]);
}

async function withServer<T>(s: Promise<Server>, fn: (s: Server) => Promise<T>): Promise<T> {
  const server = await s;
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

/**
 * Runs one loadgen job; samples the target's CPU from MEASURE to the result.
 * With websocket deliveries the result comes once they are all in, and the
 * rate, the CPU share and the CPU per operation are per completed delivery
 * over that whole time (the notify rate is kept in `extra.notifyRps`).
 */
async function measure(
  target: Server | null,
  job: Job,
  clients: Server[] = [],
  /** Another load generator speaking loadgen's output protocol (the client rows). */
  command?: [string, string[]],
): Promise<RunStat> {
  const idleMiB = target === null ? NaN : memory(target.pid).rssMiB;
  if (target !== null) resetPeak(target.pid);
  const child = command === undefined
    ? spawn("deno", ["run", "-A", here("./loadgen.ts"), JSON.stringify(job)])
    : spawn(...command);
  // Who else used the CPU meanwhile: the subscriber processes, the load
  // generator, and the machine as a whole (other work on it included).
  const others = () => ({
    clients: clients.reduce((a, c) => a + cpuSeconds(c.pid), 0),
    loadgen: cpuSeconds(child.pid),
    machine: machineCpu(),
  });
  let c0 = NaN;
  let o0 = null as ReturnType<typeof others> | null;
  let result: Omit<RunStat, "cpuPct" | "cpuUsPerOp" | "hwmMiB" | "rssMiB" | "idleMiB"> | null =
    null;
  for await (const line of child.stdout) {
    if (line === "MEASURE") {
      c0 = target === null ? NaN : cpuSeconds(target.pid);
      if (clients.length > 0) o0 = others();
    } else if (line.startsWith("{")) {
      result = JSON.parse(line);
      break;
    }
  }
  const c1 = target === null ? NaN : cpuSeconds(target.pid);
  const o1 = o0 === null ? null : others();
  const mem = target === null ? { rssMiB: NaN, hwmMiB: NaN } : memory(target.pid);
  await child.stop();
  if (result === null) throw new Error(`Loadgen failed: ${child.stderrTail()}`);
  const cpu = c1 - c0;
  if (result.delivered === undefined && o0 !== null && o1 !== null) {
    // HTTP subscribers given: what they and the machine used meanwhile.
    const pct = (x: number) => (x / result!.durationS) * 100;
    return {
      ...result,
      cpuPct: pct(cpu),
      cpuUsPerOp: (cpu / Math.max(1, result.requests)) * 1e6,
      ...mem,
      idleMiB,
      extra: {
        clientsCpuPct: pct(o1.clients - o0.clients),
        loadgenCpuPct: pct(o1.loadgen - o0.loadgen),
        machineBusyPct: pct(o1.machine.busy - o0.machine.busy),
      },
    };
  }
  if (result.delivered !== undefined && result.deliveredS !== undefined) {
    const notifyRps = result.rps;
    const seconds = result.deliveredS;
    const pct = (x: number) => (x / seconds) * 100;
    const extra: Record<string, number> = { notifyRps };
    if (o0 !== null && o1 !== null) {
      extra.clientsCpuPct = pct(o1.clients - o0.clients);
      extra.loadgenCpuPct = pct(o1.loadgen - o0.loadgen);
      // All cores together, as % of one core (2 cores fully busy = 200 %).
      extra.machineBusyPct = pct(o1.machine.busy - o0.machine.busy);
    }
    return {
      ...result,
      rps: result.delivered / seconds,
      cpuPct: pct(cpu),
      cpuUsPerOp: (cpu / Math.max(1, result.delivered)) * 1e6,
      ...mem,
      idleMiB,
      extra,
    };
  }
  return {
    ...result,
    cpuPct: (cpu / result.durationS) * 100,
    cpuUsPerOp: (cpu / Math.max(1, result.requests)) * 1e6,
    ...mem,
    idleMiB,
  };
}

async function repeat(n: number, fn: () => Promise<RunStat>) {
  const runs: RunStat[] = [];
  for (let i = 0; i < n; i++) runs.push(await fn());
  return aggregate(runs);
}

async function subscribeMany(
  s: Server,
  topic: string,
  n: number,
  urlPrefix: string,
  urlPrefixes?: string[],
) {
  const r = await measure(null, {
    mode: "subscribe",
    url: `http://127.0.0.1:${s.port}/v1/subscribe/exact`,
    count: n,
    concurrency: 8,
    urlPrefix,
    ...(urlPrefixes === undefined ? {} : { urlPrefixes }),
    topic,
  });
  if (r.errors > 0) throw new Error(`Subscribing failed on ${s.name}: ${r.firstError}`);
}

async function subscriberStats(sub: Server): Promise<Record<string, number>> {
  return await (await fetch(`http://127.0.0.1:${sub.port}/stats`)).json();
}

const rows: Row[] = [];
const notes: string[] = [];

function show(row: Row): void {
  rows.push(row);
  console.error(table([row]).split("\n")[2]);
}

function notifyJob(port: number, topic: string, c: number, extra: Partial<Job> = {}): Job {
  return {
    mode: "notify",
    url: `http://127.0.0.1:${port}/v1/notify`,
    topic,
    size: 64,
    concurrency: c,
    durationS: P.durationS,
    warmupS: P.warmupS,
    ...extra,
  } as Job;
}

async function runWrk(port: number): Promise<number | null> {
  try {
    const lua = `${RESULTS}wrk-post.lua`;
    await Deno.writeTextFile(lua, 'wrk.method = "POST"\nwrk.body = string.rep("x", 64)\n');
    const out = await new Deno.Command("wrk", {
      args: ["-t1", "-c64", `-d${P.durationS}s`, "-s", lua, `http://127.0.0.1:${port}/x`],
      stdout: "piped",
      stderr: "null",
    }).output();
    const m = /Requests\/sec:\s+([\d.]+)/.exec(new TextDecoder().decode(out.stdout));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  await Deno.mkdir(RESULTS, { recursive: true });
  if (withRef) await ensureVenv();
  const started = performance.now();
  const sub = await startServer("subscriber", "deno", ["run", "-A", here("./subscriber.ts")]);
  const subUrl = (path: string) => `http://127.0.0.1:${sub.port}${path}`;
  const systems: Sys[] = withRef ? ["ours", "ref"] : ["ours"];
  const start = (sys: Sys, extra: string[] = []) =>
    sys === "ours"
      ? startOurs(extra)
      : sys === "ref"
      ? startRef(extra)
      : startServer("fwd", "deno", ["run", "-A", here("./forwarder.ts"), "--target", subUrl("/f")]);

  if (want("ceiling")) {
    for (const c of [16, 64]) {
      const a = await repeat(P.runs, () => measure(null, notifyJob(sub.port, "x", c)));
      show({
        id: `ceiling-c${c}`,
        label: `loadgen → subscriber direct, c=${c} (ceiling)`,
        metric: "rps",
        ours: a,
      });
    }
    const wrk = await runWrk(sub.port);
    if (wrk !== null) {
      notes.push(`wrk -t1 -c64 against the same subscriber: ${wrk.toFixed(0)} req/s`);
    }
  }

  if (want("notify0")) {
    const row = (c: number): Row => ({
      id: `notify0-c${c}`,
      label: `notify, 0 subscribers, c=${c}`,
      metric: "rps",
    });
    const rs = [1, 16, 64].map(row);
    for (const sys of systems) {
      await withServer(start(sys), async (s) => {
        for (const [i, c] of [1, 16, 64].entries()) {
          rs[i]![sys] = await repeat(
            P.runs,
            () => measure(s, notifyJob(s.port, "nobody", c, { expectCount: 0 })),
          );
        }
      });
    }
    rs.forEach(show);
  }

  if (want("notify1")) {
    const rs = [1, 16, 64].map((c): Row => ({
      id: `notify1-c${c}`,
      label: `notify → 1 subscriber, 64 B, c=${c}`,
      metric: "rps",
      ...(c === 1 ? {} : { goal: "≥0.9× fwd" }),
    }));
    // The same with the Deno front off (`front: false`, `--front off`):
    // Deno.serve on the public port, as the forwarder runs.
    const direct = [16, 64].map((c): Row => ({
      id: `notify1-direct-c${c}`,
      label: `the same, c=${c}, front off (Deno.serve direct)`,
      metric: "rps",
      goal: "≥0.9× fwd",
    }));
    for (const sys of [...systems, "fwd"] as Sys[]) {
      await withServer(start(sys), async (s) => {
        if (sys !== "fwd") await subscribeMany(s, "one", 1, subUrl("/one/"));
        for (const [i, c] of [1, 16, 64].entries()) {
          const expect = sys === "fwd" ? {} : { expectCount: 1 };
          rs[i]![sys] = await repeat(P.runs, () => measure(s, notifyJob(s.port, "one", c, expect)));
        }
      });
    }
    await withServer(start("ours", ["--front", "off"]), async (s) => {
      await subscribeMany(s, "one", 1, subUrl("/one/"));
      for (const [i, c] of [16, 64].entries()) {
        direct[i]!.ours = await repeat(
          P.runs,
          () => measure(s, notifyJob(s.port, "one", c, { expectCount: 1 })),
        );
        const fwd = rs[i + 1]!.fwd;
        if (fwd !== undefined) direct[i]!.fwd = fwd;
      }
    });
    rs.forEach(show);
    direct.forEach(show);
  }

  if (want("fanout")) {
    // More subscriber servers, so that answering 1,000 RECEIVEs is not the
    // limit: the urls are spread over them round-robin.
    const extra = await Promise.all(
      Array.from(
        { length: P.fanoutSubscribers - 1 },
        (_, i) =>
          startServer(`subscriber-${i + 2}`, "deno", ["run", "-A", here("./subscriber.ts")]),
      ),
    );
    const servers = [sub, ...extra];
    try {
      for (const n of P.fanout) {
        const row: Row = {
          id: `fanout-${n}`,
          label: `fan-out: 1 notify → ${n} subscribers, c=1 (notifies/s)`,
          metric: "rps",
          ...(n === 1000 ? { goal: "≥10× ref" } : {}),
        };
        for (const sys of systems) {
          await withServer(start(sys), async (s) => {
            const prefixes = servers.map((x) => `http://127.0.0.1:${x.port}/many/${n}/`);
            await subscribeMany(s, "many", n, prefixes[0]!, prefixes);
            row[sys] = await repeat(
              P.runs,
              () => measure(s, notifyJob(s.port, "many", 1, { expectCount: n, minRequests: 2 })),
            );
          });
        }
        show(row);
      }
    } finally {
      await Promise.all(extra.map((x) => x.stop()));
    }
    notes.push(
      `fanout: subscribers spread over ${P.fanoutSubscribers} subscriber processes`,
    );
  }

  if (want("subscribe")) {
    // The ceiling for any route: the same requests to a hello-world Deno.serve.
    const hello = await repeat(P.runs, () =>
      withServer(
        startServer("hello", "deno", ["run", "-A", here("./hello.ts")]),
        (s) =>
          measure(s, {
            mode: "subscribe",
            url: `http://127.0.0.1:${s.port}/v1/subscribe/exact`,
            count: P.subscribeOurs,
            concurrency: 16,
            urlPrefix: subUrl("/s/"),
            topicPrefix: "topic/",
          }),
      ));
    show({
      id: "hello-c16",
      label: "hello-world Deno.serve, the same requests, c=16 (ceiling)",
      metric: "rps",
      ours: hello,
    });
    // "memory-direct": the same with the Deno front off (`--front off`).
    for (const db of ["memory", "memory-direct", "file"]) {
      const direct = db === "memory-direct";
      const row: Row = {
        id: `subscribe-${db}`,
        label: direct
          ? "the same, front off (Deno.serve direct)"
          : `subscribe_exact ×${P.subscribeOurs.toLocaleString("en-US")} (${db} DB), c=16`,
        metric: "rps",
        goal: db === "file" ? "≥10× ref" : "≥0.7× hello",
        ...(db === "file" ? {} : { fwd: hello }),
      };
      const refCount = P.subscribeRef[direct ? "memory" : db]!;
      if (withRef && !direct && refCount !== P.subscribeOurs) {
        row.note = `ref capped at ${refCount.toLocaleString("en-US")}`;
      }
      for (const sys of direct ? ["ours" as const] : systems) {
        const count = sys === "ours" ? P.subscribeOurs : refCount;
        row[sys] = await repeat(P.runs, async () => {
          const file = `${RESULTS}sub-${sys}.db`;
          const dbArg = db === "file" ? file : ":memory:";
          await removeDb(file);
          try {
            const args = ["--db", dbArg, ...(direct ? ["--front", "off"] : [])];
            return await withServer(start(sys, args), (s) =>
              measure(s, {
                mode: "subscribe",
                url: `http://127.0.0.1:${s.port}/v1/subscribe/exact`,
                count,
                concurrency: 16,
                urlPrefix: subUrl("/s/"),
                topicPrefix: "topic/",
              }));
          } finally {
            await removeDb(file);
          }
        });
      }
      show(row);
    }
  }

  if (want("big")) {
    const mib = P.bigBytes / 1024 / 1024;
    const row: Row = {
      id: "big",
      label: `one ${mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`} notify → 1 subscriber (MB/s)`,
      metric: "mbps",
      goal: "≥1.5× ref, peak RSS ≤ fwd's + 16 MiB",
    };
    const spool = `${RESULTS}spool`;
    await Deno.mkdir(spool, { recursive: true });
    /** Runs `sys` with `extra` flags and puts its result in `into`. */
    const measureBig = (into: Row, sys: Sys, extra: string[]) =>
      withServer(start(sys, extra), async (s) => {
        if (sys !== "fwd") await subscribeMany(s, "big", 1, subUrl("/big/"));
        const before = await subscriberStats(sub);
        into[sys] = await repeat(P.runs, () =>
          measure(s, {
            mode: "big",
            url: `http://127.0.0.1:${s.port}/v1/notify`,
            topic: "big",
            bytes: P.bigBytes,
            ...(sys === "fwd" ? {} : { expectCount: 1 }),
          }));
        const after = await subscriberStats(sub);
        if (sys !== "fwd" && after.badDigest !== before.badDigest) {
          notes.push(`${into.id}: ${sys} delivered a wrong digest`);
        }
      });
    // The forwarder streams the same transfer through: the RSS a hop needs.
    for (const sys of [...systems, "fwd"] as Sys[]) {
      await measureBig(row, sys, sys === "ours" ? ["--spool-dir", spool] : []);
    }
    show(row);
    // Ours again with the message verified whole before it goes out (as before issue 23):
    // what delivering while it arrives gains, measured in the same run.
    const verified: Row = {
      id: "big-verified-first",
      label: "the same, ours verified before delivered (deliverWhileReceiving off)",
      metric: "mbps",
    };
    await measureBig(verified, "ours", ["--spool-dir", spool, "--deliver-while-receiving", "off"]);
    show(verified);
  }

  if (want("stats")) {
    // Delivery statistics (docs/subscriptions.md) on, as by default, and off,
    // on a SQLite file so the batched flushes really write. Alternated, each
    // run on a fresh server, so drift in the machine's load hits both alike.
    const on: Row = {
      id: "stats-on-c16",
      label: "notify → 1 subscriber, delivery stats on (file db), c=16",
      metric: "rps",
      goal: "within 5 % of off",
    };
    const off: Row = {
      id: "stats-off-c16",
      label: "the same, delivery stats off",
      metric: "rps",
    };
    const runs: Record<"on" | "off", RunStat[]> = { on: [], off: [] };
    for (let i = 0; i < P.runs; i++) {
      for (const mode of ["on", "off"] as const) {
        const file = `${RESULTS}sub-stats-${mode}.db`;
        await removeDb(file);
        await withServer(start("ours", ["--db", file, "--stats", mode]), async (s) => {
          await subscribeMany(s, "st-one", 1, subUrl("/st-one/"));
          runs[mode].push(await measure(s, notifyJob(s.port, "st-one", 16, { expectCount: 1 })));
        });
        await removeDb(file);
      }
    }
    on.ours = aggregate(runs.on);
    off.ours = aggregate(runs.off);
    show(on);
    show(off);
  }
  if (want("latency")) {
    const lat = await latencyRows({
      runs: P.runs,
      durationS: P.durationS,
      warmupS: P.warmupS,
      concurrency: [16, 64],
      start: (sys) => start(sys),
      subscribe: (s, topic, url) => subscribeMany(s, topic, 1, url),
      measure: (s, job) => measure(s, job),
      repeat,
      subscriberUrl: subUrl("/lat/"),
    });
    lat.forEach(show);
  }

  if (want("rqlite")) await rqliteScenario(start, subUrl);
  if (want("postgres")) await postgresScenario(start, subUrl);

  if (want("hmac")) {
    const s2b = encodeHmacSecret(generateHmacSecret());
    const b2s = encodeHmacSecret(generateHmacSecret());
    // `--name=value`: a base64url secret may start with "-", which argparse and parseArgs would
    // take for an option in `--name value`.
    const secrets = [`--hmac-s2b=${s2b}`, `--hmac-b2s=${b2s}`];
    const hsub = await startServer("hmac-subscriber", "deno", [
      "run",
      "-A",
      here("./subscriber.ts"),
      ...secrets,
    ]);
    try {
      const row: Row = {
        id: "hmac-c16",
        label: "notify → 1 subscriber, hmac both ways, c=16",
        metric: "rps",
        goal: "≥6× ref",
      };
      // One long run of ours: does memory stay flat while codes pile up?
      const long: Row = {
        id: "hmac-c16-long",
        label: `the same, one ${P.hmacLongS} s run (RSS: before → peak / after)`,
        metric: "rps",
        idle: true,
        goal: "RSS flat",
      };
      for (const sys of systems) {
        await withServer(start(sys, secrets), async (s) => {
          // With hmac to the broadcaster, the setup subscribe must be signed too.
          await signedSubscribe(s.port, s2b, `http://127.0.0.1:${hsub.port}/h/0`, "hm");
          row[sys] = await repeat(
            P.runs,
            () => measure(s, notifyJob(s.port, "hm", 16, { expectCount: 1, hmacS2b: s2b })),
          );
          if (sys !== "ours") return;
          long.ours = await repeat(1, () =>
            measure(
              s,
              notifyJob(s.port, "hm", 16, {
                expectCount: 1,
                hmacS2b: s2b,
                durationS: P.hmacLongS,
              }),
            ));
        });
      }
      const st = await subscriberStats(hsub);
      if (st.badAuth! > 0) notes.push(`hmac: subscriber saw ${st.badAuth} RECEIVEs with bad auth`);
      show(row);
      show(long);
    } finally {
      await hsub.stop();
    }
  }

  await sub.stop();
  await websocketRows(systems);
  const series = SCALE_SERIES.filter((x) => want("scale") || want(`scale-${x}`));
  const scale: ScalePoint[] = series.length > 0
    ? await scaleScenario({
      series,
      quick: Q,
      durationS: P.durationS,
      warmupS: P.warmupS,
      startOurs,
      measure,
      startSubscribers: (n) =>
        Promise.all(
          Array.from(
            { length: n },
            (_, i) =>
              startServer(`scale-subscriber-${i}`, "deno", ["run", "-A", here("./subscriber.ts")]),
          ),
        ),
      startWsSubscribers: (s, topic, total, processes) =>
        startWsSubscribers(s, topic, total, processes),
      notes,
    })
    : [];
  if (want("wszstd")) await zstdScenario(systems);
  if (want("client")) {
    (await clientRows({ start: () => startOurs(), measure, repeat, runs: P.runs, quick: Q }))
      .forEach(show);
  }
  const elapsed = (performance.now() - started) / 1000;
  const py = withRef
    ? new TextDecoder().decode(
      (await new Deno.Command(PY, { args: ["--version"], stdout: "piped" }).output()).stdout,
    ).trim()
    : "not run";
  let wrkVersion: string | null = null;
  try {
    const o = await new Deno.Command("wrk", { args: ["-v"], stdout: "piped", stderr: "piped" })
      .output();
    wrkVersion = new TextDecoder().decode(o.stdout).split("\n")[0] ?? null;
  } catch { /* not installed */ }
  const m = machine(py, wrkVersion);
  const out = table(rows);
  console.log(
    `\nlonelypss-ts bench (${Q ? "quick" : "full"}, median of ${P.runs} run(s), ${
      elapsed.toFixed(0)
    } s${flags["deno-front"] === "off" ? ", ours with the Deno front off" : ""})`,
  );
  console.log(
    `machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryMiB} MiB, deno ${m.deno}, ${py}\n`,
  );
  if (rows.length > 0) console.log(out);
  if (zstdRows.length > 0) console.log(`\n${zstdTable(zstdRows, P.wsZstd.measured)}`);
  if (scale.length > 0) console.log(`\n${scaleTable(scale)}`);
  console.log(
    "\nours/ref > 1 means ours is faster. ceiling = the raw Deno forwarder (notify and 1 GiB rows: one-hop " +
      "ceiling) or hello-world Deno.serve (subscribe row). CPU = server process CPU during the measured part " +
      "(% of one core / CPU-seconds per 1,000 requests; 1 GiB rows: for the transfer); RSS = VmHWM (reset " +
      "per run) / VmRSS after.",
  );
  for (const n of notes) console.log(`note: ${n}`);
  const file = `${RESULTS}bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify(
      {
        machine: m,
        params: P,
        quick: Q,
        denoFront: flags["deno-front"] !== "off",
        elapsedS: elapsed,
        notes,
        rows,
        zstd: zstdRows.length === 0 ? undefined : { rows: zstdRows, goals: zstdGoals(zstdRows) },
        scale: scale.length === 0 ? undefined : scale,
      },
      null,
      2,
    ),
  );
  console.log(`\nwrote ${file}`);
}

/**
 * Starts `total` websocket subscribers of `topic` on `s`, spread over
 * `processes` processes (each prints LISTENING once all its connections are
 * subscribed).
 */
async function startWsSubscribers(
  s: Server,
  topic: string,
  total: number,
  processes: number,
  extra: string[] = [],
): Promise<Server[]> {
  const n = Math.min(processes, total);
  const started = await Promise.allSettled(
    Array.from({ length: n }, (_, i) =>
      startServer(`ws-subscriber-${i}`, "deno", [
        "run",
        "-A",
        here("./ws_subscriber.ts"),
        "--url",
        `http://127.0.0.1:${s.port}`,
        "--topic",
        topic,
        "--connections",
        String(Math.floor(total / n) + (i < total % n ? 1 : 0)),
        ...extra,
      ])),
  );
  const ok = started.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  const failed = started.find((r) => r.status === "rejected");
  if (failed !== undefined) {
    await Promise.all(ok.map((p) => p.stop()));
    throw (failed as PromiseRejectedResult).reason;
  }
  return ok;
}

/** Summed counters of websocket subscriber processes. */
async function wsStats(subs: Server[]): Promise<Record<string, number | string | null>> {
  const all = await Promise.all(subs.map(subscriberStats));
  const sum: Record<string, number | string | null> = { firstError: null };
  for (const st of all) {
    for (const [k, v] of Object.entries(st as Record<string, unknown>)) {
      if (typeof v === "number" && k !== "lastAt") sum[k] = ((sum[k] as number) ?? 0) + v;
      if (k === "firstError" && v !== null) sum.firstError ??= String(v);
    }
  }
  return sum;
}

/**
 * Runs `fn` with websocket subscribers on `s`; afterwards adds a note when a
 * subscriber saw a closed connection, a bad digest or a protocol surprise.
 */
async function withWsSubscribers<T>(
  label: string,
  s: Server,
  topic: string,
  total: number,
  processes: number,
  fn: (subs: Server[]) => Promise<T>,
  extra: string[] = [],
): Promise<T> {
  const subs = await startWsSubscribers(s, topic, total, processes, extra);
  try {
    const out = await fn(subs);
    const st = await wsStats(subs);
    if (st.closed !== 0 || st.badDigest !== 0 || st.errors !== 0 || (st.badPlain ?? 0) !== 0) {
      notes.push(
        `${label}: ${s.name}: subscribers saw ${st.closed} closed connection(s), ` +
          `${st.badDigest} bad digest(s), ${st.badPlain ?? 0} bad plaintext(s), ` +
          `${st.errors} protocol error(s); first: ${st.firstError}`,
      );
    }
    return out;
  } finally {
    await Promise.all(subs.map((p) => p.stop()));
  }
}

/** A note with the medians of what else a websocket row's runs measured. */
function wsNote(row: Row): void {
  const parts: string[] = [];
  for (const sys of ["ours", "ref"] as const) {
    const runs = row[sys]?.runs;
    if (runs === undefined) continue;
    const med = (k: string) => {
      const xs = runs.map((r) => Number(r.extra?.[k] ?? NaN)).filter(Number.isFinite)
        .sort((a, b) => a - b);
      return xs.length === 0 ? NaN : xs[Math.floor(xs.length / 2)]!;
    };
    const drain = runs.map((r) => r.drainS ?? NaN).sort((a, b) => a - b)[runs.length >> 1]!;
    parts.push(
      `${sys}: notifies/s ${med("notifyRps").toFixed(1)}, deliveries done ${
        drain.toFixed(2)
      } s after the last notify; CPU % of a core: subscribers ${
        med("clientsCpuPct").toFixed(0)
      }, load generator ${med("loadgenCpuPct").toFixed(0)}, whole machine ${
        med("machineBusyPct").toFixed(0)
      } of ${navigator.hardwareConcurrency * 100}`,
    );
  }
  if (parts.length > 0) notes.push(`${row.id}: ${parts.join("; ")}`);
}

function progressUrls(subs: Server[]): string[] {
  return subs.map((p) => `ws://127.0.0.1:${p.port}/progress`);
}

/**
 * A broadcaster for the websocket rows: ours with its default part size
 * (docs/decisions.md#part-sizes), the reference with parts of `P.wsPartBytes`.
 */
function startWs(sys: Sys, extra: string[] = []): Promise<Server> {
  return sys === "ours"
    ? startOurs(extra)
    : startRef(["--ws-part-bytes", String(P.wsPartBytes), ...extra]);
}

/** The websocket rows: HTTP notifiers, subscribers on websockets (ws_subscriber.ts). */
async function websocketRows(systems: Sys[]): Promise<void> {
  if (want("wsnotify1")) {
    const { concurrency: c, window } = P.wsNotify1;
    const row: Row = {
      id: `wsnotify1-c${c}`,
      label: `notify → 1 websocket subscriber, 64 B, c=${c} (notifies/s, acked)`,
      metric: "rps",
      goal: "≥10× ref",
    };
    for (const sys of systems) {
      await withServer(
        startWs(sys),
        (s) =>
          withWsSubscribers(row.id, s, "wsone", 1, 1, async (subs) => {
            row[sys] = await repeat(P.runs, () =>
              measure(
                s,
                notifyJob(s.port, "wsone", c, {
                  expectCount: 1,
                  deliveries: { progress: progressUrls(subs), perNotify: 1, window },
                }),
                subs,
              ));
          }),
      );
    }
    show(row);
    wsNote(row);
  }

  if (want("wsfanout")) {
    const { subscribers: n, processes, concurrency: c, windowNotifies } = P.wsFanout;
    const row: Row = {
      id: `wsfanout-${n}`,
      label: `fan-out: 1 notify → ${
        n.toLocaleString("en-US")
      } websocket subscribers (${processes} processes), c=${c} (deliveries/s)`,
      metric: "rps",
      goal: "≥10× ref",
    };
    for (const sys of systems) {
      await withServer(
        startWs(sys),
        (s) =>
          withWsSubscribers(row.id, s, "wsmany", n, processes, async (subs) => {
            row[sys] = await repeat(P.runs, () =>
              measure(
                s,
                notifyJob(s.port, "wsmany", c, {
                  expectCount: n,
                  minRequests: 3,
                  deliveries: {
                    progress: progressUrls(subs),
                    perNotify: n,
                    window: n * windowNotifies,
                  },
                }),
                subs,
              ));
          }),
      );
    }
    show(row);
    wsNote(row);
  }

  if (want("wsbig")) {
    const mib = P.bigBytes / 1024 / 1024;
    const row: Row = {
      id: "wsbig",
      label: `one ${
        mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`
      } notify → 1 websocket subscriber (MB/s until acked)`,
      metric: "mbps",
      goal: "ours peak RSS <2× idle",
      idle: true,
    };
    const spool = `${RESULTS}spool`;
    await Deno.mkdir(spool, { recursive: true });
    if (withRef) row.note = "ref: outgoing HTTP timeouts raised, see bench/README.md";
    /** Runs `sys` with `extra` flags (a fresh broadcaster per run) and puts its result in `into`. */
    const measureWsBig = async (into: Row, sys: Sys, extra: string[]) => {
      // A fresh broadcaster per run: idle RSS is a new process's (memory a
      // previous 1 GiB run left with the allocator would count as idle).
      into[sys] = await repeat(P.runs, () =>
        withServer(
          startWs(sys, extra),
          (s) =>
            withWsSubscribers(into.id, s, "wsbig", 1, 1, (subs) =>
              measure(s, {
                mode: "big",
                url: `http://127.0.0.1:${s.port}/v1/notify`,
                topic: "wsbig",
                bytes: P.bigBytes,
                expectCount: 1,
                deliveries: { progress: progressUrls(subs), perNotify: 1 },
              }, subs)),
        ));
    };
    for (const sys of systems) {
      // The reference posts the message to its own relay route; with its
      // harness's timeouts (30 s total, 5 s per read) that RECEIVE of 1 GiB
      // timed out on a loaded machine and the delivery never completed.
      await measureWsBig(
        row,
        sys,
        sys === "ours"
          ? ["--spool-dir", spool]
          : ["--outgoing-timeout-total", "600", "--outgoing-timeout-sock-read", "600"],
      );
    }
    show(row);
    wsNote(row);
    const verified: Row = {
      id: "wsbig-verified-first",
      label: "the same, ours verified before delivered (deliverWhileReceiving off)",
      metric: "mbps",
      idle: true,
    };
    await measureWsBig(verified, "ours", [
      "--spool-dir",
      spool,
      "--deliver-while-receiving",
      "off",
    ]);
    show(verified);
  }
}

const zstdRows: ZstdRow[] = [];

/** One configuration of the zstd scenario. */
interface ZstdConfig {
  key: string;
  sys: "ours" | "ref";
  label: string;
  /** Broadcaster flags. */
  server: string[];
  /** Subscriber flags (CONFIGURE). */
  client: string[];
  /** Wait for a trained dictionary before the measured part. */
  dictionary?: boolean;
}

const ZSTD_CONFIGS: ZstdConfig[] = [
  { key: "ours-a", sys: "ours", label: "ours (a) uncompressed", server: [], client: [] },
  {
    key: "ours-b",
    sys: "ours",
    label: "ours (b) id 1 for every message",
    server: ["--compression", JSON.stringify({ trainedMaxSize: 32, training: false })],
    client: ["--zstd"],
  },
  {
    key: "ours-c",
    sys: "ours",
    label: "ours (c) trained dictionary",
    server: [],
    client: ["--zstd", "--training"],
    dictionary: true,
  },
  {
    key: "ref-a",
    sys: "ref",
    label: "reference, uncompressed",
    server: ["--compression-trained-max-size", "32"],
    client: [],
  },
  {
    key: "ref-b",
    sys: "ref",
    label: "reference, plain zstd (id 1 for every message)",
    server: ["--compression-trained-max-size", "32"],
    client: ["--zstd"],
  },
];

/** Counters of the subscriber processes as numbers. */
async function wsCounters(subs: Server[]): Promise<Record<string, number>> {
  const st = await wsStats(subs);
  return Object.fromEntries(
    Object.entries(st).filter(([, v]) => typeof v === "number"),
  ) as Record<string, number>;
}

/**
 * zstd on a websocket (`wszstd`): the bench corpus (tests/compression/_corpus.ts,
 * `P.wsZstd.messages` JSON messages of 100–1,000 bytes) notified over HTTP
 * (c=16, at most 64 deliveries owed) to one websocket subscriber that decodes
 * every delivery and checks its plaintext against the corpus. Per
 * configuration and run: a fresh broadcaster and subscriber, the first
 * messages as warm-up (the trained configuration then waits until the
 * dictionary is announced), then the last `P.wsZstd.measured` messages
 * measured: RECEIVE_STREAM payload and message bytes per delivery (from the
 * subscriber's counters) and the broadcaster's CPU per delivery (/proc).
 * The runs of the configurations take turns (a b c ref-a ref-b, a b c …) so
 * that other work on the machine weighs on all of them alike.
 */
async function zstdScenario(systems: Sys[]): Promise<void> {
  const { messages: n, measured: m, seed } = P.wsZstd;
  const corpus = messageCorpus(n, seed);
  const load = () => (Deno.loadavg?.() ?? []).map((x) => x.toFixed(2)).join(" ");
  const loadBefore = load();
  console.error(`wszstd: load average before: ${loadBefore}`);
  const configs = ZSTD_CONFIGS.filter((c) => systems.includes(c.sys));
  const runs = new Map<string, RunStat[]>(configs.map((c) => [c.key, []]));
  for (let i = 0; i < P.runs; i++) {
    for (const cfg of configs) {
      const run = await zstdRun(cfg, corpus);
      runs.get(cfg.key)!.push(run);
      console.error(
        `wszstd ${cfg.key} run ${i + 1}: ${
          Number(run.extra!.payloadPerMsg).toFixed(1)
        } B/msg payload, ${run.cpuUsPerOp.toFixed(0)} µs/msg, ${run.rps.toFixed(0)} deliveries/s`,
      );
    }
  }
  const loadAfter = load();
  console.error(`wszstd: load average after: ${loadAfter}`);
  notes.push(`wszstd: load average (1, 5, 15 min) before ${loadBefore}, after ${loadAfter}`);
  for (const cfg of configs) {
    const row: ZstdRow = {
      key: cfg.key,
      sys: cfg.sys,
      label: cfg.label,
      agg: aggregate(runs.get(cfg.key)!),
    };
    zstdRows.push(row);
    zstdNote(row);
  }
  zstdRows.push(...await zstdOffline(corpus, n - m));
}

/** One run of one configuration of the zstd scenario. */
function zstdRun(cfg: ZstdConfig, corpus: Uint8Array[]): Promise<RunStat> {
  const { messages: n, measured: m, seed, concurrency, window, rate } = P.wsZstd;
  const measuredPlain = corpus.slice(n - m).reduce((a, x) => a + x.length, 0);
  const topic = "wszstd";
  const label = `wszstd ${cfg.key}`;
  const subscriberFlags = ["--corpus", String(n), "--corpus-seed", String(seed), ...cfg.client];
  return withServer(
    startWs(cfg.sys, cfg.server),
    (s) =>
      withWsSubscribers(label, s, topic, 1, 1, async (subs) => {
        const job = (from: number, to: number, paced = false): Job => ({
          mode: "corpus",
          url: `http://127.0.0.1:${s.port}/v1/notify`,
          topic,
          count: n,
          seed,
          from,
          to,
          concurrency,
          ...(paced && rate !== undefined ? { rate } : {}),
          expectCount: 1,
          deliveries: { progress: progressUrls(subs), perNotify: 1, window },
        });
        const warm = await measure(s, job(0, n - m), subs);
        if (warm.errors > 0) {
          notes.push(`${label}: warm-up: ${warm.errors} error(s): ${warm.firstError}`);
        }
        let waitedS = 0;
        if (cfg.dictionary === true) {
          const t = performance.now();
          while ((await wsCounters(subs)).enabledCustom! < 1) {
            if (performance.now() - t > 60_000) {
              notes.push(`${label}: no dictionary announced 60 s after the warm-up`);
              break;
            }
            await new Promise((r) => setTimeout(r, 50));
          }
          waitedS = (performance.now() - t) / 1000;
        }
        const before = await wsCounters(subs);
        const r = await measure(s, job(n - m, n, true), subs);
        const after = await wsCounters(subs);
        const d = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
        const delivered = d("delivered");
        if (d("plainBytes") !== measuredPlain) {
          notes.push(
            `${label}: the subscriber decoded ${d("plainBytes")} bytes, the corpus part has ` +
              `${measuredPlain}`,
          );
        }
        return {
          ...r,
          extra: {
            ...r.extra,
            delivered,
            payloadPerMsg: d("payloadBytes") / delivered,
            framePerMsg: d("frameBytes") / delivered,
            plainPerMsg: d("plainBytes") / delivered,
            pctOfPlain: (100 * d("payloadBytes")) / d("plainBytes"),
            viaPlain: d("viaPlain"),
            viaId1: d("viaId1"),
            viaPreset: d("viaPreset"),
            viaCustom: d("viaCustom"),
            controlBytes: after.controlFrameBytes ?? 0,
            enabledCustom: after.enabledCustom ?? 0,
            disabledCustom: after.disabledCustom ?? 0,
            dictionaryWaitS: waitedS,
            warmupMs: warm.deliveredS === undefined ? NaN : warm.deliveredS * 1000,
          },
        } satisfies RunStat;
      }, subscriberFlags),
  );
}

/** A note with what else a zstd configuration's runs measured (medians). */
function zstdNote(row: ZstdRow): void {
  const a = row.agg!;
  const med = (k: string) => extraMedian(a, k);
  const f = (x: number, d = 0) => Number.isFinite(x) ? x.toFixed(d) : "–";
  let text = `wszstd ${row.key}: notifies/s ${f(med("notifyRps"))}; CPU % of a core: ` +
    `broadcaster ${f(a.median.cpuPct)}, subscriber ${f(med("clientsCpuPct"))}, load generator ${
      f(med("loadgenCpuPct"))
    }, whole machine ${f(med("machineBusyPct"))} of ${navigator.hardwareConcurrency * 100}`;
  if (med("enabledCustom") > 0) {
    text +=
      `; dictionaries announced ${f(med("enabledCustom"))} (withdrawn ${
        f(med("disabledCustom"))
      }), ENABLE/DISABLE messages ${f(med("controlBytes"))} B in all, ` +
      `warm-up ${f(med("warmupMs"))} ms, then waited ${f(med("dictionaryWaitS") * 1000)} ms ` +
      `for the dictionary`;
  }
  notes.push(text);
}

/**
 * The codec alone on the measured messages (no protocol, one frame per
 * message, level 3): plain, and with a 16 KiB dictionary trained as the
 * broadcaster trains it (from the first messages adding up to 100 KiB);
 * bytes, and CPU µs to compress one message here (libzstd through FFI, as
 * our broadcaster does) and in python-zstandard 0.25.0 (the reference's
 * library, bench/compression_python.py, with the reference's venv), each
 * the best of five passes in process CPU time.
 */
async function zstdOffline(corpus: Uint8Array[], from: number): Promise<ZstdRow[]> {
  const zstd = await loadZstd();
  if ("unavailable" in zstd) {
    notes.push(`wszstd: zstd offline rows skipped: ${zstd.unavailable}`);
    return [];
  }
  try {
    let bytes = 0;
    let k = 0;
    while (bytes < 100 * 1024) bytes += corpus[k++]!.length;
    const dictBytes = Math.min(16_384, Math.max(1024, Math.floor(bytes / 4)));
    const dict = await trainInWorker(corpus.slice(0, k), dictBytes, { timeoutMs: 120_000 });
    using dictionary = zstd.loadDictionary(dict);
    const measured = corpus.slice(from);
    const ours = measureCodec(zstd, measured, dictionary);
    // What our broadcaster does per compressed delivery besides framing it:
    // compress, and SHA-512 the frame (src/ws/compression.ts).
    const path = best(() => {
      for (const x of measured) {
        createHash("sha512").update(zstd.compress(x, { level: 3 })).digest();
      }
    });
    const pathOurs = (path * 1e6) / measured.length;
    const py = withRef ? await pythonCodec(measured, dict) : null;
    const plain = measured.reduce((a, x) => a + x.length, 0);
    const offline = (
      key: string,
      label: string,
      total: number,
      usOurs: number,
      usPy: number | undefined,
      paths: { pathOurs: number; pathPython?: number } | Record<never, never> = {},
    ): ZstdRow => ({
      key,
      sys: "zstd",
      label,
      offline: {
        payloadPerMsg: total / measured.length,
        pctOfPlain: (100 * total) / plain,
        usOurs,
        ...(usPy === undefined ? {} : { usPython: usPy }),
        ...paths,
      },
    });
    return [
      offline(
        "zstd-3",
        "zstd alone, level 3, one frame per message",
        ours.plainBytes,
        ours.usPerMessage.cPlain,
        py?.usPerMessage.cPlain,
        {
          pathOurs,
          ...(py?.usPerMessage.cPath === undefined ? {} : { pathPython: py.usPerMessage.cPath }),
        },
      ),
      offline(
        "zstd-dict",
        `zstd alone, ${dict.length >> 10} KiB dictionary from the first ${k} messages (100 KiB)`,
        ours.dictBytes,
        ours.usPerMessage.cDict,
        py?.usPerMessage.cDict,
      ),
    ];
  } finally {
    zstd.close();
  }
}

/** bench/compression_python.py on `messages` and `dict`, in the reference's venv. */
async function pythonCodec(
  messages: Uint8Array[],
  dict: Uint8Array,
): Promise<(Measured & { usPerMessage: { cPath?: number } }) | null> {
  const dir = await Deno.makeTempDir({ prefix: "wszstd-" });
  try {
    await Deno.writeFile(`${dir}/messages.bin`, packMessages(messages));
    await Deno.writeFile(`${dir}/dict.bin`, dict);
    const out = await new Deno.Command(PY, {
      args: [here("./compression_python.py"), `${dir}/messages.bin`, `${dir}/dict.bin`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    if (!out.success) {
      notes.push(`wszstd: python-zstandard measurement failed: ${text.decode(out.stderr)}`);
      return null;
    }
    return JSON.parse(text.decode(out.stdout).trim());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Our broadcaster on rqlite (1 node, then 3 nodes with the broadcaster
 * pointed at a follower, as behind a load balancer) beside our SQLite file
 * database, in the same run: notify → 1 at c=16 and subscribe_exact at c=16.
 */
async function rqliteScenario(
  start: (sys: Sys, extra?: string[]) => Promise<Server>,
  subUrl: (path: string) => string,
): Promise<void> {
  const bin = findRqlited();
  if (bin === null) {
    notes.push("rqlite rows skipped: rqlited not found (set RQLITE_BIN or put rqlited on PATH)");
    console.error(notes.at(-1));
    return;
  }
  const file = `${RESULTS}sub-rqlite-baseline.db`;
  const n = P.subscribeRqlite;
  const subscribeJob = (s: Server, tag: string): Job => ({
    mode: "subscribe",
    url: `http://127.0.0.1:${s.port}/v1/subscribe/exact`,
    count: n,
    concurrency: 16,
    urlPrefix: subUrl(`/rq-${tag}/`),
    topicPrefix: `rq-${tag}/`,
  });
  const notifyRow = (id: string, what: string): Row => ({
    id: `rqlite-notify1-${id}`,
    label: `notify → 1 subscriber, ${what}, c=16`,
    metric: "rps",
  });
  const subscribeRow = (id: string, what: string): Row => ({
    id: `rqlite-subscribe-${id}`,
    label: `subscribe_exact ×${n.toLocaleString("en-US")}, ${what}, c=16`,
    metric: "rps",
  });
  const baseNotify = notifyRow("sqlite", "SQLite file");
  const baseSubscribe = subscribeRow("sqlite", "SQLite file");
  await removeDb(file);
  try {
    await withServer(start("ours", ["--db", file]), async (s) => {
      await subscribeMany(s, "rq-one", 1, subUrl("/rq-one/"));
      baseNotify.ours = await repeat(
        P.runs,
        () => measure(s, notifyJob(s.port, "rq-one", 16, { expectCount: 1 })),
      );
      let run = 0;
      baseSubscribe.ours = await repeat(P.runs, () => measure(s, subscribeJob(s, `b${run++}`)));
    });
  } finally {
    await removeDb(file);
  }
  show(baseNotify);
  show(baseSubscribe);
  const relative = (row: Row, base: Row, goal: string) => {
    const x = row.ours?.median.rps;
    const y = base.ours?.median.rps;
    if (x !== undefined && y !== undefined && y > 0) {
      row.note = `${Math.round((x / y) * 100)}% of SQLite`;
    }
    row.goal = goal;
  };
  for (const size of [1, 3] as const) {
    const what = size === 1 ? "rqlite 1 node" : "rqlite 3 nodes, via a follower";
    const notify = notifyRow(`${size}`, what);
    const subscribe = subscribeRow(`${size}`, what);
    const cluster = await startCluster(bin, size, { args: FAST_RAFT });
    let raw = NaN;
    try {
      const leader = await cluster.leader();
      const node = cluster.nodes.find((x) => x !== leader) ?? leader;
      raw = await rawWriteRate(node.url, n);
      await withServer(start("ours", ["--rqlite", node.url]), async (s) => {
        await subscribeMany(s, "rq-one", 1, subUrl("/rq-one/"));
        notify.ours = await repeat(
          P.runs,
          () => measure(s, notifyJob(s.port, "rq-one", 16, { expectCount: 1 })),
        );
        let run = 0;
        subscribe.ours = await repeat(
          P.runs,
          () => measure(s, subscribeJob(s, `${size}-${run++}`)),
        );
      });
    } finally {
      await cluster[Symbol.asyncDispose]();
    }
    relative(notify, baseNotify, "≥50% of SQLite");
    relative(subscribe, baseSubscribe, "rqlite's write rate");
    const sr = subscribe.ours?.median.rps;
    if (sr !== undefined && raw > 0) {
      subscribe.note += `, ${Math.round((sr / raw) * 100)}% of raw rqlite ${Math.round(raw)}/s`;
    }
    show(notify);
    show(subscribe);
  }
}

/**
 * Our broadcaster on PostgreSQL (a server of its own, started with initdb and
 * pg_ctl, fsync off as in the tests) beside our SQLite file database, in the
 * same run: notify → 1 at c=16 and subscribe_exact at c=16.
 */
async function postgresScenario(
  start: (sys: Sys, extra?: string[]) => Promise<Server>,
  subUrl: (path: string) => string,
): Promise<void> {
  const bin = findPgBin();
  if (bin === null) {
    notes.push("postgres rows skipped: initdb not found (apt-get install postgresql, or PG_BIN)");
    console.error(notes.at(-1));
    return;
  }
  const file = `${RESULTS}sub-postgres-baseline.db`;
  const n = P.subscribeRqlite;
  const rows = (id: string, what: string): [Row, Row] => [
    { id: `postgres-notify1-${id}`, label: `notify → 1 subscriber, ${what}, c=16`, metric: "rps" },
    {
      id: `postgres-subscribe-${id}`,
      label: `subscribe_exact ×${n.toLocaleString("en-US")}, ${what}, c=16`,
      metric: "rps",
    },
  ];
  const run = async (args: string[], [notify, subscribe]: [Row, Row], tag: string) => {
    await withServer(start("ours", args), async (s) => {
      await subscribeMany(s, `pg-${tag}`, 1, subUrl(`/pg-${tag}/`));
      notify.ours = await repeat(
        P.runs,
        () => measure(s, notifyJob(s.port, `pg-${tag}`, 16, { expectCount: 1 })),
      );
      let i = 0;
      subscribe.ours = await repeat(P.runs, () =>
        measure(s, {
          mode: "subscribe",
          url: `http://127.0.0.1:${s.port}/v1/subscribe/exact`,
          count: n,
          concurrency: 16,
          urlPrefix: subUrl(`/pgs-${tag}-${i}/`),
          topicPrefix: `pgs-${tag}-${i++}/`,
        }));
    });
  };
  const base = rows("sqlite", "SQLite file");
  await removeDb(file);
  try {
    await run(["--db", file], base, "sqlite");
  } finally {
    await removeDb(file);
  }
  base.forEach(show);
  const pg = rows("pg", "PostgreSQL 1 server");
  {
    await using cluster = await startPostgres(bin);
    await run(["--postgres", cluster.url()], pg, "pg");
  }
  pg.forEach((row, k) => {
    const x = row.ours?.median.rps;
    const y = base[k]!.ours?.median.rps;
    if (x !== undefined && y !== undefined && y > 0) {
      row.note = `${Math.round((x / y) * 100)}% of SQLite`;
    }
    row.goal = k === 0 ? "≥80% of SQLite" : "";
    show(row);
  });
}

/**
 * rqlite's own write rate, as our subscribe would see it: `n` single-row
 * INSERTs (the subscribe statement's shape) through `node` with 16 in flight,
 * sent with fetch from this process. Inserts/s.
 */
async function rawWriteRate(node: string, n: number): Promise<number> {
  const post = async (body: unknown) => {
    const res = await fetch(`${node}/db/execute`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = await res.json();
    if (res.status !== 200 || json.error || json.results?.[0]?.error) {
      throw new Error(`rqlite write failed: ${JSON.stringify(json)}`);
    }
  };
  await post(["CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY, url TEXT, t BLOB)"]);
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (let i = next++; i < n; i = next++) {
      await post([[
        "INSERT INTO bench_raw(id, url, t) VALUES (?, ?, ?)",
        i + 1,
        `http://127.0.0.1:1/raw/${i}`,
        Array.from(new TextEncoder().encode(`raw/${i}`)),
      ]]);
    }
  }));
  return n / ((performance.now() - started) / 1000);
}

async function removeDb(file: string): Promise<void> {
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    await Deno.remove(f).catch(() => {});
  }
}

/** One hmac-signed subscribe_exact (setup for the hmac scenario). */
async function signedSubscribe(
  port: number,
  s2b: string,
  url: string,
  topic: string,
): Promise<void> {
  const auth = hmacAuth({ secret: decodeHmacSecret(s2b), replay: memoryReplayStore() });
  const t = new TextEncoder().encode(topic);
  const tracing = new Uint8Array(0);
  const authorization = await auth.authorize(
    { type: "subscribe_exact", url, recovery: null, topic: t },
    tracing,
    Date.now() / 1000,
  );
  await auth.close();
  const res = await fetch(`http://127.0.0.1:${port}/v1/subscribe/exact`, {
    method: "POST",
    headers: { authorization: authorization ?? "", "content-type": "application/octet-stream" },
    body: encodeSubscribeExact({ url, topic: t, recovery: null, tracing }) as Uint8Array<
      ArrayBuffer
    >,
  });
  await res.body?.cancel();
  if (res.status !== 200) throw new Error(`Signed subscribe failed: status ${res.status}`);
}

Deno.addSignalListener("SIGINT", () => {
  stopAll().finally(() => Deno.exit(130));
});
try {
  await main();
} finally {
  await stopAll();
}
