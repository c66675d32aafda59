/**
 * The process-wide registry of websocket connections
 * (docs/protocol/websocket.md#relay): which connection wants which exact topic or
 * glob, the relay rows that stand for them in the shared store
 * (reference-counted: one row per distinct topic or glob, written on 0→1 and
 * deleted on 1→0), and local delivery, once per connection however many of
 * its subscriptions match (docs/decisions.md#no-duplicates-on-a-connection).
 *
 * @module
 */

import {
  type LocalSubscribers,
  RELAY_MISSED_PATH as MISSED_PATH,
  RELAY_RECEIVE_PATH as RECEIVE_PATH,
} from "../core/local.ts";
import type { OutgoingMessage } from "../core/message.ts";
import type { Logger } from "../log.ts";
import { GlobIndex } from "../glob/mod.ts";
import { compareBytes, compareGlobs, toHex } from "../protocol/mod.ts";
import type { Store, Subscriber } from "../storage/types.ts";

/** What the hub needs from a connection. */
export interface HubConnection {
  /** Queues a delivery; false when the connection is closing (not counted). */
  deliver(msg: OutgoingMessage): boolean;
  /** Resolves when the connection's outgoing queue has room (or it stalled or closed). */
  room(): Promise<void>;
  /** Queues MISSED for `topic`; false when the connection is closing. */
  missed(topic: Uint8Array): boolean;
}

interface RowState {
  readonly kind: "exact" | "glob";
  readonly topic: Uint8Array;
  readonly glob: string;
  /** Connections holding this subscription (taken before the row is written). */
  count: number;
  /** Whether our row is in the store as far as we know. */
  written: boolean;
}

/** What the hub reads from the broadcaster. */
export interface HubDeps {
  /** The shared store the relay rows go to. */
  readonly store: Store;
  /** Diagnostics. */
  readonly log: Logger;
}

/** The hub; see the module doc. */
export class WebsocketHub implements LocalSubscribers {
  readonly #deps: HubDeps;
  #base: string | null = null;
  readonly #exact = new Map<string, Set<HubConnection>>();
  readonly #globs = new GlobIndex<HubConnection>();
  readonly #rows = new Map<string, RowState>();
  /** Every store write of relay rows runs here, one at a time, in order. */
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** `relayBase`: the url peers reach this process at (with the path prefix), if configured. */
  constructor(deps: HubDeps, relayBase: string | null) {
    this.#deps = deps;
    if (relayBase !== null) this.learnBase(relayBase);
  }

  /** The relay base url, once known. */
  get base(): string | null {
    return this.#base;
  }

  /** @inheritdoc */
  get receiveUrl(): string | null {
    return this.#base === null ? null : this.#base + RECEIVE_PATH;
  }

  /** @inheritdoc */
  get missedUrl(): string | null {
    return this.#base === null ? null : this.#base + MISSED_PATH;
  }

