"""Interop stress: thousands of awaited notifies between two official websocket
clients (lonelypsc 0.0.17 `WebsocketPubSubClient`), each in its own process,
through one lonelypss-ts broadcaster with zstd and dictionary training on.

The shape of the reference suite's trained-compression stress test
(lonelypst `test_notify_trained_compression`): a subscriber process holds one
topic; a notifier process then notifies it COUNT messages of each payload kind
one by one, awaiting each notify:

* empty       — no bytes
* ultra       — 1 KiB of zero bytes
* random      — 1 KiB of random bytes (not compressible)
* json        — a small JSON document (~190 B, partially compressible)

Both clients allow compression and training; the broadcaster's watermarks are
small, so it trains (and retrains, announcing and withdrawing dictionaries)
many times in both directions while the messages flow. The subscriber checks
that every message arrives, in order, intact, and that each client made exactly
one connection (one CONFIRM_CONFIGURE verified): a connection dropped and
re-established by the client shows as a connection too many and as messages
that never arrived.

Usage: python run_interop_stress.py [TB/TS ...] [--count N]

TB/TS as in run_interop.py (default hmac/hmac); COUNT messages of each kind
(default 2,000: about 50 s on a 2-core machine). Prints exactly one line per
combination:

    interop stress TB/TS: PASS
    interop stress TB/TS: FAIL: <reason>

(with the number of messages and the time taken on stderr) and exits 1 if any combination failed. Only 127.0.0.1 is ever contacted.
"""

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from broadcaster import Broadcaster  # noqa: E402
from run_interop import AUTHS  # noqa: E402

KINDS = ("empty", "ultra", "random", "json")
TOPIC = b"interop-stress/topic"
DEFAULT_COUNT = 2000

MESSAGE_TIMEOUT = 20.0
"""Seconds the subscriber waits for the next message (or the notifier for one
notify) before calling the run stuck"""

COMBINATION_TIMEOUT = 480.0
"""A hang, not a slow run: the per-message timeout catches a stall"""

CONFIG = {
    # small watermarks: the first dictionary after ~24 KiB of samples, the
    # second after ~96 KiB, then a retrain every second: announcements and
    # withdrawals keep coming while the messages flow
    "compression": {
        "lowWatermark": 24 * 1024,
        "highWatermark": 96 * 1024,
        "retrainIntervalSeconds": 1,
    },
    # a short outgoing queue: a subscriber that falls behind the notifier by
    # more than 16 messages (it does, on a fast machine) overflows it unless
    # the notifies are paced by it, as they must be
    "limits": {"websocketMaxPendingSends": 16},
}

COLORS = ("red", "green", "blue")
FRUITS = ("apple", "banana", "cherry")
ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"


def payload(kind: str, index: int) -> bytes:
    """Message `index` of `kind`: the same bytes in every process"""
    if kind == "empty":
        return b""
    if kind == "ultra":
        return b"\x00" * 1024
    rng = random.Random(f"{kind}/{index}")
    if kind == "random":
        return rng.randbytes(1024)
    name = "".join(rng.choice(ALPHABET) for _ in range(11))
    return json.dumps(
        {
            "username": name,
            "email": f"{name}@example.com",
            "favorite_color": rng.choice(COLORS),
            "favorite_number": rng.randrange(100),
            "favorite_fruit": rng.choice(FRUITS),
            "updated_at_ms": 1_736_867_963_932 + index,
            "is_admin": rng.random() < 0.5,
        }
    ).encode()


def messages(count: int) -> List[Tuple[str, int]]:
    """(kind, index) of every message, in the order sent"""
    return [(kind, i) for kind in KINDS for i in range(count)]


# --- the two client processes -------------------------------------------------


