/**
 * A received message: its SHA-512 was verified before it was handed out. A
 * small body is held in memory; a large one lives in a temp file that is
 * removed once the body has been read (or the message dropped).
 *
 * @module
 */

import { readFile, rm } from "node:fs/promises";
import { ClientError } from "./errors.ts";
import { readFileStream } from "./spool.ts";

/** One delivered message. */
export interface Message {
  /** Topic bytes (use `new TextDecoder().decode(m.topic)` for text topics). */
  readonly topic: Uint8Array;
  /** SHA-512 of the body, verified before the message was yielded. */
  readonly sha512: Uint8Array;
  /** Body length in bytes. */
  readonly length: number;
  /** The whole body. A spooled body can be read once (its file is then removed). */
  bytes(): Promise<Uint8Array>;
  /** The body as UTF-8 text (invalid sequences become U+FFFD). */
  text(): Promise<string>;
  /** The body as a stream; a spooled body's file is removed when it ends or is cancelled. */
  stream(): ReadableStream<Uint8Array>;
  /** Drops the body without reading it (removes a spooled file). Idempotent. */
  discard(): Promise<void>;
}

/** A message whose body is in memory. */
export class MemoryMessage implements Message {
  readonly topic: Uint8Array;
  readonly sha512: Uint8Array;
  readonly length: number;
  readonly #body: Uint8Array;

  /** Wraps a verified body. */
  constructor(topic: Uint8Array, sha512: Uint8Array, body: Uint8Array) {
    this.topic = topic;
    this.sha512 = sha512;
    this.length = body.length;
    this.#body = body;
  }

  /** @inheritdoc */
  bytes(): Promise<Uint8Array> {
    return Promise.resolve(this.#body);
  }

  /** @inheritdoc */
  text(): Promise<string> {
    return Promise.resolve(new TextDecoder().decode(this.#body));
  }

  /** @inheritdoc */
  stream(): ReadableStream<Uint8Array> {
    const body = this.#body;
    return new ReadableStream({
      start(c) {
        if (body.length > 0) c.enqueue(body);
        c.close();
      },
    });
  }

  /** @inheritdoc */
  discard(): Promise<void> {
    return Promise.resolve();
  }
}

/** A temp file shared by the copies of one message; removed when the last copy lets go. */
export class SharedFile {
  /** The file. */
  readonly path: string;
  #refs = 0;

  /** Wraps `path` with no holders yet. */
  constructor(path: string) {
    this.path = path;
  }

  /** One more holder. */
  hold(): void {
    this.#refs++;
  }

  /** One holder fewer; the last one removes the file. */
  async release(): Promise<void> {
    if (--this.#refs <= 0) await rm(this.path, { force: true }).catch(() => {});
  }
}

/** A message whose body is in a temp file, removed once read or dropped. */
export class FileMessage implements Message {
  readonly topic: Uint8Array;
  readonly sha512: Uint8Array;
  readonly length: number;
  readonly #file: SharedFile;
  readonly #path: string;
  #taken = false;

  /** Wraps a verified, spooled body (holding `file` until read or discarded). */
  constructor(topic: Uint8Array, sha512: Uint8Array, length: number, file: SharedFile) {
    this.topic = topic;
    this.sha512 = sha512;
    this.length = length;
    this.#file = file;
    this.#path = file.path;
    file.hold();
  }

  /** Another copy of this message over the same file (for a second subscription). */
  copy(): FileMessage {
    return new FileMessage(this.topic, this.sha512, this.length, this.#file);
  }

  #take(): void {
    if (this.#taken) {
      throw new ClientError(
        "invalid",
        "Message body already consumed: a spooled body is read once",
      );
    }
    this.#taken = true;
  }

  /** @inheritdoc */
  async bytes(): Promise<Uint8Array> {
    this.#take();
    try {
      return new Uint8Array(await readFile(this.#path));
    } finally {
      await this.#file.release();
    }
  }

  /** @inheritdoc */
  async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }

  /** @inheritdoc */
  stream(): ReadableStream<Uint8Array> {
    this.#take();
    const reader = readFileStream(this.#path).getReader();
    const file = this.#file;
    let released = false;
    const remove = async () => {
      if (released) return;
      released = true;
      await file.release();
    };
    return new ReadableStream<Uint8Array>({
      async pull(c) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            await remove();
            c.close();
          } else c.enqueue(value);
        } catch (e) {
          await remove();
          c.error(e);
        }
      },
      async cancel() {
        await reader.cancel().catch(() => {});
        await remove();
      },
    });
  }

  /** @inheritdoc */
  async discard(): Promise<void> {
    if (this.#taken) return;
    this.#taken = true;
    await this.#file.release();
  }
}
