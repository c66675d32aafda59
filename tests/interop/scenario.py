"""Drives a running broadcaster with the official client's HTTP side (lonelypsc).

Covers: subscribe/unsubscribe exact and glob (one request each), the bulk
set_subscriptions flow the client's context managers use, check_subscriptions
(the broadcaster's strong etag must equal the client's), small notifies, a
20 MiB notify streamed from a file, and RECEIVE of all of them on the client's
own uvicorn server on 127.0.0.1.
"""

import asyncio
import hashlib
import os
import socket
import time

import aiohttp
from typing import Any, Awaitable, List, Optional, TypeVar

from lonelypsc.client import PubSubClient, PubSubClientMessage, PubSubClientMessageWithCleanup
from lonelypsc.config.file_config import get_auth_config_from_file
from lonelypsc.config.http_config import make_http_pub_sub_config
from lonelypsc.http_client import HttpPubSubClient
from lonelypsp.auth.config import AuthConfigFromParts
from lonelypsp.stateless.make_strong_etag import (
    GlobAndRecovery,
    StrongEtag,
    TopicAndRecovery,
    make_strong_etag,
)

from noop_tracing import NoopTracingRoot
from response_auth import ResponseAuthProbe

RECEIVE_TIMEOUT = 60.0
"""Seconds to wait for one delivery (the 20 MiB one included)"""

LARGE_SIZE = 20 * 1024 * 1024


class InteropFailure(Exception):
    """A behaviour of the broadcaster the official client does not accept"""


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise InteropFailure(what)


T = TypeVar("T")

HINTS = {
    "PubSubRequestRefusedError": "the broadcaster answered with an error status, or its response "
    "failed the client's format or authorization check",
    "PubSubRequestAmbiguousError": "the connection failed mid-request",
    "PubSubRequestRetriesExhaustedError": "the broadcaster kept answering 502/503/504",
}


def describe(exc: BaseException) -> str:
    """One line naming a client exception and what it means on the wire"""
    name = type(exc).__name__
    text = str(exc).strip()
    hint = HINTS.get(name)
    return name + (f" ({text})" if text else "") + (f": {hint}" if hint else "")


async def _described(awaitable: Awaitable[T], what: str) -> T:
    # lonelypsc's errors carry no text; say which request failed
    try:
        return await awaitable
    except InteropFailure:
        raise
    except Exception as exc:
        raise InteropFailure(f"{what}: {describe(exc)}") from exc


def _free_loopback_port() -> int:
    # uvicorn binds by port number; ask the OS for one that is free right now
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_listening(port: int) -> None:
    # the client starts uvicorn in a background task; deliveries sent before it
    # listens would be refused, so wait until a connection is accepted
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if loop.time() > deadline:
                raise InteropFailure(f"client receiver never listened on {port}")
            await asyncio.sleep(0.02)
            continue
        writer.close()
        await writer.wait_closed()
        return


def http_client(port: int, broadcaster_url: str, secrets_path: str) -> PubSubClient[Any, Any]:
    """The official HTTP client, receiving on 127.0.0.1:`port`, talking to one broadcaster"""
    to_subscriber, to_broadcaster = get_auth_config_from_file(secrets_path)
    config = make_http_pub_sub_config(
        bind={"type": "uvicorn", "host": "127.0.0.1", "port": port},
        host=f"http://127.0.0.1:{port}",
        broadcasters=[{"host": broadcaster_url}],
        outgoing_retries_per_broadcaster=1,
        message_body_spool_size=1024 * 1024,
        outgoing_http_timeout_total=120,
        outgoing_http_timeout_connect=None,
        outgoing_http_timeout_sock_read=None,
        outgoing_http_timeout_sock_connect=5,
        outgoing_retry_ambiguous=False,
        auth=AuthConfigFromParts(to_broadcaster=to_broadcaster, to_subscriber=to_subscriber),
        tracing=NoopTracingRoot(),
    )
    return HttpPubSubClient(config)


class Collector:
    """Receives every delivery the client accepts, via direct_register_on_message"""

    def __init__(self) -> None:
        self.queue: "asyncio.Queue[tuple[bytes, bytes, bytes]]" = asyncio.Queue()

    async def on_message(self, message: PubSubClientMessageWithCleanup) -> None:
        # the client holds the RECEIVE response until cleanup; read, then release
        data = message.data.read()
        self.queue.put_nowait((message.topic, message.sha512, data))
        await message.cleanup()

    async def next(self, what: str) -> "tuple[bytes, bytes, bytes]":
        try:
            return await asyncio.wait_for(self.queue.get(), RECEIVE_TIMEOUT)
        except asyncio.TimeoutError:
            raise InteropFailure(f"no RECEIVE for {what} within {RECEIVE_TIMEOUT:.0f} s")


