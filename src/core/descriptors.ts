/**
 * How many file descriptors this process may open, and the share of them the
 * defaults give to incoming and outgoing connections, so that a flood of
 * either leaves room for the database, spool files and everything else.
 *
 * @module
 */

import { readTextFileSync } from "../sync_fs.ts";

/** Assumed when the limit cannot be read (no `/proc`): the common Linux default. */
export const FALLBACK_OPEN_FILES = 1024;

/** Descriptors kept for everything but connections: stdio, databases, libraries, spool files. */
const RESERVED = 64;

/**
 * The soft limit on open files (`ulimit -n`), read from `/proc/self/limits`
 * (Linux; Node and Bun read it freely, Deno only with `--allow-all`), or null
 * where that file is missing or unreadable.
 */
export function openFilesLimit(): number | null {
  let text: string;
  try {
    text = readTextFileSync("/proc/self/limits");
  } catch {
    return null;
  }
  return parseOpenFilesLimit(text);
}

/** The soft "Max open files" of a `/proc/<pid>/limits` text ("unlimited" → null). */
export function parseOpenFilesLimit(text: string): number | null {
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (match === null || match[1] === "unlimited") return null;
  const n = Number(match[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** Default connection caps for a process allowed `openFiles` descriptors. */
export interface DescriptorShares {
  /** Incoming connections (HTTP and websocket) open at once. */
  readonly incoming: number;
  /** Outgoing RECEIVE/MISSED requests in flight at once. */
  readonly outgoing: number;
}

/**
 * Splits what is left after a fixed reserve. An outgoing request may hold two
 * descriptors (its socket, and the spool file a large message is read from):
 * 35% of the rest goes to them. An incoming connection holds three on Deno
 * (the client's socket and the loopback pair to Deno's HTTP server, see
 * `runtime/deno.ts`), and a notify that spools a fourth: 55% goes to them.
 * Clamped to [16, 16384] incoming and [8, 4096] outgoing: beyond those,
 * memory and ephemeral ports run out before descriptors do.
 */
export function descriptorShares(openFiles: number): DescriptorShares {
  const usable = Math.max(openFiles - RESERVED, 0);
  return {
    incoming: clamp(Math.floor(usable * 0.55 / 3), 16, 16_384),
    outgoing: clamp(Math.floor(usable * 0.35 / 2), 8, 4_096),
  };
}

let cached: DescriptorShares | null = null;

/** {@link descriptorShares} of this process's limit (read once). */
export function processDescriptorShares(): DescriptorShares {
  cached ??= descriptorShares(openFilesLimit() ?? FALLBACK_OPEN_FILES);
  return cached;
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(Math.max(n, min), max);
}
