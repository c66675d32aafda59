/**
 * The seam between the fan-out and this process's websocket subscribers.
 * `ws/` implements it; `fanout/` and the relay routes in `http/` use it, so
 * neither transport imports the other.
 *
 * @module
 */

import type { Subscriber } from "../storage/types.ts";
import type { OutgoingMessage } from "./message.ts";

/** Where a broadcaster's relay rows point, relative to its relay base url. */
export const RELAY_RECEIVE_PATH = "/v1/receive_for_websockets";
/** The recovery url of relay rows, relative to the relay base url. */
export const RELAY_MISSED_PATH = "/v1/missed_for_websockets";

/** This process's websocket connections, as seen from below. */
export interface LocalSubscribers {
  /**
   * Where this process's relay rows point (`…/v1/receive_for_websockets`), or
   * null while unknown (no websocket has connected and none was configured).
   */
  readonly receiveUrl: string | null;
  /** The recovery url of the relay rows (`…/v1/missed_for_websockets`), or null. */
  readonly missedUrl: string | null;
  /** True when some local connection's subscriptions match `topic`. */
  wants(topic: Uint8Array): boolean;
  /**
   * True when this process holds the subscription that `row`, one of its own
   * relay rows matched for a notify of `topic`, stands for.
   */
  holds(row: Subscriber, topic: Uint8Array): boolean;
  /**
   * Queues `msg` once for every local connection whose subscriptions match its
   * topic (however many match); returns how many connections it was queued for.
   */
  deliver(msg: OutgoingMessage): number;
  /**
   * Resolves when every local connection matching `topic` has room in its
   * outgoing queue (below half of its limits), or has stopped sending
   * (`websocketStallTimeoutMs`): a notify is paced by its websocket
   * subscribers as by its webhooks, instead of outrunning them into a 1013.
   */
  room(topic: Uint8Array): Promise<void>;
  /** Tells every matching local connection it missed `topic`; returns how many. */
  missed(topic: Uint8Array): number;
}

/** The value when websockets are not served: nobody local, nothing to deliver. */
export const NO_LOCAL_SUBSCRIBERS: LocalSubscribers = {
  receiveUrl: null,
  missedUrl: null,
  wants: () => false,
  holds: () => false,
  deliver: () => 0,
  room: () => Promise.resolve(),
  missed: () => 0,
};
