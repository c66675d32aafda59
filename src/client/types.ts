/**
 * What both transports share: the client interface and the common options.
 *
 * @module
 */

import type { AuthConfig } from "../auth/mod.ts";
import type { NotifyBody, NotifyOptions } from "./body.ts";
import type { ClientStatus } from "./status.ts";
import type { QueueLimits, Subscription } from "./subscription.ts";

/** Options of both `connectHttp` and `connectWebsocket`. */
export interface CommonOptions {
  /** Broadcasters to use, in order of preference (at least one). */
  readonly broadcasters: readonly string[];
  /**
   * Credentials per direction (e.g. from `authFromSecretsFile`); a missing
   * direction is `none`. `toBroadcaster` signs what this client sends,
   * `toSubscriber` verifies what it receives.
   */
  readonly auth?: Partial<AuthConfig>;
  /** Bodies longer than this are received into a temp file. Default 10 MiB. */
  readonly spoolThresholdBytes?: number;
  /** Where temp files go. Default: the system's temp directory. */
  readonly spoolDirectory?: string;
  /** Longest message accepted from a broadcaster. Default 4 GiB. */
  readonly maxMessageBytes?: number;
  /** Bounds of each subscription's queue (see {@link QueueLimits}). */
  readonly queue?: Partial<QueueLimits>;
}

/** What `notify` resolves to. */
export interface NotifyResult {
  /** How many subscribers the broadcaster reached. */
  readonly notified: number;
}

/** A connected client (either transport). */
export interface Client extends AsyncDisposable {
  /** Publishes `body` on `topic` (text is UTF-8 encoded). */
  notify(
    topic: string | Uint8Array,
    body: NotifyBody,
    options?: NotifyOptions,
  ): Promise<NotifyResult>;
  /** Subscribes to one exact topic (reference-counted per topic). */
  subscribeExact(topic: string | Uint8Array): Promise<Subscription>;
  /** Subscribes to a glob pattern (`*`, `?`, `[...]`; reference-counted per pattern). */
  subscribeGlob(pattern: string): Promise<Subscription>;
  /** Calls `listener` on every status change; returns the function that removes it. */
  onStatus(listener: (status: ClientStatus) => void): () => void;
  /** The last status reported. */
  readonly status: ClientStatus;
  /** Unsubscribes everything, stops receiving and removes temp files. Idempotent. */
  close(): Promise<void>;
}

/** Resolved common settings. */
export interface Settings {
  readonly broadcasters: readonly string[];
  readonly auth: AuthConfig;
  readonly spoolThresholdBytes: number;
  readonly spoolDirectory: string | undefined;
  readonly maxMessageBytes: number;
  readonly queue: QueueLimits;
}