class StatusCounter:
    """Counts the client's connection-lost events: each MISSED it accepts is one"""

    def __init__(self) -> None:
        self.lost = 0
        self.changed = asyncio.Event()

    async def on_connection_lost(self) -> None:
        self.lost += 1
        self.changed.set()

    async def on_connection_established(self) -> None:
        return None

    async def on_connection_abandoned(self) -> None:
        return None

    async def wait_lost(self, count: int, what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RECEIVE_TIMEOUT
        while self.lost < count:
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                raise InteropFailure(f"no MISSED reached the client's recovery url for {what}")


def _lp16(data: bytes) -> bytes:
    return len(data).to_bytes(2, "big") + data


class Scenario:
    """One client against one broadcaster"""

    def __init__(self, broadcaster_url: str, secrets_path: str, workdir: str) -> None:
        self.broadcaster_url = broadcaster_url
        self.secrets_path = secrets_path
        self.workdir = workdir
        self.port = _free_loopback_port()
        self.host = f"http://127.0.0.1:{self.port}"
        self.receive_url = self.host + "/v1/receive"
        self.recovery_url = self.host + "/v1/recover"
        self.dead: Optional[socket.socket] = None

    def _client(self) -> PubSubClient[Any, Any]:
        return http_client(self.port, self.broadcaster_url, self.secrets_path)

    def _etag(self, exact: List[bytes], globs: List[str]) -> StrongEtag:
        return make_strong_etag(
            self.receive_url,
            [TopicAndRecovery(t, self.recovery_url) for t in sorted(exact)],
            [GlobAndRecovery(g, self.recovery_url) for g in sorted(globs)],
            recheck_sort=False,
        )

    async def _check_subscriptions(
        self, client: PubSubClient[Any, Any], exact: List[bytes], globs: List[str], when: str
    ) -> None:
        bulk = client.connector.get_bulk()
        assert bulk is not None
        got = await _described(bulk.check_subscriptions(), f"check_subscriptions {when}")
        want = self._etag(exact, globs)
        _check(
            got.format == want.format and got.etag == want.etag,
            f"check_subscriptions {when}: etag {got.etag.hex()[:16]}…, client expects "
            f"{want.etag.hex()[:16]}… for exact={exact} globs={globs}",
        )

    async def _notify(
        self,
        client: PubSubClient[Any, Any],
        topic: bytes,
        data: bytes,
        expect_notified: int,
    ) -> None:
        result = await _described(
            client.notify(trace_initializer=None, topic=topic, data=data),
            f"notify {topic!r} ({len(data)} bytes)",
        )
        _check(
            result.notified == expect_notified,
            f"notify {topic!r}: broadcaster reports {result.notified} subscribers, "
            f"expected {expect_notified}",
        )

    async def _notify_and_receive(
        self,
        client: PubSubClient[Any, Any],
        collector: Optional[Collector],
        it: Any,
        topic: bytes,
        data: bytes,
    ) -> None:
        # notify concurrently: the broadcaster may answer only after delivering,
        # and the client answers RECEIVE only once the message is cleaned up
        notify = asyncio.create_task(self._notify(client, topic, data, 1))
        receive = asyncio.create_task(self._receive_one(collector, it, topic))
        try:
            done, _ = await asyncio.wait({notify, receive}, return_when=asyncio.FIRST_COMPLETED)
            if notify in done and notify.exception() is not None:
                await notify  # a refused notify explains a missing RECEIVE
            got_topic, got_sha, got_data = await receive
            _check(got_topic == topic, f"RECEIVE topic {got_topic!r}, expected {topic!r}")
            _check(got_data == data, f"RECEIVE body for {topic!r} differs ({len(got_data)} bytes)")
            _check(got_sha == hashlib.sha512(data).digest(), f"RECEIVE sha512 for {topic!r}")
            await notify
        finally:
            for task in (notify, receive):
                if not task.done():
                    task.cancel()
            await asyncio.gather(notify, receive, return_exceptions=True)

    async def _receive_one(
        self, collector: Optional[Collector], it: Any, topic: bytes
    ) -> "tuple[bytes, bytes, bytes]":
        if collector is not None:
            return await collector.next(repr(topic))
        try:
            message = await asyncio.wait_for(it.__anext__(), RECEIVE_TIMEOUT)
        except asyncio.TimeoutError:
            raise InteropFailure(f"no RECEIVE for {topic!r} within {RECEIVE_TIMEOUT:.0f} s")
        data = message.data.read()
        await message.cleanup()
        return message.topic, message.sha512, data

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            if self.dead is not None:
                self.dead.close()

    async def _run(self) -> None:
        async with self._client() as client:
            await _wait_listening(self.port)
            await self._check_subscriptions(client, [], [], "before subscribing")
            await _described(self._missed_start(client), "MISSED flow")
            probe = ResponseAuthProbe(client.connector.config, self.broadcaster_url, self.host)
            await _described(probe.run(), "response authorization")
            await _described(self._individual_requests(client), "individual (un)subscribe flow")
            await _described(self._context_managers(client), "subscribe_exact/glob/multi flow")
            await _described(self._large(client), "20 MiB flow")
            await _described(self._missed_confirmed_once(client), "MISSED flow")
            # every subscription context has exited: the client must have cleared them
            await self._check_subscriptions(client, [], [], "after unsubscribing")
            await self._notify(client, b"interop/exact", b"nobody", 0)

    async def _individual_requests(self, client: PubSubClient[Any, Any]) -> None:
        """SUBSCRIBE/UNSUBSCRIBE exact topics and globs, one request each"""
        exact = [b"interop/one", b"interop/\xff\x00bytes"]  # topics are bytes, not text
        globs = ["interop/many/*", "interop/\u00fc\u4e16/?"]  # globs are UTF-8 text
        collector = Collector()
        reg = await client.direct_register_on_message(receiver=collector)
        try:
            for topic in exact:
                await _described(client.connector.subscribe_exact(topic=topic), "subscribe exact")
            for glob in globs:
                await _described(client.connector.subscribe_glob(glob=glob), "subscribe glob")
            await self._check_subscriptions(client, exact, globs, "after subscribe exact+glob")
            await self._notify_and_receive(client, collector, None, exact[0], b"hello")
            await self._notify_and_receive(client, collector, None, exact[1], b"binary topic")
            await self._notify_and_receive(
                client, collector, None, b"interop/many/x", bytes(range(256))
            )
            await self._notify_and_receive(
                client, collector, None, "interop/\u00fc\u4e16/x".encode(), b"utf-8 glob"
            )
            await self._notify(client, b"interop/other", b"not for us", 0)
            for topic in exact:
                await _described(
                    client.connector.unsubscribe_exact(topic=topic), "unsubscribe exact"
                )
            for glob in globs:
                await _described(client.connector.unsubscribe_glob(glob=glob), "unsubscribe glob")
            await self._check_subscriptions(client, [], [], "after unsubscribe exact+glob")
            await self._notify(client, b"interop/one", b"gone", 0)
        finally:
            await client.direct_unregister_on_message(registration_id=reg)

    async def _context_managers(self, client: PubSubClient[Any, Any]) -> None:
        """subscribe_exact / subscribe_glob / subscribe_multi (SET_SUBSCRIPTIONS flows)"""
        async with client.subscribe_exact(b"interop/exact") as sub:
            it = await sub.messages()
            await self._check_subscriptions(client, [b"interop/exact"], [], "in subscribe_exact")
            await self._notify_and_receive(client, None, it, b"interop/exact", b"")
            await self._notify_and_receive(client, None, it, b"interop/exact", b"\x00\xff" * 1000)
        async with client.subscribe_glob("interop/glob/*") as sub:
            it = await sub.messages()
            await self._check_subscriptions(client, [], ["interop/glob/*"], "in subscribe_glob")
            await self._notify_and_receive(client, None, it, b"interop/glob/a", b"glob a")
        async with client.subscribe_multi() as sub:
            await sub.subscribe_exact(b"interop/multi")
            await sub.subscribe_glob("interop/multi-*")
            it = await sub.messages()
            await self._check_subscriptions(
                client, [b"interop/multi"], ["interop/multi-*"], "in subscribe_multi"
            )
            await self._notify_and_receive(client, None, it, b"interop/multi", b"m1")
            await self._notify_and_receive(client, None, it, b"interop/multi-2", b"m2")
            await sub.unsubscribe_glob("interop/multi-*")
            await self._check_subscriptions(
                client, [b"interop/multi"], [], "after subscribe_multi unsubscribe_glob"
            )

    async def _large(self, client: PubSubClient[Any, Any]) -> None:
        """A 20 MiB message notified from a file (streamed, spooled on both sides)"""
        path = os.path.join(self.workdir, "large.bin")
        block = hashlib.sha512(b"interop").digest() * 16384  # 1 MiB, not all zeroes
        with open(path, "wb") as f:
            for i in range(LARGE_SIZE // len(block)):
                f.write(bytes([i]) + block[1:])
        with open(path, "rb") as f:
            expected = f.read()
        topic = b"interop/large"
        async with client.subscribe_exact(topic) as sub:
            it = await sub.messages()
            with open(path, "rb") as f:
                notify = asyncio.create_task(
                    client.notify(trace_initializer=None, topic=topic, sync_file=f)
                )
                receive = asyncio.create_task(self._receive_one(None, it, topic))
                try:
                    await asyncio.wait({notify, receive}, return_when=asyncio.FIRST_COMPLETED)
                    if notify.done() and notify.exception() is not None:
                        await _described(notify, "notify of 20 MiB from a file")
                    got_topic, got_sha, data = await receive
                    result = await _described(notify, "notify of 20 MiB from a file")
                finally:
                    for task in (notify, receive):
                        if not task.done():
                            task.cancel()
                    await asyncio.gather(notify, receive, return_exceptions=True)
            _check(got_topic == topic, f"large RECEIVE topic {got_topic!r}")
            _check(len(data) == LARGE_SIZE, f"large RECEIVE has {len(data)} bytes")
            _check(data == expected, "large RECEIVE body differs")
            _check(got_sha == hashlib.sha512(expected).digest(), "large RECEIVE sha512")
            _check(result.notified == 1, f"large notify reports {result.notified} subscribers")

    async def _missed_start(self, client: PubSubClient[Any, Any]) -> None:
        """Subscribes a dead receive url whose recovery url is the client's, so a
        notify fails delivery and the broadcaster's sweeper sends MISSED to the
        official client's /v1/recover (auth checked there, CONFIRM_MISSED here)"""
        self.missed_status = StatusCounter()
        self.missed_reg = await client.direct_register_status_handler(receiver=self.missed_status)
        # bound but never listening: connections to it are refused
        self.dead = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.dead.bind(("127.0.0.1", 0))
        self.dead_url = f"http://127.0.0.1:{self.dead.getsockname()[1]}/v1/receive"
        topic = b"interop/missed"
        auth = await client.connector.config.authorize_subscribe_exact(
            tracing=b"", url=self.dead_url, recovery=self.recovery_url, exact=topic, now=time.time()
        )
        body = _lp16(self.dead_url.encode()) + _lp16(topic) + _lp16(self.recovery_url.encode())
        await self._post("/v1/subscribe/exact", body + _lp16(b""), auth, "subscribe dead url")
        await self._notify(client, topic, b"to a dead subscriber", 0)
        await self.missed_status.wait_lost(1, "a failed RECEIVE")

    async def _missed_confirmed_once(self, client: PubSubClient[Any, Any]) -> None:
        """By now the sweeper has had many passes: a CONFIRM_MISSED it rejected
        would have been retried, and each retry is one more connection-lost"""
        try:
            _check(
                self.missed_status.lost == 1,
                f"client got {self.missed_status.lost} MISSED for one failed RECEIVE "
                "(the broadcaster retried: it rejected the client's CONFIRM_MISSED)",
            )
            topic = b"interop/missed"
            auth = await client.connector.config.authorize_subscribe_exact(
                tracing=b"", url=self.dead_url, recovery=None, exact=topic, now=time.time()
            )
            body = _lp16(self.dead_url.encode()) + _lp16(topic) + _lp16(b"")
            await self._post("/v1/unsubscribe/exact", body, auth, "unsubscribe dead url")
        finally:
            await client.direct_unregister_status_handler(registration_id=self.missed_reg)

    async def _post(self, path: str, body: bytes, authorization: Optional[str], what: str) -> None:
        headers = {"Content-Type": "application/octet-stream"}
        if authorization is not None:
            headers["Authorization"] = authorization
        async with aiohttp.ClientSession() as session:
            async with session.post(self.broadcaster_url + path, data=body, headers=headers) as r:
                answer = await r.read()
                _check(r.status == 200, f"{what}: status {r.status}, body {answer[:200]!r}")
