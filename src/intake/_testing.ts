/**
 * Helpers shared by the intake unit tests (test-only; nothing else imports it).
 *
 * @module
 */

/** A reader that yields `chunks` one by one, then ends. */
export function streamOf(chunks: Uint8Array[]): ReadableStreamDefaultReader<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      c.close();
    },
  }).getReader();
}
