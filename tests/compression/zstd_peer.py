"""python-zstandard as the reference peer for tests/compression_interop_test.ts.

Usage: zstd_peer.py REQUEST.json -> prints one JSON object with a "results"
list, one entry per operation. Bytes travel as base64. Operations:

- compress: the reference's compressor (lonelypss compressor_utils.py):
  level, dict, no checksum, no content size, no dict id; `mode` "one_shot"
  (ZstdCompressor.compress, as lonelypsc) or "chunker" (chunker(size=...,
  chunk_size=8192), as the broadcaster).
- frame: a frame with explicit parameters (content size, dict id, checksum),
  one-shot or "streamed" through compressobj (never a content size).
- decompress: ZstdDecompressor(dict_data, max_window_size).decompressobj(),
  which accepts frames without content size; errors come back as text.
- train: zstandard.train_dictionary(size, samples).
- dict_id: the id python-zstandard reads from dictionary bytes.
"""

import base64
import json
import sys

import zstandard


def b(text):
    return base64.b64decode(text)


def t(data):
    return base64.b64encode(data).decode("ascii")


def dict_of(op):
    raw = op.get("dict")
    return None if raw is None else zstandard.ZstdCompressionDict(b(raw))


def compress(op):
    data = b(op["data"])
    c = zstandard.ZstdCompressor(
        level=op["level"],
        dict_data=dict_of(op),
        write_checksum=False,
        write_content_size=False,
        write_dict_id=False,
    )
    if op["mode"] == "one_shot":
        return {"frame": t(c.compress(data))}
    chunker = c.chunker(size=len(data), chunk_size=8192)
    out = []
    for at in range(0, len(data), 8192):
        out.extend(chunker.compress(data[at : at + 8192]))
    out.extend(chunker.finish())
    return {"frame": t(b"".join(out))}


def frame(op):
    data = b(op["data"])
    c = zstandard.ZstdCompressor(
        level=op["level"],
        dict_data=dict_of(op),
        write_checksum=op["checksum"],
        write_content_size=op["content_size"],
        write_dict_id=op["dict_id"],
    )
    if not op["streamed"]:
        return {"frame": t(c.compress(data))}
    obj = c.compressobj()
    parts = [obj.compress(data[at : at + 65536]) for at in range(0, len(data), 65536)]
    parts.append(obj.flush())
    return {"frame": t(b"".join(parts))}


def decompress(op):
    d = zstandard.ZstdDecompressor(
        dict_data=dict_of(op), max_window_size=op.get("max_window_size", 0)
    )
    try:
        return {"data": t(d.decompressobj().decompress(b(op["frame"])))}
    except zstandard.ZstdError as e:
        return {"error": str(e)}


def train(op):
    samples = [b(s) for s in op["samples"]]
    return {"dict": t(zstandard.train_dictionary(op["size"], samples).as_bytes())}


def dict_id(op):
    return {"id": zstandard.ZstdCompressionDict(b(op["dict"])).dict_id()}


OPS = {
    "compress": compress,
    "frame": frame,
    "decompress": decompress,
    "train": train,
    "dict_id": dict_id,
}


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        request = json.load(f)
    results = [OPS[op["op"]](op) for op in request["ops"]]
    libzstd = ".".join(str(n) for n in zstandard.ZSTD_VERSION)
    json.dump(
        {"zstandard": zstandard.__version__, "libzstd": libzstd, "results": results},
        sys.stdout,
    )


if __name__ == "__main__":
    main()
