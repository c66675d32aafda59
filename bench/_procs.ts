/**
 * Child processes for the bench: start a server and wait for its
 * `LISTENING <port>` line, read CPU ticks and memory from /proc, and stop
 * everything that was started (SIGTERM, then SIGKILL after a grace period).
 *
 * @module
 */

/** A started server process. */
export interface Server {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** Last stderr bytes, for diagnostics. */
  stderrTail(): string;
  /** SIGTERM, wait up to 5 s, then SIGKILL. */
  stop(): Promise<void>;
}

const started = new Set<{ stop(): Promise<void> }>();

/** Stops every process still running (for `finally` and signal handlers). */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((s) => s.stop()));
}

/** Yields stdout lines of a stream. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
  if (buf.length > 0) yield buf;
}

function tailKeeper(stream: ReadableStream<Uint8Array>, max = 4096): () => string {
  let tail = "";
  (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      tail = (tail + chunk).slice(-max);
    }
  })().catch(() => {});
  return () => tail;
}

/** A running child with line-wise stdout. */
export interface Child {
  readonly pid: number;
  readonly stdout: AsyncGenerator<string>;
  stderrTail(): string;
  readonly status: Promise<Deno.CommandStatus>;
  stop(): Promise<void>;
}

/** Spawns `cmd args` with piped output; registered for {@link stopAll}. */
export function spawn(cmd: string, args: string[], cwd?: string): Child {
  const proc = new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    ...(cwd === undefined ? {} : { cwd }),
  }).spawn();
  const stderrTail = tailKeeper(proc.stderr);
  let exited = false;
  const status = proc.status.then((s) => {
    exited = true;
    return s;
  });
  const handle = {
    pid: proc.pid,
    stdout: lines(proc.stdout),
    stderrTail,
    status,
    async stop() {
      started.delete(handle);
      if (!exited) {
        try {
          proc.kill("SIGTERM");
        } catch { /* already gone */ }
        const timer = setTimeout(() => {
          try {
            proc.kill("SIGKILL");
          } catch { /* already gone */ }
        }, 5000);
        await status;
        clearTimeout(timer);
      }
      await handle.stdout.return(undefined);
    },
  };
  started.add(handle);
  return handle;
}

/** Starts a server and waits (up to 60 s) for its `LISTENING <port>` line. */
export async function startServer(name: string, cmd: string, args: string[]): Promise<Server> {
  const child = spawn(cmd, args);
  const timeout = setTimeout(() => void child.stop(), 60_000);
  let port = -1;
  for await (const line of child.stdout) {
    const m = /^LISTENING (\d+)$/.exec(line.trim());
    if (m) {
      port = Number(m[1]);
      break;
    }
  }
  clearTimeout(timeout);
  if (port < 0) {
    await child.stop();
    throw new Error(`Server did not start: ${name}: ${child.stderrTail()}`);
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  (async () => {
    for await (const _ of child.stdout) { /* discard */ }
  })().catch(() => {});
  return { name, pid: child.pid, port, stderrTail: child.stderrTail, stop: child.stop };
}

let clockTicks = 100;
try {
  const out = new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" }).outputSync();
  clockTicks = Number(new TextDecoder().decode(out.stdout).trim()) || 100;
} catch { /* keep 100 */ }

/** User + system CPU seconds used so far by `pid`. */
export function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the comm field: state is index 0, utime 11, stime 12.
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** Busy and total CPU seconds of the whole machine so far (all cores, /proc/stat). */
export function machineCpu(): { busy: number; total: number } {
  const line = Deno.readTextFileSync("/proc/stat").split("\n")[0]!;
  const t = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...
  const total = t.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (t[3] ?? 0) + (t[4] ?? 0);
  return { busy: (total - idle) / clockTicks, total: total / clockTicks };
}

/** Current and peak resident memory of `pid`, MiB. */
export function memory(pid: number): { rssMiB: number; hwmMiB: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? NaN);
  return { rssMiB: kb("VmRSS") / 1024, hwmMiB: kb("VmHWM") / 1024 };
}

/** Resets VmHWM to the current RSS (Linux clear_refs 5); false when not permitted. */
export function resetPeak(pid: number): boolean {
  try {
    Deno.writeTextFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** Open file descriptors of `pid` (entries of /proc/<pid>/fd); NaN when unreadable. */
export function fdCount(pid: number): number {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
    return n;
  } catch {
    return NaN;
  }
}

/** Samples `fn` every `ms` until stopped; `stop()` returns the largest value seen. */
export function sampleMax(fn: () => number, ms = 20): { stop(): number } {
  let max = fn();
  const timer = setInterval(() => {
    const v = fn();
    if (v > max) max = v;
  }, ms);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(max, fn());
    },
  };
}
