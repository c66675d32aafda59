"""zstd on the websocket (docs/protocol/zstd.md) between the official
client (lonelypsc 0.0.17 with `zstandard`) and our broadcaster; run by
`run_interop_ws.py --compression on`.

One broadcaster, whose lonelypss.json `compression` section (ZSTD_CONFIG)
configures preset id 2 (the 2,048-byte dictionary of
tests/vectors/compression.json, written next to it) and training watermarks
small enough to train three dictionaries in a few seconds. Participants: `h`
(HTTP: webhook subscriber and notifier) and three websocket clients with
compression on, each configured so that what goes on the wire is predictable:

* `z` — no preset, no training: id 1 only (zstd without a dictionary, for
  messages of 16 KiB and more)
* `p` — preset 2 on its side too, asked for in CONFIGURE (x-initial-dict);
  no training
* `t` — training allowed; no preset

Steps (each may be skipped by name):

* announce — each client receives exactly the ENABLE_ZSTD_PRESET it may have:
             id 1 (level 3, min 16 384, no max) for all, then id 2 (the
             preset's level, min 32) for `p`
* id1      — `z` notifies 100–200 B (plain NOTIFY), 20 KiB (NOTIFY with id 1),
             9 MiB (NOTIFY_STREAM with id 1, ≥ 2 parts) and 20 MiB
             (NOTIFY_STREAM with id 1, ≥ 3 parts) of compressible bytes to a
             topic `h`, `z` and `p` hold: each gets it intact, the count is 3;
             `z` receives id 1 from 16 KiB on (the 9 MiB as several compressed
             RECEIVE_STREAM parts), `p` id 2 from 32 B on; above the spool
             threshold (the 20 MiB) deliveries go uncompressed
* preset   — `p` notifies 31 B (plain), 32 B, ~600 B and 64 KiB (id 2); `h`
             notifies ~600 B over HTTP: `p` receives id 2 from 32 B on, `z`
             (subscribed too) nothing compressed below 16 KiB and id 1 above
* training — 1. `t` notifies small JSON (100–1 000 B) to a topic only the
             webhook holds: its NOTIFYs alone (the incoming direction) reach the
             low watermark → ENABLE_ZSTD_CUSTOM 65 536 (level 3, [32, 16 384));
             `t`'s next NOTIFYs use it and reach `h` intact. 2. `h` notifies
             small JSON over HTTP to a topic `t` holds: the deliveries (the
             outgoing direction) use 65 536 and reach the high watermark →
             65 537 (level 10). 3. after the retrain interval `t` notifies to
             its own topic (both directions) → 65 538, and 65 536 is withdrawn
             with DISABLE_ZSTD_CUSTOM; then `t` compresses with 65 537 (its
             oldest custom), the broadcaster with 65 538, 20 KiB with id 1 both
             ways

ws_wiretap records every client's frames. At the end, for each client: every
delivery used the compressor that docs/protocol/zstd.md#choosing-a-compressor
prescribes (the most recently announced one
whose range contains the length; none above the spool threshold); every
compressed NOTIFY used an id announced to it; every ENABLE_ZSTD_PRESET,
ENABLE_ZSTD_CUSTOM and DISABLE_ZSTD_CUSTOM on the wire was verified OK by the
client's own lonelypsp auth code (RecordingAuth: one verification per frame, same
ids, in order); one connection each and nothing rejected (so no reconnect).
"""

import asyncio
import base64
import json
import os
import random
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from lonelypsp.auth.config import AuthResult

import ws_wiretap
from scenario import InteropFailure, describe
from ws_peers import Peer, WsPeer, ZstdOptions
from ws_scenario import MARKER, WsScenario, _check
from ws_wiretap import Frame

ZSTD_STEPS = ("announce", "id1", "preset", "training")

MIN_SIZE = 32
"""compression.minSize (the default): presets and trained dictionaries from here"""
TRAINED_MAX = 16_384
"""compression.trainedMaxSize (the default): id 1 from here, trained ones below"""
LOW_WATERMARK = 24 * 1024
HIGH_WATERMARK = 48 * 1024
RETRAIN_SECONDS = 1
SPOOL_THRESHOLD = 10 * 1024 * 1024
"""limits.spoolThresholdBytes: larger messages are spooled and delivered uncompressed"""
FIRST_CUSTOM = 65_536

