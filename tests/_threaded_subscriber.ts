/**
 * Runs `tests/_threaded_subscriber.py` (a plain stdlib `http.server` with
 * `ThreadingMixIn`) with the system `python3` and records what it reports:
 * per path, the length and SHA-512 of every RECEIVE message it answered.
 *
 * @module
 */

const SCRIPT = new URL("./_threaded_subscriber.py", import.meta.url).pathname;

/** One message the Python subscriber received and confirmed. */
export interface Confirmed {
  /** Message bytes after the RECEIVE header. */
  readonly length: number;
  /** SHA-512 of those bytes, lowercase hex. */
  readonly sha512: string;
}

/** How to run the subscriber. */
export interface ThreadedOptions {
  /** Answer with HTTP/1.1 keep-alive instead of the handler's default HTTP/1.0 (close). */
  readonly http11?: boolean;
  /** Read request bodies at about this many bytes per second (0: as fast as it can). */
  readonly bytesPerSecond?: number;
  /** Read the request head and the first body bytes, then stop reading (never answer). */
  readonly stall?: boolean;
}

/** A running Python subscriber. */
export class ThreadedSubscriber implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #port: number;
  readonly #confirmed = new Map<string, Confirmed[]>();
  readonly #done: Promise<void>;
  #count = 0;
  #waiters: { n: number; resolve: () => void }[] = [];

  private constructor(child: Deno.ChildProcess, port: number, lines: AsyncIterator<string>) {
    this.#child = child;
    this.#port = port;
    this.#done = this.#read(lines);
  }

  /** Starts the subscriber and waits until it listens. */
  static async start(opts: ThreadedOptions = {}): Promise<ThreadedSubscriber> {
    const args = [SCRIPT];
    if (opts.http11) args.push("--http11");
    if (opts.bytesPerSecond) args.push("--rate", String(opts.bytesPerSecond));
    if (opts.stall) args.push("--stall");
    const child = new Deno.Command("python3", { args, stdin: "piped", stdout: "piped" }).spawn();
    const lines = splitLines(child.stdout)[Symbol.asyncIterator]();
    const first = await lines.next();
    const port = first.done ? NaN : Number(/^LISTENING (\d+)$/.exec(first.value)?.[1]);
    if (!Number.isInteger(port)) {
      child.kill();
      await child.status;
      throw new Error(`Python subscriber did not start: ${first.value}`);
    }
    return new ThreadedSubscriber(child, port, lines);
  }

  /** The url of `path` on this server. */
  url(path: string): string {
    return `http://127.0.0.1:${this.#port}${path}`;
  }

  /** Messages confirmed at `path`, in order. */
  confirmedAt(path: string): readonly Confirmed[] {
    return this.#confirmed.get(path) ?? [];
  }

  /** Resolves once `n` messages have been confirmed, all paths together. */
  waitFor(n: number): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.push({ n, resolve });
    this.#wake();
    return promise;
  }

  /** Stops the subscriber (closing its stdin ends it). */
  async close(): Promise<void> {
    await this.#child.stdin.close().catch(() => {});
    await this.#done;
    await this.#child.status;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #read(lines: AsyncIterator<string>): Promise<void> {
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      const m = /^RECEIVE (\S+) (\d+) ([0-9a-f]{128})$/.exec(next.value);
      if (m === null) continue;
      const list = this.#confirmed.get(m[1]!) ?? [];
      list.push({ length: Number(m[2]), sha512: m[3]! });
      this.#confirmed.set(m[1]!, list);
      this.#count++;
      this.#wake();
    }
  }

  #wake(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (this.#count < w.n) return true;
      w.resolve();
      return false;
    });
  }
}

async function* splitLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    rest += text;
    let i;
    while ((i = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, i);
      rest = rest.slice(i + 1);
    }
  }
}
