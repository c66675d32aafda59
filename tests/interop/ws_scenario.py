"""Drives two broadcasters sharing one store with the official websocket client.

Participants (tests/interop/ws_peers.py): `h` (HTTP client: webhook subscriber
and HTTP notifier) and websocket clients `w1`, `w2` on the first broadcaster;
for the relay step also `r` (websocket, first broadcaster), `w3` (websocket,
second broadcaster) and `h2` (HTTP notifier on the second broadcaster).

Steps, in order (each may be skipped by name):

* probe   — raw frames: authorization of CONFIRM_(UN)SUBSCRIBE_*, CONTINUE_NOTIFY,
            CONFIRM_NOTIFY, which the client never checks (ws_probe.py)
* exact   — subscribe/unsubscribe exact topics (any bytes) over the websocket;
            small notify over the websocket received over the same websocket
* glob    — subscribe/unsubscribe globs (UTF-8) over the websocket (skipping it
            also drops the glob-only deliveries of mix and relay)
* webhook — websocket notify → webhook, HTTP notify → websocket
* large   — 20 MiB: websocket notify (NOTIFY_STREAM parts of 3.5 MiB) → a
            websocket and a webhook; HTTP notify → websocket (multi-part
            RECEIVE_STREAM); then a small delivery (the counter after a
            multi-part delivery, decision P1)
* mix     — one webhook and two websocket connections subscribed exact+glob to
            one topic: the notify reports 3, each gets exactly one copy
* missed  — MISSED reaches a websocket, once per matching connection: posted to
            /v1/missed_for_websockets (authorized with the client's own lonelypsp
            code; unauthorized; for a topic nobody holds; for topics matched by
            an exact subscription, the glob, both)
* sweeper — the real path: a failed delivery to a subscription whose recovery
            url is that route makes a sweeper send exactly one MISSED there
* relay   — across the two broadcasters: notify on the second (over HTTP and
            over a websocket) reaches a websocket on the first (exact + glob:
            one copy, count 1); websockets on both; after the websocket closes,
            its relay rows are gone and a notify reports 0. The first's relay
            rows are read with check_subscriptions through the second: url
            <first>/v1/receive_for_websockets, recovery
            <first>/v1/missed_for_websockets, exactly the topics and globs its
            websockets hold

After every step a marker notify proves that no participant got a stray copy
(per connection, deliveries arrive in the order the broadcaster queued them).
At the end every websocket client must have connected exactly once and never
rejected a message.
"""

import asyncio
import hashlib
import os
import socket
import sys
import time
from typing import Any, Iterable, List, Optional, Sequence, Set, Tuple

import aiohttp
from lonelypsp.auth.config import AuthConfigFromParts, AuthResult
from lonelypsp.stateless.constants import BroadcasterToSubscriberStatelessMessageType as B2S
from lonelypsp.stateless.constants import SubscriberToBroadcasterStatelessMessageType as S2B
from lonelypsp.stateless.make_strong_etag import (
    GlobAndRecovery,
    StrongEtag,
    TopicAndRecovery,
    make_strong_etag,
)
from lonelypsc.config.file_config import get_auth_config_from_file

from response_auth import _lp16, _Reader
from scenario import LARGE_SIZE, InteropFailure, _free_loopback_port, describe
from ws_peers import HttpPeer, Peer, WsPeer
from ws_probe import WsProbe, WsProbeFailure

STEPS = ("probe", "exact", "glob", "webhook", "large", "mix", "missed", "sweeper", "relay")

MARKER = b"interop-ws/marker"

COUNT_GRACE = 2.0
"""Seconds to still wait for deliveries once a notify reported a wrong count"""

RELAY_GONE_TIMEOUT = 5.0
"""Seconds a closed connection's relay rows may take to disappear from the store"""


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise InteropFailure(what)


