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
