/**
 * The fuzzer's requests (`fuzz.ts`): raw HTTP/1.x bytes, valid notifies and
 * deterministic corruptions of them (bit flips, deletions, truncations, huge
 * lengths, bad UTF-8, broken chunking, long URLs, big or duplicate headers,
 * HTTP/1.0, pipelining), from a seeded PRNG so a run can be replayed.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { AuthStrategy } from "../src/auth/types.ts";
import { encodeNotify } from "../src/protocol/notify.ts";
import { concat } from "../tests/compression/_bytes.ts";

/** One request to send and what a correct server does with it. */
export interface FuzzCase {
  /** Family, for the report. */
  readonly kind: string;
  /** The bytes on the wire. */
  readonly bytes: Uint8Array;
  /** Half-close after writing (the request is cut short on purpose). */
  readonly halfClose: boolean;
  /** Responses expected on the connection. */
  readonly responses: number;
  /** Well-formed HTTP: it must be answered (whatever the status). */
  readonly mustAnswer: boolean;
}

const enc = new TextEncoder();

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Builds the cases for one broadcaster; `auth` signs the valid notifies. */
export class CaseMaker {
  readonly #rand: () => number;
  readonly #auth: AuthStrategy;
  readonly #kinds: readonly string[];

  /** Cases from `seed`, cycling through `kinds` (default: all of {@link CaseMaker.KINDS}). */
  constructor(seed: number, auth: AuthStrategy, kinds: readonly string[] = CaseMaker.KINDS) {
    this.#rand = prng(seed);
    this.#auth = auth;
    this.#kinds = kinds;
  }

  /** The families, in the order {@link CaseMaker.make} cycles through them by default. */
  static readonly KINDS = [
    "valid",
    "pipelined",
    "http10",
    "bitflip",
    "deletion",
    "truncation",
    "hugelen",
    "badutf8",
    "chunked",
    "longurl",
    "bigheaders",
    "dupheaders",
    "unauth",
    "oversize",
  ] as const;