class CountingAuth:
    """The client's own AuthConfig, counting connections (CONFIRM_CONFIGUREs
    verified) and rejected verifications"""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.connections = 0
        self.rejected: List[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not (name.startswith("is_") and name.endswith("_allowed")):
            return attr

        async def verify(**kwargs: Any) -> Any:
            from lonelypsp.auth.config import AuthResult

            result = await attr(**kwargs)
            if name == "is_stateful_confirm_configure_allowed":
                self.connections += 1
            if result != AuthResult.OK:
                self.rejected.append(f"{name} -> {result.name}")
            return result

        return verify


def _client(url: str, secrets: str) -> Tuple[Any, CountingAuth]:
    from lonelypsc.config.file_config import get_auth_config_from_file
    from lonelypsc.config.ws_config import make_websocket_pub_sub_config
    from lonelypsc.ws_client import WebsocketPubSubClient
    from lonelypsp.auth.config import AuthConfigFromParts

    to_subscriber, to_broadcaster = get_auth_config_from_file(secrets)
    auth = CountingAuth(
        AuthConfigFromParts(to_broadcaster=to_broadcaster, to_subscriber=to_subscriber)
    )
    # as the reference's stress test configures its clients: a dropped
    # connection is re-established (and counted here)
    config = make_websocket_pub_sub_config(
        broadcasters=[{"host": url}],
        outgoing_initial_connect_retries=2,
        outgoing_min_reconnect_interval=1,
        max_websocket_message_size=3584 * 1024,
        websocket_open_timeout=5,
        websocket_close_timeout=5,
        websocket_heartbeat_interval=10,
        websocket_minimal_headers=True,
        max_sent_notifications=None,
        max_unsent_notifications=None,
        max_expected_acks=None,
        max_received=None,
        max_unsent_acks=None,
        allow_compression=True,
        compression_dictionary_by_id=dict(),
        initial_compression_dict_id=None,
        allow_training_compression=True,
        decompression_max_window_size=0,
        auth=auth,
    )
    return WebsocketPubSubClient(config), auth


def _report(result: Dict[str, Any]) -> None:
    print("RESULT " + json.dumps(result), flush=True)


async def _subscriber(url: str, secrets: str, count: int) -> None:
    expected = messages(count)
    client, auth = _client(url, secrets)
    received = 0
    error: Optional[str] = None
    async with client:
        ready = asyncio.Event()

        async def on_receiving() -> None:
            if not ready.is_set():
                ready.set()
                print("READY", flush=True)

        async with client.subscribe_exact(TOPIC, on_receiving=on_receiving) as subscription:
            stream = await subscription.messages()
            pending = asyncio.ensure_future(stream.__anext__())
            try:
                await asyncio.wait_for(ready.wait(), MESSAGE_TIMEOUT)
                for kind, index in expected:
                    try:
                        message = await asyncio.wait_for(pending, MESSAGE_TIMEOUT)
                    except asyncio.TimeoutError:
                        error = (
                            f"stuck: no message within {MESSAGE_TIMEOUT:.0f} s, expected "
                            f"{kind} #{index} ({received} of {len(expected)} received)"
                        )
                        break
                    data = message.data.read(-1)
                    want = payload(kind, index)
                    if data != want:
                        error = f"expected {kind} #{index}, got {_which(data, kind, index)}"
                        break
                    received += 1
                    if received < len(expected):
                        pending = asyncio.ensure_future(stream.__anext__())
            finally:
                if not pending.done():
                    pending.cancel()
                await asyncio.gather(pending, return_exceptions=True)
    _report(
        {
            "received": received,
            "connections": auth.connections,
            "rejected": auth.rejected[:3],
            "error": error,
        }
    )


def _which(data: bytes, kind: str, index: int) -> str:
    """Names a message received out of place (which one it was, if findable)"""
    if kind in ("random", "json"):
        # search ahead: how many messages never arrived
        for ahead in range(index + 1, index + 100_000):
            if payload(kind, ahead) == data:
                return f"{kind} #{ahead} ({ahead - index} messages never arrived)"
    return f"{len(data)} other bytes"


async def _notifier(url: str, secrets: str, count: int) -> None:
    client, auth = _client(url, secrets)
    sent = 0
    error: Optional[str] = None
    async with client:
        for kind, index in messages(count):
            try:
                result = await asyncio.wait_for(
                    client.notify(trace_initializer=None, topic=TOPIC, data=payload(kind, index)),
                    MESSAGE_TIMEOUT,
                )
            except asyncio.TimeoutError:
                error = f"notify of {kind} #{index} not confirmed within {MESSAGE_TIMEOUT:.0f} s"
                break
            if result.notified != 1:
                error = f"notify of {kind} #{index} reached {result.notified} subscribers"
                break
            sent += 1
    _report(
        {
            "sent": sent,
            "connections": auth.connections,
            "rejected": auth.rejected[:3],
            "error": error,
        }
    )


# --- the driver ------------------------------------------------------------------


class Child:
    """One client process; its stdout lines are read as they come"""

    def __init__(self, role: str, url: str, secrets: str, count: int) -> None:
        self.role = role
        self.args = [
            os.path.abspath(__file__), "--role", role, "--url", url,
            "--secrets", secrets, "--count", str(count),
        ]
        self.proc: Optional[asyncio.subprocess.Process] = None
        self.lines: List[str] = []
        self.ready = asyncio.Event()
        self.result: Optional[Dict[str, Any]] = None
        self._reader: Optional["asyncio.Task[None]"] = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, *self.args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while True:
            raw = await self.proc.stdout.readline()
            if not raw:
                break
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line == "READY":
                self.ready.set()
            elif line.startswith("RESULT "):
                self.result = json.loads(line[len("RESULT "):])
            else:
                self.lines.append(line)
                del self.lines[:-200]
        self.ready.set()  # an exited process is as ready as it gets

    async def wait(self) -> Dict[str, Any]:
        assert self.proc is not None and self._reader is not None
        code = await self.proc.wait()
        await self._reader
        if self.result is None:
            tail = " ⏎ ".join(self.lines[-int(os.environ.get("STRESS_TAIL", "8")):])
            raise RuntimeError(f"{self.role} exited with {code} without a result: {tail}")
        return self.result

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


def _verdict(count: int, sub: Dict[str, Any], note: Dict[str, Any]) -> Optional[str]:
    total = count * len(KINDS)
    problems = []
    if sub["error"]:
        problems.append(f"subscriber: {sub['error']}")
    if note["error"]:
        problems.append(f"notifier: {note['error']}")
    for who, result in (("subscriber", sub), ("notifier", note)):
        if result["connections"] != 1:
            problems.append(f"{who} connected {result['connections']} times, expected once")
        if result["rejected"]:
            problems.append(f"{who} rejected {'; '.join(result['rejected'])}")
    if not problems and (sub["received"], note["sent"]) != (total, total):
        problems.append(f"sent {note['sent']}, received {sub['received']} of {total}")
    return "; ".join(problems) if problems else None


async def _combination(tb: str, ts: str, count: int) -> str:
    with tempfile.TemporaryDirectory(prefix=f"lonelypss-interop-stress-{tb}-{ts}-") as workdir:
        b = Broadcaster(workdir, tb, ts, config=CONFIG)
        await b.setup()
        secrets = os.path.join(workdir, "subscriber-secrets.json")
        async with b:
            url = "ws://" + b.url.removeprefix("http://")
            subscriber = Child("subscriber", url, secrets, count)
            notifier = Child("notifier", url, secrets, count)
            started = time.monotonic()
            try:
                await subscriber.start()
                await asyncio.wait_for(subscriber.ready.wait(), 60)
                await notifier.start()
                note = await notifier.wait()
                sub = await subscriber.wait()
            finally:
                await notifier.kill()
                await subscriber.kill()
            elapsed = time.monotonic() - started
            problem = _verdict(count, sub, note)
            if problem is not None:
                tail = b.output_tail()
                raise RuntimeError(problem + (f" | broadcaster output: {tail}" if tail else ""))
            return f"{count * len(KINDS)} messages in {elapsed:.1f} s"


async def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description="websocket + zstd stress of the interop suite")
    parser.add_argument("combinations", nargs="*", metavar="TB/TS")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="messages per kind")
    parser.add_argument("--role", choices=("subscriber", "notifier"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--secrets", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "subscriber":
        await _subscriber(args.url, args.secrets, args.count)
        return 0
    if args.role == "notifier":
        await _notifier(args.url, args.secrets, args.count)
        return 0
    failed = 0
    for arg in args.combinations or ["hmac/hmac"]:
        tb, _, ts = arg.partition("/")
        if tb not in AUTHS or ts not in AUTHS:
            parser.error(f"Unknown combination: {arg} (expected e.g. hmac/hmac)")
        try:
            summary = await asyncio.wait_for(_combination(tb, ts, args.count), COMBINATION_TIMEOUT)
            print(f"interop stress {tb}/{ts}: PASS", flush=True)
            print(f"  {summary}", file=sys.stderr, flush=True)
        except Exception as exc:
            failed += 1
            reason = str(exc) or type(exc).__name__
            if isinstance(exc, asyncio.TimeoutError):
                reason = f"timed out after {COMBINATION_TIMEOUT:.0f} s"
            print(f"interop stress {tb}/{ts}: FAIL: {reason.replace(chr(10), ' ⏎ ')}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
