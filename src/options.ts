/**
 * Broadcaster options: defaults and validation, shared by `mod.ts` and the CLI.
 *
 * @module
 */

import { tmpdir } from "node:os";
import type { Limits, MissedRetryPolicy } from "./core/context.ts";
import { processDescriptorShares } from "./core/descriptors.ts";

/** Default retry policy: the reference template's (config chapter §2.5), ~20 tries over ~3 h. */
export const DEFAULT_MISSED_RETRY: MissedRetryPolicy = {
  maxRetries: 20,
  expoFactor: 1,
  expoBase: 2,
  expoMax: 10,
  constantSeconds: 1,
  jitterSeconds: 2,
};

/** Default of {@link Limits.maxBufferedBodyBytes} (raised to `maxBodyBytes` if that is larger). */
export const DEFAULT_BUFFERED_BODY_BYTES = 64 * 1024 * 1024;

/**
 * Default limits; every one can be overridden. The connection caps come from
 * this process's open-files limit (see `core/descriptors.ts`).
 */
export function defaultLimits(): Limits {
  const shares = processDescriptorShares();
  return {
    maxBodyBytes: 64 * 1024 * 1024,
    maxBufferedBodyBytes: DEFAULT_BUFFERED_BODY_BYTES,
    bodyIdleTimeoutMs: 10_000,
    bodyMinBytesPerSecond: 4096,
    headersTimeoutMs: 10_000,
    keepAliveTimeoutMs: 30_000,
    maxConnections: shares.incoming,
    maxOutgoingConnections: shares.outgoing,
    spoolThresholdBytes: 10 * 1024 * 1024,
    spoolDir: tmpdir(),
    spoolQuotaBytes: 8 * 1024 * 1024 * 1024,
    maxNotifyBytes: Infinity,
    fanoutConcurrency: 64,
    connectTimeoutMs: 5_000,
    totalTimeoutMs: 30_000,
    readIdleTimeoutMs: 5_000,
    missedRetry: DEFAULT_MISSED_RETRY,
    sweepIntervalMs: 10_000,
    sweepBatchSize: 100,
    missedLeaseMs: 60_000,
    websocketConfigureTimeoutMs: 10_000,
    websocketMaxIncomingBytes: 16 * 1024 * 1024,
    // lonelypsc (aiohttp) refuses messages over 4 MiB; 3.5 MiB leaves room for headers.
    websocketMaxMessageBytes: 3.5 * 1024 * 1024,
    websocketMaxUnprocessed: 255,
    websocketMaxPendingSends: 255,
    websocketMaxUnacknowledged: 3,
    websocketMaxBufferedBytes: 16 * 1024 * 1024,
    websocketMaxQueuedBytes: 64 * 1024 * 1024,
    relayReconcileMs: 60_000,
    sqliteBusyTimeoutMs: 5_000,
  };
}

/** Merges overrides into the defaults and checks every value. */
export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  const given = definedOnly(overrides);
  const defaults = defaultLimits();
  const limits: Limits = {
    ...defaults,
    // A set_subscriptions body as large as allowed must fit in the budget.
    maxBufferedBodyBytes: Math.max(
      defaults.maxBufferedBodyBytes,
      given.maxBodyBytes ?? defaults.maxBodyBytes,
    ),
    ...given,
    missedRetry: { ...DEFAULT_MISSED_RETRY, ...definedOnly(overrides.missedRetry ?? {}) },
  };
  const positive: (keyof Limits)[] = [
    "maxBodyBytes",
    "maxBufferedBodyBytes",
    "bodyIdleTimeoutMs",
    "headersTimeoutMs",
    "keepAliveTimeoutMs",
    "maxConnections",
    "maxOutgoingConnections",
    "fanoutConcurrency",
    "connectTimeoutMs",
    "totalTimeoutMs",
    "readIdleTimeoutMs",
    "sweepIntervalMs",
    "sweepBatchSize",
    "missedLeaseMs",
    "websocketConfigureTimeoutMs",
    "websocketMaxIncomingBytes",
    "websocketMaxMessageBytes",
    "websocketMaxUnprocessed",
    "websocketMaxPendingSends",
    "websocketMaxBufferedBytes",
    "websocketMaxQueuedBytes",
    "relayReconcileMs",
    "sqliteBusyTimeoutMs",
    "spoolQuotaBytes",
  ];
  for (const key of positive) requirePositive(key, limits[key] as number);
  requireNonNegative("websocketMaxUnacknowledged", limits.websocketMaxUnacknowledged);
  requireNonNegative("bodyMinBytesPerSecond", limits.bodyMinBytesPerSecond);
  for (const key of ["maxConnections", "maxOutgoingConnections"] as const) {
    if (!Number.isInteger(limits[key])) {
      throw new RangeError(`Invalid option: ${key} must be an integer, got ${limits[key]}`);
    }
  }
  if (limits.maxBufferedBodyBytes < limits.maxBodyBytes) {
    throw new RangeError(
      `Invalid option: maxBufferedBodyBytes (${limits.maxBufferedBodyBytes}) must be at least ` +
        `maxBodyBytes (${limits.maxBodyBytes}), or no body that large could ever be accepted`,
    );
  }
  if (limits.websocketMaxMessageBytes < 1024 || limits.websocketMaxMessageBytes > 4 * 1024 * 1024) {
    throw new RangeError(
      `Invalid option: websocketMaxMessageBytes must be from 1024 to 4194304 (the official ` +
        `client refuses larger messages), got ${limits.websocketMaxMessageBytes}`,
    );
  }
  requireNonNegative("spoolThresholdBytes", limits.spoolThresholdBytes);
  if (!(limits.maxNotifyBytes > 0)) {
    throw new RangeError(
      `Invalid option: maxNotifyBytes must be a positive number (or Infinity), got ${limits.maxNotifyBytes}`,
    );
  }
  if (!Number.isInteger(limits.fanoutConcurrency) || !Number.isInteger(limits.sweepBatchSize)) {
    throw new RangeError("Invalid option: fanoutConcurrency and sweepBatchSize must be integers");
  }
  if (limits.missedLeaseMs <= limits.totalTimeoutMs) {
    throw new RangeError(
      `Invalid option: missedLeaseMs (${limits.missedLeaseMs}) must exceed totalTimeoutMs ` +
        `(${limits.totalTimeoutMs}) so a lease outlives its MISSED request`,
    );
  }
  const r = limits.missedRetry;
  requireNonNegative("missedRetry.maxRetries", r.maxRetries);
  requireNonNegative("missedRetry.expoFactor", r.expoFactor);
  requirePositive("missedRetry.expoBase", r.expoBase);
  requireNonNegative("missedRetry.expoMax", r.expoMax);
  requireNonNegative("missedRetry.constantSeconds", r.constantSeconds);
  requireNonNegative("missedRetry.jitterSeconds", r.jitterSeconds);
  return limits;
}

function requirePositive(name: string, v: number): void {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    throw new RangeError(`Invalid option: ${name} must be a positive number, got ${v}`);
  }
}

function requireNonNegative(name: string, v: number): void {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new RangeError(`Invalid option: ${name} must be a non-negative number, got ${v}`);
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
