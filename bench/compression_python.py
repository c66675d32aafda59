"""python-zstandard's twin of bench/_zstd_measure.ts (the reference's library).

Usage: compression_python.py MESSAGES DICTIONARY -> one JSON line, same fields.
Compressors and decompressors are created once and reused, as the reference's
pools do; frames use the reference's parameters. `cPath` is the compression
steps of the reference's websocket delivery (lonelypss
send_compressed_receive_stream: a chunker into a SpooledTemporaryFile with a
SHA-512 of the frame, read back), without its event-loop yields.
"""

import hashlib
import io
import json
import struct
import sys
import tempfile
import time

import zstandard

PASSES = 5


def best(fn):
    """CPU seconds of the fastest pass (the machine is shared)."""
    fastest = float("inf")
    for _ in range(PASSES):
        t = time.process_time()
        fn()
        fastest = min(fastest, time.process_time() - t)
    return fastest


def unpack(data):
    out, at = [], 0
    while at < len(data):
        (n,) = struct.unpack_from(">I", data, at)
        out.append(data[at + 4 : at + 4 + n])
        at += 4 + n
    return out


def reference_path(compressor, message):
    """The compression work of one compressed delivery in the reference."""
    with tempfile.SpooledTemporaryFile(max_size=10 * 1024 * 1024) as to_send:
        hasher = hashlib.sha512()
        src = io.BytesIO(message)
        chunker = compressor.chunker(size=len(message), chunk_size=io.DEFAULT_BUFFER_SIZE)
        while True:
            chunk = src.read(io.DEFAULT_BUFFER_SIZE)
            if not chunk:
                break
            for out in chunker.compress(chunk):
                to_send.write(out)
                hasher.update(out)
        for out in chunker.finish():
            to_send.write(out)
            hasher.update(out)
        length = to_send.tell()
        hasher.digest()
        to_send.seek(0)
        return len(to_send.read(length))


def main():
    with open(sys.argv[1], "rb") as f:
        messages = unpack(f.read())
    with open(sys.argv[2], "rb") as f:
        d = zstandard.ZstdCompressionDict(f.read())
    params = dict(write_checksum=False, write_content_size=False, write_dict_id=False)
    cp = zstandard.ZstdCompressor(level=3, **params)
    cd = zstandard.ZstdCompressor(level=3, dict_data=d, **params)
    dp = zstandard.ZstdDecompressor(max_window_size=8 << 20)
    dd = zstandard.ZstdDecompressor(dict_data=d, max_window_size=8 << 20)
    plain = [cp.compress(m) for m in messages]
    with_dict = [cd.compress(m) for m in messages]
    # frames have no content size: decompress() needs max_output_size
    t = {
        "cPlain": best(lambda: [cp.compress(m) for m in messages]),
        "dPlain": best(lambda: [dp.decompress(f, max_output_size=1 << 20) for f in plain]),
        "cDict": best(lambda: [cd.compress(m) for m in messages]),
        "dDict": best(lambda: [dd.decompress(f, max_output_size=1 << 20) for f in with_dict]),
        "cPath": best(lambda: [reference_path(cp, m) for m in messages]),
    }
    corpus = b"".join(messages)
    bulk = cp.compress(corpus)
    bc = best(lambda: cp.compress(corpus))
    bd = best(lambda: dp.decompress(bulk, max_output_size=len(corpus)))
    mb = len(corpus) / 1e6
    libzstd = ".".join(str(n) for n in zstandard.ZSTD_VERSION)
    print(json.dumps({
        "backend": f"python-zstandard {zstandard.__version__} (libzstd {libzstd})",
        "plainBytes": sum(len(f) for f in plain),
        "dictBytes": sum(len(f) for f in with_dict),
        "usPerMessage": {k: round(v * 1e6 / len(messages), 2) for k, v in t.items()},
        "messageMBps": {k: round(mb / v) for k, v in t.items()},
        "bulkMBps": {"c": round(mb / bc), "d": round(mb / bd)},
    }))


if __name__ == "__main__":
    main()
