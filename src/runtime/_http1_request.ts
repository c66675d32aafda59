/**
 * The `Request` the Deno front hands the handler for a request it serves
 * itself (`_http1_serve.ts`): a light object on `Request.prototype` that
 * answers what the routes read on every request — `method`, `url`,
 * `headers`, `body`, `signal` — from what the front parsed, and builds a
 * real `Request` only when something else is asked for (`text()`,
 * `clone()`, `cache`, …). Constructing a real `Request` per request (its
 * URL parse, the copy of the headers, the body's stream) cost about 7 µs of
 * CPU, a tenth of a small notify; `@hono/node-server` does the same for
 * Node's requests, for the same reason.
 *
 * @module
 */

/** What the light request is made of. */
export interface PlainRequestParts {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  /** The whole body (already read), a stream of it, or none. */
  readonly body: Uint8Array | ReadableStream<Uint8Array> | null;
}

const REAL = Symbol("lonelypss.realRequest");

/** A request served by the front; `instanceof Request` holds (see the module doc). */
class PlainRequest {
  /** Makes the light request for `parts`. */
  readonly #parts: PlainRequestParts;
  #body: ReadableStream<Uint8Array> | null | undefined;
  #abort: AbortController | null = null;
  #aborted = false;
  #real: Request | null = null;

  constructor(parts: PlainRequestParts) {
    this.#parts = parts;
  }

  get method(): string {
    return this.#parts.method;
  }

  get url(): string {
    return this.#parts.url;
  }

  get headers(): Headers {
    return this.#parts.headers;
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.#body !== undefined) return this.#body;
    const body = this.#parts.body;
    if (body === null || body instanceof ReadableStream) return this.#body = body;
    return this.#body = new ReadableStream({
      type: "bytes",
      start(c) {
        c.enqueue(body);
        c.close();
      },
    });
  }

  get signal(): AbortSignal {
    this.#abort ??= new AbortController();
    if (this.#aborted) this.#abort.abort();
    return this.#abort.signal;
  }

  /** The client went away: aborts {@link PlainRequest.signal}. */
  abort(): void {
    this.#aborted = true;
    this.#abort?.abort();
  }

  /** The real `Request`, built once, for whatever the light one does not answer itself. */
  [REAL](): Request {
    return this.#real ??= new Request(this.url, {
      method: this.method,
      headers: this.headers,
      body: this.body,
      signal: this.signal,
      duplex: "half",
    } as RequestInit);
  }
}

// Everything else a `Request` has goes to the real one.
for (const key of Reflect.ownKeys(Request.prototype)) {
  if (key === "constructor" || Object.hasOwn(PlainRequest.prototype, key)) continue;
  const desc = Object.getOwnPropertyDescriptor(Request.prototype, key)!;
  if (typeof desc.value === "function") {
    Object.defineProperty(PlainRequest.prototype, key, {
      value(this: PlainRequest, ...args: unknown[]) {
        const real = this[REAL]() as unknown as Record<PropertyKey, (...a: unknown[]) => unknown>;
        return real[key]!(...args);
      },
    });
  } else if (desc.get !== undefined) {
    Object.defineProperty(PlainRequest.prototype, key, {
      get(this: PlainRequest) {
        return (this[REAL]() as unknown as Record<PropertyKey, unknown>)[key];
      },
    });
  }
}
Object.setPrototypeOf(PlainRequest.prototype, Request.prototype);

/** The light request for `parts` (abort its signal with {@link abortRequest}). */
export function plainRequest(parts: PlainRequestParts): Request {
  return new PlainRequest(parts) as unknown as Request;
}

/** Aborts the signal of a request made by {@link plainRequest} (the client went away). */
export function abortRequest(req: Request): void {
  (req as unknown as PlainRequest).abort();
}
