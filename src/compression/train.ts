/**
 * Dictionary training off the request thread: each call runs
 * `ZDICT_trainFromBuffer` in a fresh Web Worker that is terminated when it
 * answers, times out or is aborted. Calls are queued process-wide and run one
 * at a time, so however many connections reach a watermark together, training
 * takes at most one core and one sample set's memory at a time. Training is
 * rare (twice per connection, then every retrain interval), so a worker's
 * start-up (~50 ms) does not matter and nothing lingers between trainings.
 *
 * Needs libzstd through FFI (Deno with `--allow-ffi`, and `--allow-read` for
 * the worker's module; Bun). Node has no Web Worker global and `node:zlib`
 * cannot train: there the promise rejects. Terminating a worker stops its
 * JavaScript at once, but a `ZDICT_trainFromBuffer` call already running
 * finishes in the background (bounded by `maxInputBytes`) before the thread ends.
 *
 * @module
 */

import { ZstdError } from "./errors.ts";
import { flattenSamples } from "./_samples.ts";
import type { TrainReply, TrainRequest } from "./_train_worker.ts";

/** Default bound on the total sample bytes of one training (the high watermark is 10 MiB). */
export const DEFAULT_MAX_TRAINING_INPUT_BYTES = 32 << 20;

/** Options of {@link trainInWorker}. */
export interface TrainInWorkerOptions {
  /** Give up (and terminate the worker) after this long, queueing included. */
  readonly timeoutMs: number;
  /** Aborting rejects with the signal's reason and terminates the worker. */
  readonly signal?: AbortSignal | undefined;
  /** Most sample bytes accepted; more is a `RangeError` (default 32 MiB). */
  readonly maxInputBytes?: number | undefined;
  /** libzstd to open in the worker (as `loadZstd`'s `libraryPath`). */
  readonly libraryPath?: string | undefined;
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Trains a dictionary of at most `dictBytes` bytes from `samples` in a worker.
 * The samples are copied; the caller may reuse them at once.
 *
 * @throws {ZstdError} `"training"` when libzstd cannot train on these samples,
 *   no FFI backend is usable, or the time ran out
 * @throws {RangeError} when the samples exceed `maxInputBytes`
 */
export async function trainInWorker(
  samples: readonly Uint8Array[],
  dictBytes: number,
  opts: TrainInWorkerOptions,
): Promise<Uint8Array> {
  if (typeof Worker !== "function") {
    throw new ZstdError(
      "training",
      "Cannot train a zstd dictionary: no Web Worker on this runtime",
    );
  }
  const max = opts.maxInputBytes ?? DEFAULT_MAX_TRAINING_INPUT_BYTES;
  const request = { ...flattenSamples(samples, max), dictBytes, libraryPath: opts.libraryPath };
  const deadline = Date.now() + opts.timeoutMs;
  const run = queue.then(() => runWorker(request, deadline, opts.signal));
  queue = run.catch(() => {});
  return await run;
}

/**
 * The worker's module. In a `bun build --compile` binary every module's
 * `import.meta.url` is the binary's own (`file:///$bunfs/root/<name>`), so
 * the worker, built in as a second entry point (`deno task compile:bun`), is
 * named by its path from the project root, which Bun resolves inside the
 * binary. Elsewhere (`deno compile --include` too) it sits beside this file.
 */
function workerUrl(): string | URL {
  return import.meta.url.startsWith("file:///$bunfs/")
    ? "./src/compression/_train_worker.ts"
    : new URL("./_train_worker.ts", import.meta.url);
}

function runWorker(
  request: TrainRequest,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const worker = new Worker(workerUrl(), {
      type: "module",
      name: "zstd-trainer",
    });
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      worker.terminate();
      settle();
    };
    const onAbort = () => finish(() => reject(signal?.reason));
    const timer = setTimeout(
      () => finish(() => reject(new ZstdError("training", "Dictionary training timed out"))),
      Math.max(0, deadline - Date.now()),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
    worker.onmessage = (e: MessageEvent<TrainReply>) => {
      const reply = e.data;
      finish(() =>
        "dict" in reply ? resolve(reply.dict) : reject(new ZstdError(reply.kind, reply.error))
      );
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      finish(() => reject(new ZstdError("training", `Training worker failed: ${e.message}`)));
    };
    worker.postMessage(request, [
      request.flat.buffer as ArrayBuffer,
      request.sizes.buffer as ArrayBuffer,
    ]);
  });
}