PRESET_ID = 2
PRESET_FILE = "preset-2.dict"
VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors")

ANNOUNCE_TIMEOUT = 15.0
"""Seconds for a trained dictionary to be announced (and verified) once its
watermark is reached, or for a compressor to become ready in the client"""

ENABLES = ("ENABLE_ZSTD_PRESET", "ENABLE_ZSTD_CUSTOM")
VERIFIERS = {
    "ENABLE_ZSTD_PRESET": "is_stateful_enable_zstd_preset_allowed",
    "ENABLE_ZSTD_CUSTOM": "is_stateful_enable_zstd_custom_allowed",
    "DISABLE_ZSTD_CUSTOM": "is_stateful_disable_zstd_custom_allowed",
}


def preset() -> Tuple[bytes, int]:
    """The preset dictionary of tests/vectors/compression.json and its level"""
    with open(os.path.join(VECTORS, "compression.json")) as f:
        vector = json.load(f)["preset_dictionary_session"]
    return base64.b64decode(vector["dictionary_b64"]), int(vector["level"])


def zstd_config() -> Dict[str, Any]:
    """What the broadcaster's lonelypss.json gets (Broadcaster(config=…))"""
    return {
        "compression": {
            "presets": [{"id": PRESET_ID, "dictionary": PRESET_FILE, "level": preset()[1]}],
            "lowWatermark": LOW_WATERMARK,
            "highWatermark": HIGH_WATERMARK,
            "retrainIntervalSeconds": RETRAIN_SECONDS,
        },
        "limits": {"spoolThresholdBytes": SPOOL_THRESHOLD},
    }


def write_preset(workdir: str) -> None:
    """The dictionary file the config names (relative to lonelypss.json)"""
    with open(os.path.join(workdir, PRESET_FILE), "wb") as f:
        f.write(preset()[0])


