/**
 * Ranges of one spool file read through one descriptor, for a delivery that reads a message
 * part by part (a websocket delivery's RECEIVE_STREAM parts): one open per delivery instead of
 * one per part. Opening through `node:fs/promises` costs more than reading a 256 KiB part from
 * the page cache (measured on Deno: `open` alone took 6% of the broadcaster's time in a 1 GiB
 * delivery, more than the socket writes).
 *
 * @module
 */

import type { FileHandle } from "node:fs/promises";
import type { PartReader } from "./message.ts";
import { readRecentSync, RECENT_SPOOL_BYTES, type SpoolGate } from "./spool.ts";

/** Positional reads of the spool file at one path; {@link close} when done. */
export class SpoolRangeReader implements PartReader {
  readonly #path: string;
  readonly #gate: SpoolGate | null;
  #file: Promise<FileHandle> | null = null;
  #closed = false;

  /**
   * Reads `path`; with a `gate` (the file is still being written) a read waits until the gate
   * releases its bytes, and fails with the gate's reason once the message is abandoned.
   */
  constructor(path: string, gate: SpoolGate | null) {
    this.#path = path;
    this.#gate = gate;
  }

  /** Bytes `[start, end)` read into `into` (exactly `end - start` bytes), which is returned. */
  async read(start: number, end: number, into: Uint8Array): Promise<Uint8Array> {
    const gate = this.#gate;
    while (gate !== null && gate.readable < end) {
      if (!await gate.waitBeyond(gate.readable, end - gate.readable)) {
        throw new Error("Spool file shorter than written");
      }
    }
    if (this.#closed) throw new Error("Spool reader closed");
    // Opened on the first read, so a delivery that never reads holds no descriptor.
    const file =
      await (this.#file ??= import("node:fs/promises").then(({ open }) => open(this.#path, "r")));
    for (let done = 0; done < into.length;) {
      const at = start + done;
      // Bytes the intake has just written (a delivery keeping up with it): in the page cache.
      const n = gate !== null && gate.written - at <= RECENT_SPOOL_BYTES
        ? readRecentSync(file.fd, into.subarray(done), into.length - done, at)
        : (await file.read(into, done, into.length - done, at)).bytesRead;
      if (n === 0) throw new Error("Spool file shorter than the message");
      done += n;
    }
    gate?.check();
    return into;
  }

  /** Closes the descriptor, if one was opened. Idempotent; never throws. */
  async close(): Promise<void> {
    this.#closed = true;
    const file = this.#file;
    this.#file = null;
    const handle = await file?.catch(() => null);
    await handle?.close().catch(() => {});
  }
}
