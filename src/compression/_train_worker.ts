/**
 * The worker behind `trainInWorker`: loads libzstd in its own thread, trains
 * one dictionary, posts it back (transferred) or an error, and waits to be
 * terminated. Permissions are the parent's (Deno's default for workers).
 *
 * @module
 */

import { ZstdError } from "./errors.ts";
import { loadZstd } from "./load.ts";
import { type FlatSamples, splitSamples } from "./_samples.ts";

/** What the parent posts: samples concatenated, with their lengths. */
export interface TrainRequest extends FlatSamples {
  /** Dictionary capacity in bytes. */
  readonly dictBytes: number;
  /** libzstd to open, if not the default. */
  readonly libraryPath: string | undefined;
}

/** What the worker posts back. */
export type TrainReply = { readonly dict: Uint8Array } | {
  readonly error: string;
  readonly kind: ZstdError["kind"];
};

interface WorkerScope {
  onmessage: ((e: MessageEvent<TrainRequest>) => void) | null;
  postMessage(message: TrainReply, transfer?: Transferable[]): void;
}

const scope = globalThis as unknown as WorkerScope;

async function train(req: TrainRequest): Promise<TrainReply> {
  const zstd = await loadZstd({ libraryPath: req.libraryPath });
  if ("unavailable" in zstd) return { error: zstd.unavailable, kind: "training" };
  try {
    if (zstd.train === undefined) {
      return { error: `Training is not supported by ${zstd.name}`, kind: "training" };
    }
    return { dict: zstd.train(splitSamples(req), req.dictBytes) };
  } catch (e) {
    if (e instanceof ZstdError) return { error: e.message, kind: e.kind };
    return { error: e instanceof Error ? e.message : String(e), kind: "training" };
  } finally {
    zstd.close();
  }
}

scope.onmessage = async (e) => {
  const reply = await train(e.data);
  scope.postMessage(reply, "dict" in reply ? [reply.dict.buffer as ArrayBuffer] : []);
};