class Target:
    """What the scenario needs of a running broadcaster"""

    url: str
    """http://127.0.0.1:PORT"""

    @property
    def ws_url(self) -> str:
        return "ws://" + self.url.removeprefix("http://")

    @property
    def relay_url(self) -> str:
        return self.url + "/v1/receive_for_websockets"

    @property
    def missed_url(self) -> str:
        return self.url + "/v1/missed_for_websockets"


def target(broadcaster: Any) -> Target:
    t = Target()
    t.url = broadcaster.url
    return t


class WsScenario:
    """All steps against two broadcasters (`b1`, `b2`) that share one store"""

    def __init__(
        self,
        b1: Any,
        b2: Any,
        secrets_path: str,
        workdir: str,
        to_subscriber_auth: str,
        *,
        skip: Sequence[str] = (),
    ) -> None:
        self.b1 = target(b1)
        self.b2 = target(b2)
        self.secrets_path = secrets_path
        self.workdir = workdir
        self.to_subscriber_auth = to_subscriber_auth
        self.skip = set(skip)
        to_subscriber, to_broadcaster = get_auth_config_from_file(secrets_path)
        # signs the raw requests (MISSED, check_subscriptions, dead-url
        # subscriptions) and verifies their answers, as the client would
        self.auth = AuthConfigFromParts(to_broadcaster=to_broadcaster, to_subscriber=to_subscriber)
        self.marker_round = 0
        self.peers: List[Peer] = []
        self.dead: Optional[socket.socket] = None

    def _ws(self, name: str, on: Target) -> WsPeer:
        peer = WsPeer(name, on.ws_url, self.secrets_path)
        peer.home = on
        self.peers.append(peer)
        return peer

    def _http(self, name: str, on: Target) -> HttpPeer:
        peer = HttpPeer(name, _free_loopback_port(), on.url, self.secrets_path)
        self.peers.append(peer)
        return peer

    async def run(self) -> None:
        # the hmac verifiers need their replay store open
        await self.auth.setup_to_subscriber_auth()
        await self.auth.setup_to_broadcaster_auth()
        try:
            await self._run()
            for peer in reversed(self.peers):
                await peer.stop()
        finally:
            await self.auth.teardown_to_broadcaster_auth()
            await self.auth.teardown_to_subscriber_auth()
            for peer in reversed(self.peers):
                try:
                    await peer.stop()
                except Exception:  # already failing: that failure is the one to report
                    pass
            if self.dead is not None:
                self.dead.close()

    async def _run(self) -> None:
        if "probe" not in self.skip:
            try:
                await WsProbe(self.auth, self.b1.ws_url).run()
            except WsProbeFailure as exc:
                raise InteropFailure(f"probe: {exc}") from exc
            except Exception as exc:
                raise InteropFailure(f"probe: {describe(exc)}") from exc
        for step in ("start", *STEPS[1:]):
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
        for peer in self.peers:
            if isinstance(peer, WsPeer):
                peer.check_clean()

    async def _start(self) -> None:
        """h, w1 and w2 up, each subscribed to the marker"""
        self.h = self._http("h", self.b1)
        self.w1 = self._ws("w1", self.b1)
        self.w2 = self._ws("w2", self.b1)
        for peer in (self.h, self.w1, self.w2):
            await peer.start()
        for peer in (self.h, self.w1, self.w2):
            await peer.subscribe_exact(MARKER)
            peer.marker = True
        await self._synced(self.w1, self.w2)

    # helpers ---------------------------------------------------------------

    async def _synced(self, *peers: WsPeer) -> None:
        for peer in peers:
            await peer.synced("(un)subscribing")

    async def _deliver(
        self,
        notifier: Peer,
        topic: bytes,
        data: bytes,
        receivers: Iterable[Peer],
        *,
        path: Optional[str] = None,
    ) -> None:
        """`notifier` notifies `data` (read from `path` if given); each receiver
        gets it once; the notify reports exactly the receivers"""
        receivers = list(receivers)
        what = f"{notifier.name} → {'+'.join(r.name for r in receivers) or 'nobody'} {topic!r}"
        notify = asyncio.ensure_future(
            notifier.notify(topic, None if path is not None else data, path)
        )
        receives = [asyncio.ensure_future(r.collector.next(what)) for r in receivers]
        tasks = [notify, *receives]
        try:
            pending: Set["asyncio.Future[Any]"] = set(tasks)
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if task.exception() is not None:
                        await task  # a refused notify explains a missing delivery
                if notify in done and notify.result() != len(receivers) and pending:
                    # a wrong count explains a missing delivery: do not wait long for it
                    await asyncio.wait(pending, timeout=COUNT_GRACE)
                    missing = [p.name for p, t in zip(receivers, receives) if not t.done()]
                    raise InteropFailure(
                        f"{what}: the notify reports {notify.result()} subscribers, expected "
                        f"{len(receivers)}; nothing reached {', '.join(missing)} within "
                        f"{COUNT_GRACE:.0f} s"
                    )
            count = notify.result()
            for peer, receive in zip(receivers, receives):
                got_topic, got_sha, got = receive.result()
                _check(
                    got_topic == topic,
                    f"{what}: {peer.name} received topic {got_topic!r} ({len(got)} bytes) first",
                )
                _check(got == data, f"{what}: {peer.name} received other bytes ({len(got)})")
                _check(
                    got_sha == hashlib.sha512(data).digest(),
                    f"{what}: {peer.name} reports another SHA-512",
                )
            _check(
                count == len(receivers),
                f"{what}: the notify reports {count} subscribers, expected {len(receivers)}",
            )
        finally:
            for task in tasks:
                if not task.done():
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _nobody(self, notifier: Peer, topic: bytes) -> None:
        await self._deliver(notifier, topic, b"for nobody", [])

    async def _settle(self, when: str) -> None:
        """A marker notify to every participant holding the marker: the first
        thing each receives next must be the marker, else it got a stray copy"""
        self.marker_round += 1
        data = f"marker {self.marker_round}".encode()
        holders = [p for p in self.peers if p.marker and p.entered]
        what = f"marker {when}"
        receives = [asyncio.ensure_future(p.collector.next(what)) for p in holders]
        try:
            count = await self.h.notify(MARKER, data, None)
            for peer, receive in zip(holders, receives):
                got_topic, _, got = await receive
                _check(
                    (got_topic, got) == (MARKER, data),
                    f"{peer.name} received an extra delivery {got_topic!r} ({len(got)} bytes) "
                    f"{when}: a duplicate copy, or a delivery after unsubscribing",
                )
            _check(
                count == len(holders),
                f"{what}: the notify reports {count} subscribers, expected {len(holders)}",
            )
        finally:
            for task in receives:
                if not task.done():
                    task.cancel()
            await asyncio.gather(*receives, return_exceptions=True)

    def _large_file(self) -> Tuple[str, bytes]:
        path = os.path.join(self.workdir, "large-ws.bin")
        block = hashlib.sha512(b"interop-ws").digest() * 16384  # 1 MiB, not all zeroes
        with open(path, "wb") as f:
            for i in range(LARGE_SIZE // len(block)):
                f.write(bytes([255 - i]) + block[1:])
        with open(path, "rb") as f:
            return path, f.read()

    async def _post(
        self, url: str, body: bytes, authorization: Optional[str]
    ) -> Tuple[int, bytes]:
        headers = {"Content-Type": "application/octet-stream"}
        if authorization is not None:
            headers["Authorization"] = authorization
        async with aiohttp.ClientSession() as session:
            async with session.post(url, data=body, headers=headers) as r:
                return r.status, await r.read()

    # steps -----------------------------------------------------------------

    async def _exact(self) -> None:
        w1 = self.w1
        topics = [b"ws/one", b"ws/\xff\x00bytes", b""]  # topics are bytes: any, even empty
        for topic in topics:
            await w1.subscribe_exact(topic)
        await self._synced(w1)
        await self._deliver(w1, topics[0], b"hello", [w1])
        await self._deliver(w1, topics[1], bytes(range(256)), [w1])
        await self._deliver(w1, topics[2], b"", [w1])
        await self._nobody(w1, b"ws/other")
        for topic in topics:
            await w1.unsubscribe_exact(topic)
        await self._synced(w1)
        await self._nobody(w1, topics[0])

    async def _glob(self) -> None:
        w1, w2 = self.w1, self.w2
        globs = ["ws/many/*", "ws/\u00fc\u4e16/?"]  # globs are UTF-8 text
        for glob in globs:
            await w1.subscribe_glob(glob)
        await self._synced(w1)
        await self._deliver(w2, b"ws/many/x", b"glob *", [w1])
        await self._deliver(w2, "ws/\u00fc\u4e16/x".encode(), b"glob ?", [w1])
        await self._nobody(w2, b"ws/many")
        await self._nobody(w2, b"ws/\xff/x")  # not UTF-8: matches no glob
        for glob in globs:
            await w1.unsubscribe_glob(glob)
        await self._synced(w1)
        await self._nobody(w2, b"ws/many/x")

    async def _webhook(self) -> None:
        h, w1, w2 = self.h, self.w1, self.w2
        await h.subscribe_exact(b"hook/in")
        await self._deliver(w1, b"hook/in", b"websocket to webhook", [h])
        await h.unsubscribe_exact(b"hook/in")
        await w2.subscribe_exact(b"hook/out")
        await self._synced(w2)
        await self._deliver(h, b"hook/out", b"webhook to websocket", [w2])
        await w2.unsubscribe_exact(b"hook/out")
        await self._synced(w2)

    async def _large(self) -> None:
        h, w1, w2 = self.h, self.w1, self.w2
        path, data = self._large_file()
        topic = b"large/t"
        await w2.subscribe_exact(topic)
        await h.subscribe_exact(topic)
        await self._synced(w2)
        await self._deliver(w1, topic, data, [w2, h], path=path)
        await h.unsubscribe_exact(topic)
        await self._deliver(h, topic, data, [w2], path=path)
        # a multi-part delivery consumed one broadcaster-counter value: the next
        # counter-bound message must verify (with hmac/token to-subscriber auth)
        await self._deliver(h, topic, b"after large", [w2])
        await w2.unsubscribe_exact(topic)
        await self._synced(w2)

    async def _mix(self) -> None:
        h, w1, w2 = self.h, self.w1, self.w2
        topic = b"mix/t"
        await h.subscribe_exact(topic)
        await w1.subscribe_exact(topic)
        await w1.subscribe_glob("mix/*")
        await w2.subscribe_exact(topic)
        await w2.subscribe_glob("mix/?")
        await self._synced(w1, w2)
        # one copy per connection however many of its subscriptions match
        await self._deliver(h, topic, b"mix over http", [h, w1, w2])
        await self._deliver(w1, topic, b"mix over a websocket", [h, w1, w2])
        if "glob" not in self.skip:
            await self._deliver(w2, b"mix/u", b"mix, globs only", [w1, w2])
        await h.unsubscribe_exact(topic)
        await w1.unsubscribe_exact(topic)
        await w1.unsubscribe_glob("mix/*")
        await w2.unsubscribe_exact(topic)
        await w2.unsubscribe_glob("mix/?")
        await self._synced(w1, w2)
        await self._nobody(h, topic)

    async def _post_missed(
        self, to: Target, topic: bytes, *, authorized: bool = True
    ) -> Tuple[int, bytes]:
        authorization = None
        if authorized:
            authorization = await self.auth.authorize_missed(
                tracing=b"", recovery=to.missed_url, topic=topic, now=time.time()
            )
        return await self._post(to.missed_url, _lp16(b"") + _lp16(topic), authorization)

    async def _missed_confirmed(self, to: Target, topic: bytes) -> None:
        """POSTs an authorized MISSED; the answer must be a CONFIRM_MISSED the
        sender's auth code accepts"""
        status, body = await self._post_missed(to, topic)
        what = f"MISSED {topic!r} to {to.missed_url}"
        _check(status == 200, f"{what}: status {status}, body {body[:200]!r}")
        r = _Reader(body, what)
        kind = r.u(2)
        _check(
            kind == int(S2B.RESPONSE_CONFIRM_MISSED),
            f"{what}: response type {kind}, expected RESPONSE_CONFIRM_MISSED",
        )
        authorization = r.lp16().decode("utf-8") or None
        tracing = r.lp16()
        result = await self.auth.is_confirm_missed_allowed(
            tracing=tracing, topic=topic, url=to.missed_url, now=time.time(),
            authorization=authorization,
        )
        _check(
            result == AuthResult.OK,
            f"{what}: the sender's auth code rejects the CONFIRM_MISSED: {result.name} "
            f"(authorization {authorization!r})",
        )

    async def _missed(self) -> None:
        w1 = self.w1
        exact, glob, globbed = b"missed/exact", "missed/glob/*", b"missed/glob/x"
        both = b"missed/glob/both"  # matched by an exact subscription and the glob
        await w1.subscribe_exact(exact)
        await w1.subscribe_exact(both)
        await w1.subscribe_glob(glob)
        await self._synced(w1)
        # what the route must refuse or ignore
        if self.to_subscriber_auth != "none":
            status, body = await self._post_missed(self.b1, exact, authorized=False)
            _check(
                status in (401, 403),
                f"MISSED without authorization: status {status}, expected 401 or 403",
            )
        await self._missed_confirmed(self.b1, b"missed/nobody")
        # then MISSED for each subscription: one each, the next thing w1 verifies
        for topic in (exact, globbed, both):
            mark = w1.missed_mark()
            await self._missed_confirmed(self.b1, topic)
            await w1.wait_missed(mark, topic, f"MISSED {topic!r} posted to the relay")
        await w1.unsubscribe_exact(exact)
        await w1.unsubscribe_exact(both)
        await w1.unsubscribe_glob(glob)
        await self._synced(w1)

    async def _sweeper(self) -> None:
        """The real path: a subscription whose receive url refuses connections and
        whose recovery url is the relay's missed url; the failed RECEIVE makes a
        sweeper (either broadcaster's: they share the store) post MISSED there,
        once"""
        h, w1 = self.h, self.w1
        topic = b"missed/sweeper"
        await w1.subscribe_exact(topic)
        await self._synced(w1)
        self.dead = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.dead.bind(("127.0.0.1", 0))  # bound, never listening: refused
        dead_url = f"http://127.0.0.1:{self.dead.getsockname()[1]}/v1/receive"
        await self._http_subscription(dead_url, topic, self.b1.missed_url)
        mark = w1.missed_mark()
        await self._deliver(h, topic, b"one subscriber of two is dead", [w1])
        await w1.wait_missed(mark, topic, "MISSED from the sweeper after a failed RECEIVE")
        await self._http_subscription(dead_url, topic, None)
        await w1.unsubscribe_exact(topic)
        await self._synced(w1)

    async def _http_subscription(self, url: str, topic: bytes, recovery: Optional[str]) -> None:
        """HTTP subscribe (with `recovery`) or unsubscribe (None) of `url` to `topic`"""
        auth = await self.auth.authorize_subscribe_exact(
            tracing=b"", url=url, recovery=recovery, exact=topic, now=time.time()
        )
        body = _lp16(url.encode()) + _lp16(topic)
        if recovery is not None:
            path, body = "/v1/subscribe/exact", body + _lp16(recovery.encode())
        else:
            path = "/v1/unsubscribe/exact"
        body += _lp16(b"")  # tracing
        status, answer = await self._post(self.b1.url + path, body, auth)
        _check(status == 200, f"{path} for {url}: status {status}, body {answer[:200]!r}")

    async def _relay_rows(
        self, via: Target, of: Target, exact: Iterable[bytes], globs: Iterable[str], what: str,
        wait: float = 0.0,
    ) -> None:
        """`of`'s relay subscriptions, as seen through `via`'s check_subscriptions:
        its relay url subscribed to exactly `exact` and `globs`, recovery its missed url"""
        want = make_strong_etag(
            of.relay_url,
            [TopicAndRecovery(t, of.missed_url) for t in sorted(set(exact))],
            [GlobAndRecovery(g, of.missed_url) for g in sorted(set(globs))],
            recheck_sort=False,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            got = await self._check_subscriptions(via, of.relay_url)
            if got.format == want.format and got.etag == want.etag:
                return
            if loop.time() >= deadline:
                raise InteropFailure(
                    f"{what}: the store's subscriptions of {of.relay_url} (etag "
                    f"{got.etag.hex()[:16]}…) are not exact={sorted(set(exact))} "
                    f"globs={sorted(set(globs))} with recovery {of.missed_url}"
                )
            await asyncio.sleep(0.05)

    async def _check_subscriptions(self, via: Target, url: str) -> StrongEtag:
        auth = await self.auth.authorize_check_subscriptions(tracing=b"", url=url, now=time.time())
        path = via.url + "/v1/check_subscriptions"
        status, body = await self._post(path, _lp16(b"") + _lp16(url.encode()), auth)
        _check(status == 200, f"check_subscriptions of {url}: status {status}, body {body[:200]!r}")
        r = _Reader(body, "check_subscriptions")
        kind = r.u(2)
        _check(kind == int(B2S.RESPONSE_CHECK_SUBSCRIPTIONS), f"check_subscriptions: type {kind}")
        r.lp16()
        r.lp16()
        return StrongEtag(format=r.u(1), etag=r.take(64))

    def _b1_ws_subscriptions(self) -> Tuple[List[bytes], List[str]]:
        exact: List[bytes] = []
        globs: List[str] = []
        for peer in self.peers:
            if isinstance(peer, WsPeer) and peer.entered and peer.home is self.b1:
                exact += peer.exact
                globs += peer.globs
        return exact, globs

    async def _relay(self) -> None:
        h = self.h
        r = self._ws("r", self.b1)
        w3 = self._ws("w3", self.b2)
        h2 = self._http("h2", self.b2)
        for peer in (r, w3, h2):
            await peer.start()
        topic, glob = b"relay/t", "relay/*"
        await r.subscribe_exact(topic)
        await r.subscribe_glob(glob)
        await self._synced(r)
        exact, globs = self._b1_ws_subscriptions()
        await self._relay_rows(self.b2, self.b1, exact, globs, "after subscribing")
        # notified on the second broadcaster, delivered on the first; exact and
        # glob both match, still one copy and a count of 1
        await self._deliver(h2, topic, b"relayed from http", [r])
        await self._deliver(w3, topic, b"relayed from a websocket", [r])
        if "glob" not in self.skip:
            await self._deliver(w3, b"relay/x", b"relayed by the glob", [r])
        # websockets on both broadcasters
        await w3.subscribe_exact(topic)
        await self._synced(w3)
        await self._deliver(h, topic, b"to both broadcasters", [r, w3])
        await self._deliver(w3, topic, b"to both, from the second", [r, w3])
        await w3.unsubscribe_exact(topic)
        await self._synced(w3)
        # a closed connection takes its relay rows with it
        await r.stop()
        r.check_clean()
        exact, globs = self._b1_ws_subscriptions()
        await self._relay_rows(
            self.b2, self.b1, exact, globs, f"{RELAY_GONE_TIMEOUT:.0f} s after r closed",
            wait=RELAY_GONE_TIMEOUT,
        )
        await self._nobody(h2, topic)
        await self._nobody(w3, b"relay/x")
