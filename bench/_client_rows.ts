/**
 * The client rows of `deno task bench` (`--only client`), both against our
 * broadcaster: this repository's TypeScript client notifying over HTTP with
 * 16 in flight against the official Python client (lonelypsc, from the
 * interop venv) doing the same (goal ≥ 5×); and how many messages per second
 * one websocket subscription of the TypeScript client receives while the
 * TypeScript client notifies over HTTP at c=16.
 *
 * @module
 */

import type { Agg, Row, RunStat } from "./_report.ts";
import type { Server } from "./_procs.ts";
import type { Job } from "./loadgen.ts";
import { venvPython } from "../tests/_venv.ts";

const here = (p: string) => new URL(p, import.meta.url).pathname;

/** What the rows need from run.ts. */
export interface ClientBench {
  readonly start: () => Promise<Server>;
  readonly measure: (
    target: Server | null,
    job: Job,
    clients: Server[],
    command: [string, string[]],
  ) => Promise<RunStat>;
  readonly repeat: (n: number, fn: () => Promise<RunStat>) => Promise<Agg>;
  readonly runs: number;
  readonly quick: boolean;
}

/** Runs the client rows. */
export async function clientRows(b: ClientBench): Promise<Row[]> {
  const durationS = b.quick ? 1 : 3;
  const job = (url: string, topic: string) => ({
    url,
    transport: "http",
    topic,
    concurrency: 16,
    durationS,
    warmupS: b.quick ? 0.2 : 0.5,
    size: 64,
  });
  const python = await venvPython();
  const notify: Row = {
    id: "client-notify-c16",
    label: "client notify, 0 subscribers, 64 B, c=16 (ref: lonelypsc)",
    metric: "rps",
    goal: "≥ 5× lonelypsc",
  };
  const ws: Row = {
    id: "client-ws-delivered",
    label: "deliveries/s to one ws subscription of the client (notify c=16, ≤64 owed)",
    metric: "rps",
  };
  const server = await b.start();
  const url = `http://127.0.0.1:${server.port}`;
  try {
    const none = {} as Job;
    notify.ours = await b.repeat(
      b.runs,
      () =>
        b.measure(server, none, [], [
          "deno",
          ["run", "-A", here("./client_notify.ts"), JSON.stringify(job(url, "nobody"))],
        ]),
    );
    notify.ref = await b.repeat(
      b.runs,
      () =>
        b.measure(server, none, [], [
          python,
          [here("./client_notify.py"), JSON.stringify(job(url, "nobody"))],
        ]),
    );
    const ratio = (notify.ours.median.rps ?? NaN) / (notify.ref.median.rps ?? NaN);
    notify.note = `${ratio.toFixed(1)}× lonelypsc`;
    ws.ours = await b.repeat(
      b.runs,
      () =>
        b.measure(server, none, [], [
          "deno",
          [
            "run",
            "-A",
            here("./client_ws_rate.ts"),
            JSON.stringify({ ...job(url, ""), window: 64 }),
          ],
        ]),
    );
  } finally {
    await server.stop();
  }
  return [notify, ws];
}