def compressible(size: int, seed: int) -> bytes:
    """`size` bytes of random lowercase hex: zstd makes about half of it"""
    return random.Random(seed).randbytes(size // 2).hex().encode()[:size]


STATUSES = ("new", "paid", "packed", "shipped")


def json_sample(i: int) -> bytes:
    """A small JSON document (about 120–700 bytes), all alike: what trains well"""
    items = [
        {
            "sku": f"sku-{(i * 7 + j) % 97:03d}",
            "qty": (i + j) % 5 + 1,
            "price": f"{((i * 13 + j * 7) % 5000) / 100:.2f}",
        }
        for j in range(1 + i % 12)
    ]
    doc = {
        "kind": "order",
        "id": i,
        "customer": f"customer-{i % 37}",
        "status": STATUSES[i % 4],
        "items": items,
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def _ids(frames: Sequence[Frame]) -> str:
    return ", ".join(f"{f.kind.removeprefix('ENABLE_ZSTD_')} {f.identifier}" for f in frames)


class ZstdScenario(WsScenario):
    """The steps above against one broadcaster `b` (set up with zstd_config())"""

    def __init__(
        self, b: Any, secrets_path: str, workdir: str, to_subscriber_auth: str, *,
        skip: Sequence[str] = (),
    ) -> None:
        super().__init__(b, b, secrets_path, workdir, to_subscriber_auth, skip=skip)
        ws_wiretap.install()
        self.preset_bytes, self.preset_level = preset()
        self.sample_index = 0

    def _zws(self, name: str, zstd: ZstdOptions) -> WsPeer:
        peer = WsPeer(name, self.b1.ws_url, self.secrets_path, zstd=zstd)
        peer.home = self.b1
        self.peers.append(peer)
        return peer

    def _ws_peers(self) -> List[WsPeer]:
        return [p for p in self.peers if isinstance(p, WsPeer)]

    async def _run(self) -> None:
        for step in ("start", *ZSTD_STEPS):
            if step in self.skip:
                continue
            started = time.monotonic()
            try:
                await getattr(self, "_" + step)()
                await self._settle(f"after {step}")
                if os.environ.get("LONELYPSS_INTEROP_WS_TIMING"):
                    print(f"  {step}: {time.monotonic() - started:.2f} s", file=sys.stderr)
            except InteropFailure as exc:
                raise InteropFailure(f"{step}: {exc}") from exc
            except Exception as exc:
                raise InteropFailure(f"{step}: {describe(exc)}") from exc
        try:
            for peer in self._ws_peers():
                peer.check_clean()
                self._check_wire(peer)
                self._check_verified(peer)
        except InteropFailure as exc:
            raise InteropFailure(f"end: {exc}") from exc

    async def _start(self) -> None:
        """h, z, p and t up, each subscribed to the marker"""
        window = 8 * 1024 * 1024  # our decoder's limit: our frames must fit it too
        self.h = self._http("h", self.b1)
        self.z = self._zws("z", ZstdOptions(max_window_size=window))
        self.p = self._zws(
            "p",
            ZstdOptions(
                presets={PRESET_ID: (self.preset_bytes, self.preset_level)},
                initial_dict=PRESET_ID,
                max_window_size=window,
            ),
        )
        self.t = self._zws("t", ZstdOptions(training=True, max_window_size=window))
        for peer in (self.h, self.z, self.p, self.t):
            await peer.start()
        for peer in (self.h, self.z, self.p, self.t):
            await peer.subscribe_exact(MARKER)
            peer.marker = True
        await self._synced(self.z, self.p, self.t)

    # helpers ---------------------------------------------------------------

    def _sample(self) -> bytes:
        self.sample_index += 1
        return json_sample(self.sample_index)

    async def _zdeliver(
        self,
        notifier: Peer,
        topic: bytes,
        data: bytes,
        receivers: Sequence[Peer],
        *,
        sent: Union[None, int, Tuple[int, ...]] = None,
        sent_parts: int = 1,
        got: Optional[Dict[WsPeer, int]] = None,
        got_parts: int = 1,
    ) -> None:
        """`_deliver`, then the wire: the notifier (a websocket) sent it with
        compressor `sent` (0 = none; a tuple: any of them) in at least
        `sent_parts` frames; each peer in `got` received it with the compressor
        given there, in at least `got_parts` frames"""
        got = got or {}
        watched = [p for p in (notifier, *receivers) if isinstance(p, WsPeer)]
        marks = {p.name: len(p.frames()) for p in watched}
        await self._deliver(notifier, topic, data, receivers)
        names = "+".join(r.name for r in receivers)
        what = f"{notifier.name} → {names} {topic!r} ({len(data)} B)"
        if sent is not None:
            assert isinstance(notifier, WsPeer)
            allowed = (sent,) if isinstance(sent, int) else sent
            frames = notifier.frames()[marks[notifier.name]:]
            first = self._one(
                [f for f in frames if f.sent and f.kind in ("NOTIFY", "NOTIFY_STREAM")
                 and f.part is None and f.topic == topic],
                f"{what}: {notifier.name} sent",
            )
            _check(
                first.compressor in allowed and first.length == len(data),
                f"{what}: {notifier.name} sent a {first.kind} with compressor {first.compressor} "
                f"for {first.length} B, expected compressor {' or '.join(map(str, allowed))}",
            )
            parts = sum(
                1 for f in frames
                if f.sent and f.kind == first.kind and f.identifier == first.identifier
            )
            _check(
                parts >= sent_parts,
                f"{what}: {notifier.name} sent it in {parts} {first.kind} frame(s), expected at "
                f"least {sent_parts}",
            )
        for peer, want in got.items():
            frames = peer.frames()[marks[peer.name]:]
            first = self._one(
                [f for f in frames if not f.sent and f.kind == "RECEIVE_STREAM"
                 and f.part is None and f.topic == topic],
                f"{what}: {peer.name} received",
            )
            _check(
                first.compressor == want and first.length == len(data),
                f"{what}: {peer.name} received compressor {first.compressor} for {first.length} "
                f"B, expected compressor {want} (announced: "
                f"{_ids([f for f in peer.frames() if f.kind in ENABLES])})",
            )
            parts = sum(
                1 for f in frames if f.kind == "RECEIVE_STREAM" and f.identifier == first.identifier
            )
            _check(
                parts >= got_parts,
                f"{what}: {peer.name} received it in {parts} RECEIVE_STREAM part(s), expected at "
                f"least {got_parts}",
            )

    @staticmethod
    def _one(frames: List[Frame], what: str) -> Frame:
        _check(len(frames) == 1, f"{what} {len(frames)} first frames for it, expected 1")
        return frames[0]

    async def _wait(self, peer: WsPeer, done: Any, what: str) -> Any:
        """Polls `done()` until it returns something other than None"""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANNOUNCE_TIMEOUT
        while True:
            result = done()
            if result is not None:
                return result
            if peer.status.abandoned.is_set():
                raise InteropFailure(f"{peer.name} {what}: connection lost{peer.diagnosis()}")
            if loop.time() > deadline:
                raise InteropFailure(
                    f"{peer.name}: {what}: not within {ANNOUNCE_TIMEOUT:.0f} s (frames received: "
                    f"{_ids([f for f in peer.frames() if f.kind in ENABLES])}){peer.diagnosis()}"
                )
            await asyncio.sleep(0.01)

    async def _custom(self, peer: WsPeer, n: int, what: str) -> Frame:
        """The `n`th ENABLE_ZSTD_CUSTOM, once the client has verified it"""
        def done() -> Optional[Frame]:
            if peer.auth.count(VERIFIERS["ENABLE_ZSTD_CUSTOM"]) < n:
                return None
            return [f for f in peer.frames() if f.kind == "ENABLE_ZSTD_CUSTOM"][n - 1]

        frame: Frame = await self._wait(peer, done, f"ENABLE_ZSTD_CUSTOM #{n} ({what})")
        return frame

    async def _ready(self, peer: WsPeer, ids: Sequence[int]) -> None:
        """Until the client may compress with `ids`, in this order of preference"""
        await self._wait(
            peer,
            lambda: True if peer.compressors_ready()[: len(ids)] == list(ids) else None,
            f"compressors {list(ids)} ready in the client (now {peer.compressors_ready()})",
        )

    # steps -----------------------------------------------------------------

    async def _announce(self) -> None:
        id1 = ("ENABLE_ZSTD_PRESET", 1, 3, TRAINED_MAX, None)
        preset2 = ("ENABLE_ZSTD_PRESET", PRESET_ID, self.preset_level, MIN_SIZE, None)
        for peer, want in ((self.z, [id1]), (self.p, [id1, preset2]), (self.t, [id1])):
            _check(peer.websocket is not None, f"{peer.name}: no websocket found to read frames of")
            frames = peer.frames()
            _check(
                bool(frames) and frames[0].kind == "CONFIGURE"
                and frames[1:2] and frames[1].kind == "CONFIRM_CONFIGURE",
                f"{peer.name}: the connection did not start with CONFIGURE, CONFIRM_CONFIGURE "
                f"({[f.kind for f in frames[:2]]})",
            )
            got = [
                (f.kind, f.identifier, f.level, f.length, f.max_size)
                for f in frames
                if f.kind in ENABLES or f.kind == "DISABLE_ZSTD_CUSTOM"
            ]
            _check(got == want, f"{peer.name}: announced {got}, expected {want}")
        await self._ready(self.z, [1])
        await self._ready(self.p, [PRESET_ID, 1])
        await self._ready(self.t, [1])

    async def _id1(self) -> None:
        h, z, p = self.h, self.z, self.p
        topic = b"zstd/one"
        for peer in (h, z, p):
            await peer.subscribe_exact(topic)
        await self._synced(z, p)
        every = [h, z, p]
        await self._zdeliver(z, topic, json_sample(1), every, sent=0, got={z: 0, p: PRESET_ID})
        await self._zdeliver(
            z, topic, compressible(20 * 1024, 1), every, sent=1, got={z: 1, p: PRESET_ID}
        )
        # in memory (below the spool threshold): compressed deliveries of 2+ parts
        await self._zdeliver(
            z, topic, compressible(9 * 1024 * 1024, 2), every,
            sent=1, sent_parts=2, got={z: 1, p: PRESET_ID}, got_parts=2,
        )
        # spooled while it is decompressed; delivered as it is
        await self._zdeliver(
            z, topic, compressible(20 * 1024 * 1024, 3), every,
            sent=1, sent_parts=3, got={z: 0, p: 0}, got_parts=6,
        )
        for peer in (h, z, p):
            await peer.unsubscribe_exact(topic)
        await self._synced(z, p)

    async def _preset(self) -> None:
        h, z, p = self.h, self.z, self.p
        topic = b"zstd/preset"
        for peer in (z, p):
            await peer.subscribe_exact(topic)
        await self._synced(z, p)
        both = [z, p]
        await self._zdeliver(p, topic, b"x" * (MIN_SIZE - 1), both, sent=0, got={z: 0, p: 0})
        await self._zdeliver(p, topic, b"y" * MIN_SIZE, both, sent=PRESET_ID,
                             got={z: 0, p: PRESET_ID})
        await self._zdeliver(p, topic, json_sample(11), both, sent=PRESET_ID,
                             got={z: 0, p: PRESET_ID})
        await self._zdeliver(p, topic, compressible(64 * 1024, 4), both, sent=PRESET_ID,
                             got={z: 1, p: PRESET_ID})
        await self._zdeliver(h, topic, json_sample(23), both, got={z: 0, p: PRESET_ID})
        for peer in (z, p):
            await peer.unsubscribe_exact(topic)
        await self._synced(z, p)

    async def _training(self) -> None:
        h, t = self.h, self.t
        hook, own = b"zstd/train/hook", b"zstd/train/own"
        # 1. the incoming direction alone: t's NOTIFYs to the webhook
        await h.subscribe_exact(hook)
        sampled = 0
        while sampled < LOW_WATERMARK:
            data = self._sample()
            await self._zdeliver(t, hook, data, [h], sent=0)
            sampled += len(data)
        first = await self._custom(t, 1, f"after {sampled} B of NOTIFY samples")
        self._check_custom(first, FIRST_CUSTOM, 3)
        await self._ready(t, [FIRST_CUSTOM])
        for _ in range(3):
            data = self._sample()
            await self._zdeliver(t, hook, data, [h], sent=FIRST_CUSTOM)
            sampled += len(data)
        await h.unsubscribe_exact(hook)
        # 2. the outgoing direction alone: HTTP notifies delivered to t
        await t.subscribe_exact(own)
        await self._synced(t)
        while sampled < HIGH_WATERMARK:
            data = self._sample()
            await self._zdeliver(h, own, data, [t], got={t: FIRST_CUSTOM})
            sampled += len(data)
        second = await self._custom(t, 2, f"after {sampled} B of samples in all")
        second_at = time.monotonic()
        self._check_custom(second, FIRST_CUSTOM + 1, 10)
        await self._zdeliver(h, own, self._sample(), [t], got={t: FIRST_CUSTOM + 1})
        # 3. both directions (t to itself), after the retrain interval: a third
        # dictionary, and the oldest is withdrawn
        await asyncio.sleep(max(0.0, RETRAIN_SECONDS + 0.1 - (time.monotonic() - second_at)))
        fresh = 0
        while fresh < LOW_WATERMARK:
            data = self._sample()
            # t keeps compressing with its oldest custom dictionary (65 536)
            # until it has processed the withdrawal
            await self._zdeliver(t, own, data, [t], sent=(FIRST_CUSTOM, FIRST_CUSTOM + 1))
            fresh += 2 * len(data)
        third = await self._custom(t, 3, f"after {fresh} B of fresh samples")
        self._check_custom(third, FIRST_CUSTOM + 2, 10)

        def withdrawn() -> Optional[bool]:
            if t.auth.count(VERIFIERS["DISABLE_ZSTD_CUSTOM"]) < 1:
                return None
            return True

        await self._wait(t, withdrawn, f"DISABLE_ZSTD_CUSTOM {FIRST_CUSTOM}")
        disables = [f.identifier for f in t.frames() if f.kind == "DISABLE_ZSTD_CUSTOM"]
        _check(
            disables == [FIRST_CUSTOM],
            f"t: DISABLE_ZSTD_CUSTOM for {disables}, expected [{FIRST_CUSTOM}]",
        )
        # what is left: t compresses with its oldest remaining dictionary, the
        # broadcaster with its newest; 16 KiB and more with id 1 both ways
        await self._ready(t, [FIRST_CUSTOM + 1, FIRST_CUSTOM + 2, 1])
        for _ in range(3):
            await self._zdeliver(
                t, own, self._sample(), [t], sent=FIRST_CUSTOM + 1, got={t: FIRST_CUSTOM + 2}
            )
        await self._zdeliver(t, own, compressible(20 * 1024, 5), [t], sent=1, got={t: 1})
        await t.unsubscribe_exact(own)
        await self._synced(t)

    @staticmethod
    def _check_custom(frame: Frame, identifier: int, level: int) -> None:
        want = (identifier, level, MIN_SIZE, TRAINED_MAX)
        got = (frame.identifier, frame.level, frame.length, frame.max_size)
        _check(
            got == want,
            f"ENABLE_ZSTD_CUSTOM (id, level, min, max) {got}, expected {want}",
        )

    # end checks -------------------------------------------------------------

    def _check_wire(self, peer: WsPeer) -> None:
        """docs/protocol/zstd.md#choosing-a-compressor over the whole connection:
        the broadcaster compresses each
        delivery with the most recently announced compressor whose range
        contains its length (none above the spool threshold); the client only
        with ids announced to it"""
        active: List[Frame] = []
        announced: List[int] = []
        for f in peer.frames():
            where = f"{peer.name}, frame {f.kind} (#{f.seq})"
            _check(f.kind != "UNPARSABLE", f"{where}: lonelypsp cannot parse it: {f.error}")
            if not f.sent and f.kind in ENABLES:
                active.append(f)
                announced.append(f.identifier)
            elif not f.sent and f.kind == "DISABLE_ZSTD_CUSTOM":
                gone = [a for a in active if a.identifier == f.identifier]
                _check(bool(gone), f"{where}: withdraws {f.identifier}, which is not in use")
                active.remove(gone[0])
            elif not f.sent and f.kind == "RECEIVE_STREAM" and f.part is None:
                assert f.length is not None
                want = 0
                if f.length <= SPOOL_THRESHOLD:
                    for a in reversed(active):
                        assert a.length is not None
                        if a.length <= f.length and (a.max_size is None or f.length < a.max_size):
                            want = a.identifier
                            break
                _check(
                    f.compressor == want,
                    f"{where}: a {f.length}-byte delivery on {f.topic!r} used compressor "
                    f"{f.compressor}, expected {want} (in use: {_ids(active)})",
                )
            elif f.sent and f.kind in ("NOTIFY", "NOTIFY_STREAM") and f.part is None:
                _check(
                    f.compressor == 0 or f.compressor in announced,
                    f"{where}: the client compressed with {f.compressor}, never announced",
                )

    def _check_verified(self, peer: WsPeer) -> None:
        """Each ENABLE_ZSTD_PRESET / ENABLE_ZSTD_CUSTOM / DISABLE_ZSTD_CUSTOM
        on the wire was verified, OK, by the client's own auth code"""
        frames = peer.frames()
        for kind, verifier in VERIFIERS.items():
            on_wire = [f.identifier for f in frames if not f.sent and f.kind == kind]
            checks = [(r, kw) for name, r, kw in peer.auth.checks if name == verifier]
            verified = [kw["message"].identifier for _, kw in checks]
            _check(
                verified == on_wire,
                f"{peer.name}: {kind} for ids {on_wire} on the wire, the client verified "
                f"{verified}",
            )
            bad = [(kw["message"].identifier, r.name) for r, kw in checks if r != AuthResult.OK]
            _check(not bad, f"{peer.name}: the client's auth code rejected {kind} {bad}")