  /** The `i`th case. */
  async make(i: number): Promise<FuzzCase> {
    const kind = this.#kinds[i % this.#kinds.length] as typeof CaseMaker.KINDS[number];
    const one = (bytes: Uint8Array, mustAnswer: boolean, halfClose = false): FuzzCase => ({
      kind,
      bytes,
      halfClose,
      responses: 1,
      mustAnswer,
    });
    switch (kind) {
      case "valid":
        return one(await this.#request(await this.#notify()), true);
      case "pipelined": {
        const n = 2 + this.#int(3);
        const parts: Uint8Array[] = [];
        for (let k = 0; k < n; k++) parts.push(await this.#request(await this.#notify()));
        return { kind, bytes: concat(parts), halfClose: false, responses: n, mustAnswer: true };
      }
      case "http10":
        return one(await this.#request(await this.#notify(), { version: "1.0" }), true);
      case "bitflip": {
        const n = await this.#notify();
        const body = n.body.slice();
        for (let k = 1 + this.#int(8); k > 0; k--) {
          body[this.#int(body.length)]! ^= 1 << this.#int(8);
        }
        return one(await this.#request({ ...n, body }), true);
      }
      case "deletion": {
        const n = await this.#notify();
        const at = this.#int(n.body.length);
        const cut = 1 + this.#int(16);
        const body = concat([n.body.subarray(0, at), n.body.subarray(at + cut)]);
        return one(await this.#request({ ...n, body }), true);
      }
      case "truncation": {
        const whole = await this.#request(await this.#notify());
        const cut = this.#int(whole.length);
        const headEnd = new TextDecoder("latin1").decode(whole.subarray(0, 4096)).indexOf(
          "\r\n\r\n",
        );
        // Reported apart: a cut head can only be closed, a cut body can be answered.
        const where = cut < headEnd + 4 ? "truncation (head)" : "truncation (body)";
        return { ...one(whole.subarray(0, cut), false, true), kind: where };
      }
      case "hugelen":
        return this.#rand() < 0.5
          ? one(await this.#request(await this.#notify({ length: this.#hugeLength() })), true)
          : one(
            await this.#request(await this.#notify(), {
              contentLength: String(2 ** (33 + this.#int(20))),
            }),
            false,
            true,
          );
      case "badutf8":
        return one(await this.#request(await this.#badUtf8()), true);
      case "chunked":
        return this.#chunked(one);
      case "longurl": {
        const size = [1_000, 8_000, 16_000, 64_000, 100_000, 400_000, 1_000_000][this.#int(7)]!;
        return one(await this.#request(await this.#notify(), { query: "x".repeat(size) }), true);
      }
      case "bigheaders": {
        const size = [4_000, 16_000, 64_000, 200_000, 1_000_000][this.#int(5)]!;
        const many = this.#rand() < 0.5;
        const extra = many
          ? Array.from({ length: Math.ceil(size / 40) }, (_, k) => `x-fuzz-${k}: ${"v".repeat(28)}`)
          : [`x-fuzz: ${"v".repeat(size)}`];
        return one(await this.#request(await this.#notify(), { extra }), true);
      }
      case "dupheaders":
        return one(await this.#duplicated(), true);
      case "unauth": {
        // No Authorization header: under hmac the answer (401) comes before the body.
        const n = await this.#notify({ size: 100_000 + this.#int(8_000_000) });
        return one(await this.#request({ ...n, authorization: null }), true);
      }
      case "oversize": {
        // Larger than the route takes: 413 on the declared length, before the body.
        const body = bytes(this.#rand, 100_000 + this.#int(8_000_000));
        return one(
          await this.#request({ body, authorization: null }, {
            path: "/v1/check_subscriptions",
          }),
          true,
        );
      }
    }
  }

  /** A valid notify body (unless `length` overrides the declared message length). */
  async #notify(over: { length?: bigint; size?: number } = {}): Promise<Notify> {
    const topic = enc.encode(`fuzz/${this.#int(1000)}`);
    const size = over.size ??
      (this.#rand() < 0.9 ? this.#int(200) : 70_000 + this.#int(100_000));
    const message = bytes(this.#rand, size);
    const tracing = enc.encode("fuzz");
    const identifier = bytes(this.#rand, 8);
    const sha512 = new Uint8Array(createHash("sha512").update(message).digest());
    const body = encodeNotify({ topic, sha512, tracing, identifier }, message);
    if (over.length !== undefined) {
      const at = body.length - message.length - 8;
      new DataView(body.buffer, body.byteOffset).setBigUint64(at, over.length);
    }
    const authorization = await this.#auth.authorize(
      { type: "notify", topic, identifier, sha512 },
      tracing,
      Date.now() / 1000,
    );
    return { body, authorization };
  }

  /** A notify whose topic or tracing is 64 KiB of bytes that are not UTF-8. */
  async #badUtf8(): Promise<Notify> {
    const n = await this.#notify();
    const field = new Uint8Array(0xffff).fill(this.#rand() < 0.5 ? 0xff : 0xc3);
    const lp = new Uint8Array([0xff, 0xff]);
    // Replaces the topic (first field): the rest of the body follows unchanged,
    // or the field claims 64 KiB and what follows is cut short.
    const topicLength = (n.body[0]! << 8) | n.body[1]!;
    const rest = n.body.subarray(2 + topicLength);
    const body = this.#rand() < 0.5
      ? concat([lp, field, rest])
      : concat([lp, field.subarray(0, this.#int(0xffff)), rest]);
    return { body, authorization: n.authorization };
  }

  #chunked(one: (b: Uint8Array, must: boolean, half?: boolean) => FuzzCase): Promise<FuzzCase> {
    return this.#notify().then(async (n) => {
      const head = await this.#request(n, { chunked: true });
      const body = n.body;
      const mid = this.#int(body.length);
      const hex = (k: number) => k.toString(16);
      const variants: [Uint8Array, boolean, boolean][] = [
        // well-formed, two chunks
        [
          concat([
            head,
            chunk(hex(mid), body.subarray(0, mid)),
            chunk(hex(body.length - mid), body.subarray(mid)),
            enc.encode("0\r\n\r\n"),
          ]),
          true,
          false,
        ],
        // a size that is not hex
        [concat([head, enc.encode("zz\r\n"), body, enc.encode("\r\n0\r\n\r\n")]), true, false],
        // a size larger than the data, then the end of the stream
        [concat([head, chunk(hex(body.length + 100), body)]), false, true],
        // a missing CRLF after the data
        [
          concat([head, enc.encode(`${hex(body.length)}\r\n`), body, enc.encode("0\r\n\r\n")]),
          true,
          false,
        ],
        // a size too large for any integer
        [
          concat([head, enc.encode("ffffffffffffffffffff\r\n"), body, enc.encode("\r\n0\r\n\r\n")]),
          true,
          false,
        ],
        // the last chunk never comes
        [concat([head, chunk(hex(body.length), body)]), false, true],
      ];
      const [bytes_, must, half] = variants[this.#int(variants.length)]!;
      return one(bytes_, must, half);
    });
  }

  async #duplicated(): Promise<Uint8Array> {
    const n = await this.#notify();
    const len = String(n.body.length);
    const options: RequestOptions[] = [
      { extra: [`content-length: ${len}`] },
      { extra: [`content-length: ${n.body.length + 1}`] },
      { extra: ["host: other.example"] },
      { extra: [`authorization: ${n.authorization ?? "x"}`] },
      { extra: ["transfer-encoding: chunked"] },
      { extra: ["content-type: text/plain"] },
    ];
    return await this.#request(n, options[this.#int(options.length)]!);
  }

  async #request(n: Notify, o: RequestOptions = {}): Promise<Uint8Array> {
    const lines = [
      `POST ${o.path ?? "/v1/notify"}${o.query === undefined ? "" : "?" + o.query} HTTP/${
        o.version ?? "1.1"
      }`,
      "host: 127.0.0.1",
      "content-type: application/octet-stream",
    ];
    if (n.authorization !== null) lines.push(`authorization: ${n.authorization}`);
    if (o.chunked) lines.push("transfer-encoding: chunked");
    else lines.push(`content-length: ${o.contentLength ?? n.body.length}`);
    lines.push(...(o.extra ?? []), "", "");
    const head = enc.encode(lines.join("\r\n"));
    return await Promise.resolve(o.chunked ? head : concat([head, n.body]));
  }

  #int(n: number): number {
    return Math.floor(this.#rand() * n);
  }

  #hugeLength(): bigint {
    const hi = BigInt(this.#int(0x1_0000_0000));
    const lo = BigInt(this.#int(0x1_0000_0000));
    return ((hi << 32n) | lo) | (1n << BigInt(24 + this.#int(39)));
  }
}

interface Notify {
  readonly body: Uint8Array;
  readonly authorization: string | null;
}

interface RequestOptions {
  readonly path?: string;
  readonly version?: string;
  readonly query?: string;
  readonly extra?: string[];
  readonly chunked?: boolean;
  readonly contentLength?: string;
}

function chunk(size: string, data: Uint8Array): Uint8Array {
  return concat([enc.encode(`${size}\r\n`), data, enc.encode("\r\n")]);
}

function bytes(rand: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}
