/**
 * What every websocket connection of one client shares, and what a
 * connection offers the code that handles its deliveries.
 *
 * @module
 */

import type { AuthConfig, AuthMessage } from "../../auth/mod.ts";
import type { Registry } from "../registry.ts";
import type { SpoolDir } from "../spool.ts";
import type { StatusEmitter } from "../status.ts";
import type { CompressorTable } from "./compression.ts";
import type { FrameSocket } from "./socket.ts";

/** What every connection of one client shares. */
export interface ConnectionContext {
  readonly auth: AuthConfig;
  readonly registry: Registry;
  readonly spool: SpoolDir;
  readonly status: StatusEmitter;
  readonly compression: CompressorTable;
  readonly spoolThresholdBytes: number;
  readonly maxMessageBytes: number;
  readonly maxFrameBytes: number;
  readonly configureTimeoutMs: number;
}

/** The connection as its delivery handler sees it. */
export interface DeliveryHost {
  /** The framed socket. */
  readonly socket: FrameSocket;
  /** The shared context. */
  readonly ctx: ConnectionContext;
  /** Consumes the next broadcaster-counter value. */
  nextBroadcasterUrl(): string;
  /** Consumes the next subscriber-counter value. */
  nextSubscriberUrl(): string;
  /** Verifies a broadcaster message's authorization. */
  verify(
    m: AuthMessage,
    tracing: Uint8Array,
    authorization: string | null,
    what: string,
  ): Promise<void>;
}