  /**
   * Sets the relay base the first time it is known (configured, or taken from
   * the first websocket request), and removes rows a previous process left
   * under the same url.
   */
  learnBase(base: string): void {
    if (this.#base !== null) return;
    this.#base = base.replace(/\/+$/, "");
    const url = this.receiveUrl!;
    this.#enqueue(async () => {
      const result = await this.#deps.store.setSubscriptions(url, { exacts: [], globs: [] });
      if (result === "unavailable") {
        this.#deps.log.warn("Stale relay rows not removed: store unavailable", { url });
      }
    });
  }

  /**
   * Adds one connection's exact subscription; resolves false when its relay
   * row could not be written (the caller closes that connection).
   */
  async addExact(conn: HubConnection, topic: Uint8Array): Promise<boolean> {
    // Registered before the row is written, so that a removeExact while the
    // write is pending (the connection closed) undoes it.
    const key = toHex(topic);
    let set = this.#exact.get(key);
    if (set === undefined) this.#exact.set(key, set = new Set());
    set.add(conn);
    const ok = await this.#acquire(exactKey(topic), "exact", topic, "");
    if (!ok && set.delete(conn) && set.size === 0 && this.#exact.get(key) === set) {
      this.#exact.delete(key);
    }
    return ok;
  }

  /** Removes one connection's exact subscription (the row goes with the last one). */
  removeExact(conn: HubConnection, topic: Uint8Array): Promise<void> {
    const key = toHex(topic);
    const set = this.#exact.get(key);
    if (set !== undefined && set.delete(conn) && set.size === 0) this.#exact.delete(key);
    return this.#release(exactKey(topic));
  }

  /** As {@link addExact}, for a glob. */
  async addGlob(conn: HubConnection, glob: string): Promise<boolean> {
    this.#globs.add(glob, conn);
    const ok = await this.#acquire(globKey(glob), "glob", EMPTY, glob);
    if (!ok) this.#globs.delete(glob, conn);
    return ok;
  }

  /** As {@link removeExact}, for a glob. */
  removeGlob(conn: HubConnection, glob: string): Promise<void> {
    this.#globs.delete(glob, conn);
    return this.#release(globKey(glob));
  }

  /** @inheritdoc */
  wants(topic: Uint8Array): boolean {
    return this.#exact.has(toHex(topic)) || this.#globs.match(topic).length > 0;
  }

  /** @inheritdoc */
  holds(row: Subscriber, topic: Uint8Array): boolean {
    const key = row.kind === "exact" ? exactKey(topic) : globKey(row.glob);
    return (this.#rows.get(key)?.count ?? 0) > 0;
  }

  /** @inheritdoc */
  deliver(msg: OutgoingMessage): number {
    let count = 0;
    for (const conn of this.#interested(msg.topic)) if (conn.deliver(msg)) count++;
    return count;
  }

  /** @inheritdoc */
  async room(topic: Uint8Array): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const conn of this.#interested(topic)) waits.push(conn.room());
    if (waits.length > 0) await Promise.all(waits);
  }

  /** @inheritdoc */
  missed(topic: Uint8Array): number {
    let count = 0;
    for (const conn of this.#interested(topic)) if (conn.missed(topic)) count++;
    return count;
  }

  /**
   * Writes every row this process should have and removes any other row
   * under its url (one transaction): repairs rows a peer deleted after a
   * failed delivery, or a store that lost them.
   */
  reconcile(): Promise<void> {
    return this.#enqueue(async () => {
      const url = this.receiveUrl;
      if (url === null || this.#closed) return;
      const recovery = this.missedUrl;
      const exacts = [];
      const globs = [];
      for (const row of this.#rows.values()) {
        if (row.count === 0) continue;
        if (row.kind === "exact") exacts.push({ topic: row.topic, recovery });
        else globs.push({ glob: row.glob, recovery });
      }
      exacts.sort((a, b) => compareBytes(a.topic, b.topic));
      globs.sort((a, b) => compareGlobs(a.glob, b.glob));
      const result = await this.#deps.store.setSubscriptions(url, { exacts, globs });
      if (result === "unavailable") {
        this.#deps.log.warn("Relay rows not reconciled: store unavailable", { url });
        return;
      }
      for (const row of this.#rows.values()) row.written = row.count > 0;
    });
  }

  /** Removes every row of this process (shutdown). Further changes write nothing. */
  async close(): Promise<void> {
    await this.#enqueue(async () => {
      this.#closed = true;
      const url = this.receiveUrl;
      if (url === null) return;
      const result = await this.#deps.store.setSubscriptions(url, { exacts: [], globs: [] });
      if (result === "unavailable") {
        this.#deps.log.warn("Relay rows not removed at shutdown: store unavailable", { url });
      }
    });
  }

  /** Connections whose subscriptions match `topic`, each once. */
  #interested(topic: Uint8Array): Set<HubConnection> {
    const out = new Set<HubConnection>(this.#exact.get(toHex(topic)));
    for (const conn of this.#globs.match(topic)) out.add(conn);
    return out;
  }

  async #acquire(key: string, kind: RowState["kind"], topic: Uint8Array, glob: string) {
    let row = this.#rows.get(key);
    if (row === undefined) {
      this.#rows.set(key, row = { kind, topic, glob, count: 0, written: false });
    }
    row.count++;
    const ok = await this.#enqueue(() => this.#sync(row));
    if (!ok) {
      row.count--;
      this.#forget(key, row);
    }
    return ok;
  }

  async #release(key: string): Promise<void> {
    const row = this.#rows.get(key);
    if (row === undefined || row.count === 0) return;
    row.count--;
    await this.#enqueue(() => this.#sync(row));
    this.#forget(key, row);
  }

  #forget(key: string, row: RowState): void {
    if (row.count === 0 && !row.written && this.#rows.get(key) === row) this.#rows.delete(key);
  }

  /** Brings one row in the store in line with its count; false if the store failed. */
  async #sync(row: RowState): Promise<boolean> {
    const url = this.receiveUrl;
    const want = row.count > 0;
    if (url === null || this.#closed || want === row.written) return true;
    const store = this.#deps.store;
    let result: string;
    if (want) {
      result = row.kind === "exact"
        ? await store.subscribeExact(url, row.topic, this.missedUrl)
        : await store.subscribeGlob(url, row.glob, this.missedUrl);
    } else {
      result = row.kind === "exact"
        ? await store.unsubscribeExact(url, row.topic)
        : await store.unsubscribeGlob(url, row.glob);
    }
    if (result === "unavailable") {
      this.#deps.log.warn("Relay row not written: store unavailable", { url, subscribe: want });
      return false;
    }
    // conflict / not_found: the store already says what we want.
    row.written = want;
    return true;
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(task);
    this.#chain = run.catch(() => {});
    return run;
  }
}

const EMPTY = new Uint8Array(0);

function exactKey(topic: Uint8Array): string {
  return "e" + toHex(topic);
}

function globKey(glob: string): string {
  return "g" + glob;
}
