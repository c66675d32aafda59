/**
 * The client's subscriptions, reference-counted as the Python client does:
 * the broadcaster holds one subscription per distinct topic (or pattern),
 * however many application subscriptions share it; the last `unsubscribe`
 * removes it there.
 *
 * @module
 */

import { compileGlob, type GlobMatcher } from "../glob/mod.ts";
import { bytesEqual, toHex } from "../protocol/mod.ts";
import { ClientError } from "./errors.ts";
import { FileMessage, type Message } from "./message.ts";
import { type QueueLimits, SubscriptionImpl } from "./subscription.ts";

/** One subscription as the broadcaster holds it. */
export interface Registration {
  /** Client-local number (part of the webhook url). */
  readonly id: number;
  /** Exact or glob. */
  readonly kind: "exact" | "glob";
  /** The exact topic, or null. */
  readonly topic: Uint8Array | null;
  /** The pattern, or null. */
  readonly glob: string | null;
  /** The application subscriptions sharing it. */
  readonly subs: Set<SubscriptionImpl>;
  /** Settles once the broadcaster has confirmed it. */
  ready: Promise<void>;
  /** Set when the last subscription left. */
  removed: boolean;
}

/** What a transport does when a registration appears or goes. */
export interface RegistryTransport {
  /** Subscribes at the broadcaster; rejects with a {@link ClientError}. */
  add(reg: Registration): Promise<void>;
  /** Unsubscribes at the broadcaster (best effort). */
  remove(reg: Registration): Promise<void>;
}

/** Every registration of one client. */
export class Registry {
  readonly #byKey = new Map<string, Registration>();
  readonly #byId = new Map<number, Registration>();
  readonly #matchers = new Map<Registration, GlobMatcher>();
  /** Unsubscribes still under way, by key: a new subscribe for the key waits for it. */
  readonly #removing = new Map<string, Promise<void>>();
  #next = 1;
  #closed = false;
  readonly #limits: QueueLimits;
  readonly #onDrop: () => void;
  /** Set by the transport before the first subscribe. */
  transport: RegistryTransport | null = null;

  /** Queues get `limits`; an overflow calls `onDrop`. */
  constructor(limits: QueueLimits, onDrop: () => void) {
    this.#limits = limits;
    this.#onDrop = onDrop;
  }

  /** Every live registration, oldest first. */
  all(): Registration[] {
    return [...this.#byKey.values()];
  }

  /** The registration with client-local number `id`. */
  byId(id: number): Registration | undefined {
    return this.#byId.get(id);
  }

  /**
   * A new application subscription; subscribes at the broadcaster when it is
   * the first for its topic or pattern.
   */
  async subscribe(kind: "exact" | "glob", value: Uint8Array | string): Promise<SubscriptionImpl> {
    if (this.#closed) throw new ClientError("closed", "The client is closed");
    const key = kind === "exact" ? `e:${toHex(value as Uint8Array)}` : `g:${value as string}`;
    let reg = this.#byKey.get(key);
    if (reg === undefined) {
      const created: Registration = {
        id: this.#next++,
        kind,
        topic: kind === "exact" ? (value as Uint8Array).slice() : null,
        glob: kind === "glob" ? value as string : null,
        subs: new Set(),
        ready: Promise.resolve(),
        removed: false,
      };
      reg = created;
      this.#byKey.set(key, reg);
      this.#byId.set(reg.id, reg);
      if (kind === "glob") this.#matchers.set(reg, compileGlob(value as string));
      const prior = this.#removing.get(key) ?? Promise.resolve();
      reg.ready = prior.then(() => this.transport!.add(created));
      reg.ready.catch(() => this.#drop(created));
    }
    const r: Registration = reg;
    const sub = new SubscriptionImpl(
      kind,
      value,
      this.#limits,
      this.#onDrop,
      (s) => this.#leave(r, s),
    );
    r.subs.add(sub);
    try {
      await r.ready;
    } catch (e) {
      r.subs.delete(sub);
      sub.end();
      throw e;
    }
    return sub;
  }

  #drop(reg: Registration): void {
    reg.removed = true;
    const key = keyOf(reg);
    if (this.#byKey.get(key) === reg) this.#byKey.delete(key);
    this.#byId.delete(reg.id);
    this.#matchers.delete(reg);
  }

  async #leave(reg: Registration, sub: SubscriptionImpl): Promise<void> {
    reg.subs.delete(sub);
    if (reg.subs.size > 0 || reg.removed) return;
    this.#drop(reg);
    const key = keyOf(reg);
    const removal = (async () => {
      await reg.ready.catch(() => {});
      if (!this.#closed) await this.transport!.remove(reg).catch(() => {});
    })();
    this.#removing.set(key, removal);
    await removal;
    if (this.#removing.get(key) === removal) this.#removing.delete(key);
  }

  /** The registrations whose topic or pattern matches `topic`. */
  matching(topic: Uint8Array): Registration[] {
    const out: Registration[] = [];
    for (const reg of this.#byKey.values()) {
      if (
        reg.kind === "exact"
          ? bytesEqual(reg.topic!, topic)
          : this.#matchers.get(reg)!.matches(topic)
      ) {
        out.push(reg);
      }
    }
    return out;
  }

  /** Hands `m` to every subscription of `regs` (a spooled body is shared); returns how many. */
  deliver(regs: Registration[], m: Message): number {
    const subs = regs.flatMap((r) => [...r.subs]).filter((s) => !s.ended);
    if (subs.length === 0) {
      void m.discard();
      return 0;
    }
    subs.forEach((s, i) => s.push(i === 0 || !(m instanceof FileMessage) ? m : m.copy()));
    return subs.length;
  }

  /** Ends every subscription (the client is closing). */
  close(): void {
    this.#closed = true;
    for (const reg of this.#byKey.values()) for (const s of reg.subs) s.end();
    this.#byKey.clear();
    this.#byId.clear();
  }
}

function keyOf(reg: Registration): string {
  return reg.kind === "exact" ? `e:${toHex(reg.topic!)}` : `g:${reg.glob!}`;
}
