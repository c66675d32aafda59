"""A plain threaded stdlib subscriber, as many real webhook receivers are.

``http.server.HTTPServer`` with ``socketserver.ThreadingMixIn`` (the stdlib's
own ``ThreadingHTTPServer`` is exactly that pair) and a
``BaseHTTPRequestHandler``: its defaults are kept (HTTP/1.0 answers, so the
server closes each connection after its response; a listen backlog of 5)
unless ``--http11`` asks for keep-alive.

Every POST is read as a RECEIVE (``lp16 tracing, lp16 topic, lp8 identifier,
u64 length, message``), streamed: the message is hashed while it is read,
never held whole. The answer is RESPONSE_CONFIRM_RECEIVE (``u16 8``, empty
authorization and tracing, the identifier, ``u32 1``). One line per message
goes to stdout once its answer is written::

    RECEIVE <path> <message length> <sha512 hex>

The first line on stdout is ``LISTENING <port>``. ``--rate BYTES_PER_S``
reads the body at about that rate (a slow subscriber); ``--stall`` reads the
request head and the first body bytes, then stops reading and never answers
(a stalled one).

Run with the system ``python3``: nothing outside the standard library.
"""

import argparse
import hashlib
import http.server
import socketserver
import struct
import sys
import threading
import time

CHUNK = 64 * 1024
OUT = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    rate = 0.0
    stalling = False
    stopped = threading.Event()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        remaining = -1 if chunked else int(self.headers.get("Content-Length", "0"))
        started = time.monotonic()
        taken = 0
        in_chunk = 0

        def raw(n: int) -> bytes:
            nonlocal taken
            data = self.rfile.read(n)
            if len(data) == 0:
                raise EOFError("body shorter than announced")
            taken += len(data)
            return data

        def read(n: int) -> bytes:
            nonlocal remaining, in_chunk
            if not chunked:
                data = raw(min(n, remaining))
                remaining -= len(data)
            else:
                if in_chunk == 0:
                    size = int(self.rfile.readline(1024).split(b";")[0], 16)
                    if size == 0:
                        while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                            pass
                        remaining = 0
                        return b""
                    in_chunk = size
                data = raw(min(n, in_chunk))
                in_chunk -= len(data)
                if in_chunk == 0:
                    self.rfile.readline(1024)
            if self.rate > 0:
                ahead = taken / self.rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
            return data

        head = b""

        def need(n: int) -> bytes:
            nonlocal head
            while len(head) < n:
                data = read(n - len(head))
                if len(data) == 0:
                    raise EOFError("body shorter than a RECEIVE header")
                head += data
            out, head = head[:n], head[n:]
            return out

        (tracing_len,) = struct.unpack(">H", need(2))
        need(tracing_len)
        (topic_len,) = struct.unpack(">H", need(2))
        need(topic_len)
        (id_len,) = struct.unpack(">B", need(1))
        identifier = need(id_len)
        (length,) = struct.unpack(">Q", need(8))
        if Handler.stalling:
            # Read nothing more until we are stopped.
            Handler.stopped.wait()
            return
        digest = hashlib.sha512()
        got = 0
        while remaining != 0:
            data = read(CHUNK if self.rate <= 0 else min(CHUNK, max(1024, int(self.rate / 20))))
            digest.update(data)
            got += len(data)
        if got != length:
            self.send_response(400)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = (
            struct.pack(">HHH", 8, 0, 0)
            + struct.pack(">B", len(identifier))
            + identifier
            + struct.pack(">I", 1)
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        with OUT:
            sys.stdout.write(f"RECEIVE {self.path} {got} {digest.hexdigest()}\n")
            sys.stdout.flush()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A broadcaster that gives up on a request closes it mid-body: not news.
        if not isinstance(sys.exc_info()[1], (ConnectionError, EOFError)):
            super().handle_error(request, client_address)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http11", action="store_true")
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--stall", action="store_true")
    args = parser.parse_args()
    Handler.rate = args.rate
    Handler.stalling = args.stall
    if args.http11:
        Handler.protocol_version = "HTTP/1.1"
    server = Server(("127.0.0.1", 0), Handler)
    sys.stdout.write(f"LISTENING {server.server_address[1]}\n")
    sys.stdout.flush()
    # Stops when the parent closes our stdin.
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    Handler.stopped.set()
    server.shutdown()


if __name__ == "__main__":
    main()
