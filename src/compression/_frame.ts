/**
 * Reads the two header fields we need without a backend: the content size a
 * frame declares (RFC 8878 §3.1.1.1), so a decoder can refuse an oversized
 * frame before decoding anything and size its output exactly, and a
 * dictionary's id. Pure; knows nothing about libzstd.
 *
 * @module
 */

const MAGIC = 0xfd2fb528;
const DICT_MAGIC = 0xec30a437;
const DICT_ID_BYTES = [0, 1, 2, 4] as const;
const SIZE_BYTES = [0, 2, 4, 8] as const;

/**
 * The declared decompressed size, or `undefined` when the frame has no
 * content-size field (as every frame on the websocket wire), is not a zstd
 * frame, or the header is incomplete: the decoder then finds out by decoding.
 */
export function declaredContentSize(frame: Uint8Array): number | undefined {
  if (frame.length < 6) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint32(0, true) !== MAGIC) return undefined;
  const descriptor = frame[4]!;
  const singleSegment = (descriptor >> 5) & 1;
  const flag = descriptor >> 6;
  const sizeBytes = flag === 0 ? singleSegment : SIZE_BYTES[flag]!;
  if (sizeBytes === 0) return undefined;
  const at = 5 + (singleSegment ? 0 : 1) + DICT_ID_BYTES[descriptor & 3]!;
  if (frame.length < at + sizeBytes) return undefined;
  switch (sizeBytes) {
    case 1:
      return view.getUint8(at);
    case 2:
      return view.getUint16(at, true) + 256;
    case 4:
      return view.getUint32(at, true);
    default:
      return Number(view.getBigUint64(at, true));
  }
}

/** The id in a zstd dictionary's header (RFC 8878 §5); 0 for a raw-content dictionary. */
export function dictionaryId(dict: Uint8Array): number {
  if (dict.length < 8) return 0;
  const view = new DataView(dict.buffer, dict.byteOffset, dict.byteLength);
  return view.getUint32(0, true) === DICT_MAGIC ? view.getUint32(4, true) : 0;
}

/**
 * Finds where one zstd frame ends by walking its block headers, without
 * decoding, chunk by chunk. `node:zlib` decodes concatenated frames as one
 * stream; this tells the `node:zlib` backend about bytes after the first frame,
 * which libzstd's position reports give the libzstd backend directly.
 * Malformed headers stop the walk silently: the decoder reports those.
 */
export class FrameEnd {
  #header: number[] = [];
  #want = 5; // magic and frame header descriptor
  #skip = 0;
  #then: (() => void) | undefined;
  #onHeader: (h: number[]) => void = (h) => this.#frameHeader(h);
  #ended = false;
  #lost = false;

  /** Whether the frame's last byte has been seen. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Walks `chunk`; returns the offset in it just past the frame's end, or -1
   * while the frame goes on (or the walk gave up on a malformed header).
   */
  feed(chunk: Uint8Array): number {
    if (this.#ended) return 0;
    let i = 0;
    while (i < chunk.length && !this.#ended && !this.#lost) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        if (this.#skip === 0) this.#then?.();
        continue;
      }
      this.#header.push(chunk[i++]!);
      if (this.#header.length === this.#want) {
        const h = this.#header;
        this.#header = [];
        this.#onHeader(h);
      }
    }
    return this.#ended ? i : -1;
  }

  #skipThen(n: number, then: () => void): void {
    this.#skip = n;
    this.#then = then;
    if (n === 0) then();
  }

  #frameHeader(h: number[]): void {
    if (h[0] !== 0x28 || h[1] !== 0xb5 || h[2] !== 0x2f || h[3] !== 0xfd) {
      this.#lost = true;
      return;
    }
    const d = h[4]!;
    const single = (d >> 5) & 1;
    const sizeBytes = (d >> 6) === 0 ? single : SIZE_BYTES[d >> 6]!;
    const checksum = (d >> 2) & 1 ? 4 : 0;
    this.#skipThen((single ? 0 : 1) + DICT_ID_BYTES[d & 3]! + sizeBytes, () => {
      this.#want = 3;
      this.#onHeader = (b) => this.#block(b, checksum);
    });
  }

  #block(b: number[], checksum: number): void {
    const v = b[0]! | (b[1]! << 8) | (b[2]! << 16);
    const type = (v >> 1) & 3;
    if (type === 3) {
      this.#lost = true;
      return;
    }
    const last = v & 1;
    this.#skipThen(type === 1 ? 1 : v >> 3, () => {
      if (last) this.#skipThen(checksum, () => (this.#ended = true));
    });
  }
}
