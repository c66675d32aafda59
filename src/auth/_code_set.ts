/**
 * Used hmac codes in compact memory: 12 bytes a slot (an 8-byte fingerprint
 * and the expiry), in open-addressing tables grouped by expiry, so expired
 * codes leave a whole table at a time and nothing is ever scanned to clean up.
 *
 * The fingerprint is the code's first 8 bytes. Codes are HMAC-SHA512 outputs
 * that verified before they get here, so they are uniformly random and
 * nobody without the secret can aim for a collision; with n codes held, a
 * fresh code is mistaken for a replay with probability n / 2^64 (about
 * 10^-13 at 2 million held), and never the other way round.
 *
 * @module
 */

/** Expiries are grouped in spans of this many seconds, one table per span. */
const SPAN_SECONDS = 32;
const MIN_SLOTS = 1024;
/** Largest expiry kept as is (a u32 of seconds, year 2106); later ones are clamped to it. */
const MAX_EXPIRY = 0xffff_ffff;

/** One table: slots of (fingerprint high, fingerprint low, expiry), empty when all zero. */
class Table {
  slots: Uint32Array;
  mask: number;
  size = 0;
  /** Latest expiry held; the table goes once it is past. */
  latest = 0;

  constructor(capacity: number) {
    this.slots = new Uint32Array(capacity * 3);
    this.mask = capacity - 1;
  }

  /** Slot index of the fingerprint, or -1. */
  find(hi: number, lo: number): number {
    const s = this.slots;
    for (let i = lo & this.mask;; i = (i + 1) & this.mask) {
      const at = i * 3;
      if (s[at] === hi && s[at + 1] === lo) return at;
      if (s[at] === 0 && s[at + 1] === 0) return -1;
    }
  }

  insert(hi: number, lo: number, expiry: number): void {
    if ((this.size + 1) * 4 > (this.mask + 1) * 3) this.#grow();
    const s = this.slots;
    let i = lo & this.mask;
    while (s[i * 3] !== 0 || s[i * 3 + 1] !== 0) i = (i + 1) & this.mask;
    s[i * 3] = hi;
    s[i * 3 + 1] = lo;
    s[i * 3 + 2] = expiry;
    this.size++;
    if (expiry > this.latest) this.latest = expiry;
  }

  #grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.mask = (this.mask + 1) * 2 - 1;
    this.size = 0;
    const latest = this.latest;
    for (let at = 0; at < old.length; at += 3) {
      if (old[at] !== 0 || old[at + 1] !== 0) this.insert(old[at]!, old[at + 1]!, old[at + 2]!);
    }
    this.latest = latest;
  }
}

/** A set of codes, each remembered until its expiry. */
export class ExpiringCodeSet {
  readonly #tables = new Map<number, Table>();
  #held = 0;

  /** Codes held (expired ones included until their table goes). */
  get size(): number {
    return this.#held;
  }

  /**
   * Records `code` until `expiresAtSeconds` unless it is held and live at
   * `now` (expiry ≥ ⌊now⌋, as the SQLite store compares): then "replay".
   */
  mark(code: Uint8Array, expiresAtSeconds: number, now: number): "fresh" | "replay" {
    this.#prune(now);
    const hi = high(code);
    const lo = low(code);
    const floorNow = Math.floor(now);
    const expiry = Math.min(MAX_EXPIRY, Math.max(1, Math.ceil(expiresAtSeconds)));
    const span = Math.floor(expiry / SPAN_SECONDS);
    for (const key of this.#tables.keys()) {
      const table = this.#tables.get(key)!;
      const at = table.find(hi, lo);
      if (at < 0) continue;
      // Expiry 0 marks a slot whose code expired elsewhere or was forgotten.
      const held = table.slots[at + 2]!;
      if (held !== 0 && held >= floorNow) return "replay";
      if (key === span) {
        // Expired in the table it belongs in again: renew in place.
        table.slots[at + 2] = expiry;
        if (expiry > table.latest) table.latest = expiry;
        return "fresh";
      }
      // Expired elsewhere: leave the slot (probe chains need it) as expired.
      table.slots[at + 2] = 0;
    }
    let table = this.#tables.get(span);
    if (table === undefined) this.#tables.set(span, table = new Table(MIN_SLOTS));
    table.insert(hi, lo, expiry);
    this.#held++;
    return "fresh";
  }

  /** Forgets `code` (a mark whose write failed). */
  forget(code: Uint8Array): void {
    const hi = high(code);
    const lo = low(code);
    for (const table of this.#tables.values()) {
      const at = table.find(hi, lo);
      if (at >= 0) table.slots[at + 2] = 0;
    }
  }

  /** Drops every table whose codes have all expired at `now`. */
  #prune(now: number): void {
    const floorNow = Math.floor(now);
    for (const key of this.#tables.keys()) {
      const table = this.#tables.get(key)!;
      if (table.latest >= floorNow) continue;
      this.#tables.delete(key);
      this.#held -= table.size;
    }
  }
}

/** Bytes 0–3 of the fingerprint (the code's first 8 bytes) as a u32. */
function high(code: Uint8Array): number {
  return ((code[0]! << 24) | (code[1]! << 16) | (code[2]! << 8) | code[3]!) >>> 0;
}

/** Bytes 4–7 as a u32; a fingerprint of all zeros (an empty slot) is read as 1. */
function low(code: Uint8Array): number {
  const lo = ((code[4]! << 24) | (code[5]! << 16) | (code[6]! << 8) | code[7]!) >>> 0;
  return lo === 0 && high(code) === 0 ? 1 : lo;
}
