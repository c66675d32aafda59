"""The participants of the websocket scenario, each wrapping an official client.

* `WsPeer`: lonelypsc's `WebsocketPubSubClient` connected to one broadcaster's
  `/v1/websocket`. It is configured so that it never reconnects silently: the
  first connection failure abandons the client (and fails the scenario), so a
  message the client rejects cannot be papered over by its retry logic. Every
  authorization check the client makes goes through `RecordingAuth`, which
  keeps the results (a rejection names the message) and the MISSED topics.
  With `ZstdOptions` it has compression on (ws_zstd_scenario.py), and what it
  sends and receives can be read off the wire (`frames`, from ws_wiretap).
* `HttpPeer`: lonelypsc's HTTP client (webhook subscriber + HTTP notifier), as
  in the HTTP half.

Both collect what they receive in arrival order, and both notify through the
official client. Only 127.0.0.1 is ever contacted.
"""

import asyncio
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Tuple, TypeVar

from lonelypsc.client import PubSubClient, PubSubClientConnectionStatus
from lonelypsc.client import PubSubClientMessageWithCleanup
from lonelypsc.config.file_config import get_auth_config_from_file
from lonelypsc.config.ws_config import make_websocket_pub_sub_config
from lonelypsc.ws_client import WebsocketPubSubClient
from lonelypsp.auth.config import AuthConfigFromParts, AuthResult

from scenario import InteropFailure, _wait_listening, describe, http_client
from ws_wiretap import Frame
from ws_wiretap import frames as wiretap_frames

RECEIVE_TIMEOUT = 60.0
"""Seconds to wait for one delivery or one notify (the 20 MiB ones included)"""

SYNC_TIMEOUT = 30.0
"""Seconds to wait for the broadcaster to acknowledge (un)subscribe requests"""

MAX_WEBSOCKET_MESSAGE_SIZE = 3584 * 1024
"""The reference harness's 3.5 MiB: NOTIFY up to this size, NOTIFY_STREAM parts above it"""

NUDGE = b"interop-ws/nudge"
"""A topic nobody subscribes"""

T = TypeVar("T")

Delivery = Tuple[bytes, bytes, bytes]
"""topic, the SHA-512 the client reports, the bytes"""


class RecordingAuth:
    """An AuthConfig that delegates to the client's own and records every
    verification (`is_*_allowed`) the client makes with it"""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.checks: List[Tuple[str, AuthResult, Dict[str, Any]]] = []
        self.changed = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not (name.startswith("is_") and name.endswith("_allowed")):
            return attr

        async def verify(**kwargs: Any) -> AuthResult:
            result = await attr(**kwargs)
            self.checks.append((name, result, kwargs))
            self.changed.set()
            return result

        return verify

    def count(self, name: str) -> int:
        return sum(1 for check in self.checks if check[0] == name)

    def missed_topics(self) -> List[bytes]:
        """Topics of the MISSED messages the client verified (in order)"""
        return [kw["topic"] for name, _, kw in self.checks if name == "is_missed_allowed"]

    def rejections(self) -> List[str]:
        out = []
        for name, result, kwargs in self.checks:
            if result == AuthResult.OK:
                continue
            what = ", ".join(
                f"{key} {value!r}"
                for key, value in kwargs.items()
                if key in ("url", "recovery", "topic", "identifier")
            )
            out.append(f"{name} -> {result.name} ({what})")
        return out


class ZstdOptions:
    """The client's compression settings (lonelypsc `make_websocket_pub_sub_config`)"""

    def __init__(
        self,
        *,
        enabled: bool = True,
        training: bool = False,
        presets: Optional[Dict[int, Tuple[bytes, int]]] = None,
        initial_dict: Optional[int] = None,
        max_window_size: int = 0,
    ) -> None:
        self.enabled = enabled
        self.training = training
        self.presets = dict(presets or {})
        """id -> (raw dictionary, level)"""
        self.initial_dict = initial_dict
        self.max_window_size = max_window_size

    def config(self) -> Dict[str, Any]:
        dictionaries = {}
        if self.presets:
            import zstandard  # only with presets: the driver runs without it otherwise

            dictionaries = {
                i: (zstandard.ZstdCompressionDict(raw), level)
                for i, (raw, level) in self.presets.items()
            }
        return {
            "allow_compression": self.enabled,
            "compression_dictionary_by_id": dictionaries,
            "initial_compression_dict_id": self.initial_dict,
            "allow_training_compression": self.training,
            "decompression_max_window_size": self.max_window_size,
        }


class Collector:
    """What a client received, in arrival order"""

    def __init__(self, owner: "Peer") -> None:
        self.owner = owner
        self.queue: "asyncio.Queue[Delivery]" = asyncio.Queue()

    async def on_message(self, message: PubSubClientMessageWithCleanup) -> None:
        # the client holds the delivery (and, for HTTP, its response) until cleanup
        data = message.data.read()
        self.queue.put_nowait((message.topic, message.sha512, data))
        await message.cleanup()

    async def next(self, what: str) -> Delivery:
        return await self.owner.guarded(
            asyncio.wait_for(self.queue.get(), RECEIVE_TIMEOUT),
            f"{self.owner.name} waiting for {what}",
            f"no delivery within {RECEIVE_TIMEOUT:.0f} s",
        )

    def pending(self) -> int:
        return self.queue.qsize()


class StatusCounter:
    """The client's connection status events"""

    def __init__(self) -> None:
        self.lost = 0
        self.abandoned = asyncio.Event()
        self.changed = asyncio.Event()

    async def on_connection_lost(self) -> None:
        self.lost += 1
        self.changed.set()

    async def on_connection_established(self) -> None:
        self.changed.set()

    async def on_connection_abandoned(self) -> None:
        self.abandoned.set()
        self.changed.set()


class Peer:
    """Common part of the websocket and HTTP participants"""

    name: str
    client: PubSubClient[Any, Any]
    collector: Collector
    marker = False
    """subscribed to the scenario's marker topic"""
    entered = False
    """started and not yet stopped"""

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def guarded(self, awaitable: Awaitable[T], what: str, timeout_text: str) -> T:
        try:
            return await awaitable
        except asyncio.TimeoutError:
            raise InteropFailure(f"{what}: {timeout_text}{self.diagnosis()}")

    def diagnosis(self) -> str:
        return ""

    async def notify(self, topic: bytes, data: Optional[bytes], path: Optional[str]) -> int:
        async def go() -> int:
            if path is not None:
                with open(path, "rb") as f:
                    result = await self.client.notify(
                        trace_initializer=None, topic=topic, sync_file=f
                    )
            else:
                assert data is not None
                result = await self.client.notify(trace_initializer=None, topic=topic, data=data)
            return int(result.notified)

        size = f"{len(data)} bytes" if data is not None else "a file"
        what = f"{self.name} notify {topic!r} ({size})"
        try:
            return await self.guarded(
                asyncio.wait_for(go(), RECEIVE_TIMEOUT),
                what,
                f"no answer within {RECEIVE_TIMEOUT:.0f} s",
            )
        except InteropFailure:
            raise
        except Exception as exc:
            raise InteropFailure(f"{what}: {describe(exc)}{self.diagnosis()}") from exc


class WsPeer(Peer):
    """One `WebsocketPubSubClient` connection (lonelypsc 0.0.17)"""

    def __init__(
        self,
        name: str,
        ws_url: str,
        secrets_path: str,
        *,
        zstd: Optional[ZstdOptions] = None,
    ) -> None:
        self.name = name
        self.ws_url = ws_url
        self.zstd = zstd
        to_subscriber, to_broadcaster = get_auth_config_from_file(secrets_path)
        self.auth = RecordingAuth(
            AuthConfigFromParts(to_broadcaster=to_broadcaster, to_subscriber=to_subscriber)
        )
        config = make_websocket_pub_sub_config(
            broadcasters=[{"host": ws_url}],
            # one broadcaster, no retries, and a connection counts as unstable for
            # an hour: any close or rejected message abandons the client instead
            # of reconnecting (and re-subscribing) behind the scenario's back
            outgoing_initial_connect_retries=0,
            outgoing_min_reconnect_interval=3600,
            max_websocket_message_size=MAX_WEBSOCKET_MESSAGE_SIZE,
            websocket_open_timeout=5,
            websocket_close_timeout=5,
            websocket_heartbeat_interval=10,
            websocket_minimal_headers=True,
            max_sent_notifications=None,
            max_unsent_notifications=None,
            max_expected_acks=None,
            max_received=None,
            max_unsent_acks=None,
            # without zstd options CONFIGURE says x-enable-zstd = 0 and the server
            # must not announce a compressor (the client would disconnect)
            **(zstd or ZstdOptions(enabled=False)).config(),
            auth=self.auth,
        )
        self.client = WebsocketPubSubClient(config)
        self.collector = Collector(self)
        self.status = StatusCounter()
        self.exact: Set[bytes] = set()
        self.globs: Set[str] = set()
        self.home: Any = None
        """the broadcaster connected to (set by the scenario)"""
        self.abandoned_before_stop = False
        """the connection was already abandoned when `stop` began"""
        self.websocket: Any = None
        """the aiohttp websocket of the (only) connection, once started"""

    def diagnosis(self) -> str:
        parts = []
        if self.status.abandoned.is_set() and (self.entered or self.abandoned_before_stop):
            parts.append("the client abandoned its connection")
        rejected = self.auth.rejections()
        if rejected:
            parts.append("the client rejected: " + "; ".join(rejected[:3]))
        configures = self.auth.count("is_stateful_confirm_configure_allowed")
        if configures > 1:
            parts.append(f"it connected {configures} times")
        error = self._client_error()
        if error is not None:
            parts.append("client error: " + describe(error).replace("\n", " ")[:300])
        return (" (" + ", ".join(parts) + ")") if parts else ""

    def _client_error(self) -> Optional[BaseException]:
        """Why the client's connection task ended, if it did (client internals)"""
        try:
            state = self.client.receiver.state
            exception = getattr(state, "exception", None)
            if isinstance(exception, BaseException):
                return exception
            task = getattr(state, "state_task", None)
            if task is not None and task.done() and not task.cancelled():
                return task.exception()
        except Exception:
            pass
        return None

    async def guarded(self, awaitable: Awaitable[T], what: str, timeout_text: str) -> T:
        # a dead connection fails at once instead of after the timeout
        task = asyncio.ensure_future(awaitable)
        dead = asyncio.ensure_future(self.status.abandoned.wait())
        try:
            await asyncio.wait({task, dead}, return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                return await super().guarded(task, what, timeout_text)
            raise InteropFailure(f"{what}: connection lost{self.diagnosis()}")
        finally:
            for t in (task, dead):
                if not t.done():
                    t.cancel()
            await asyncio.gather(task, dead, return_exceptions=True)

    async def start(self) -> None:
        try:
            await self.client.__aenter__()
        except Exception as exc:
            raise InteropFailure(f"{self.name}: client setup failed: {describe(exc)}") from exc
        self.entered = True
        await self.client.direct_register_status_handler(receiver=self.status)
        await self.client.direct_register_on_message(receiver=self.collector)
        await self.synced("connecting")
        # the connection, for ws_wiretap (client internals, lonelypsc 0.0.17)
        ws_state = getattr(self.client.receiver.state, "ws_state", None)
        self.websocket = getattr(ws_state, "websocket", None)

    def frames(self) -> List[Frame]:
        """What ws_wiretap recorded on this client's connection (if installed)"""
        return [] if self.websocket is None else wiretap_frames(self.websocket)

    def compressors_ready(self) -> List[int]:
        """Ids the client may compress with now, in its order of preference
        (client internals, lonelypsc 0.0.17)"""
        ws_state = getattr(self.client.receiver.state, "ws_state", None)
        store = getattr(ws_state, "compressors", None)
        return [c.identifier for c in getattr(store, "ready", [])]

    async def stop(self) -> None:
        """Closes the connection (the client does not unsubscribe first: its
        subscriptions were made on the connector, below its bookkeeping)"""
        if not self.entered:
            return
        self.entered = False
        self.abandoned_before_stop = self.status.abandoned.is_set()
        try:
            await self.client.__aexit__(None, None, None)
        except Exception as exc:
            raise InteropFailure(
                f"{self.name}: the client failed while closing: {describe(exc)}{self.diagnosis()}"
            ) from exc

    def check_clean(self) -> None:
        """Exactly one connection and no rejected verification over the whole run"""
        configures = self.auth.count("is_stateful_confirm_configure_allowed")
        # closing the client abandons the connection: only an earlier abandon counts
        abandoned = self.status.abandoned.is_set() if self.entered else self.abandoned_before_stop
        problems = []
        if configures != 1:
            problems.append(f"connected {configures} times, expected once")
        if abandoned:
            problems.append("abandoned its connection")
        problems += [f"rejected {r}" for r in self.auth.rejections()[:3]]
        if problems:
            raise InteropFailure(f"{self.name}: " + "; ".join(problems))

    async def synced(self, what: str) -> None:
        """Waits until every (un)subscribe request sent so far is acknowledged
        (the client's status is OK exactly then)"""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SYNC_TIMEOUT
        while self.client.receiver.connection_status != PubSubClientConnectionStatus.OK:
            if self.status.abandoned.is_set() or (
                self.client.receiver.connection_status == PubSubClientConnectionStatus.ABANDONED
            ):
                raise InteropFailure(f"{self.name} {what}: connection lost{self.diagnosis()}")
            if loop.time() > deadline:
                raise InteropFailure(
                    f"{self.name} {what}: not acknowledged within {SYNC_TIMEOUT:.0f} s"
                    f"{self.diagnosis()}"
                )
            await asyncio.sleep(0.01)

    async def _request(self, call: Callable[[], Awaitable[None]], what: str) -> None:
        try:
            await call()
        except Exception as exc:
            raise InteropFailure(f"{self.name} {what}: {describe(exc)}{self.diagnosis()}") from exc

    async def subscribe_exact(self, topic: bytes) -> None:
        await self._request(lambda: self.client.connector.subscribe_exact(topic=topic), "sub")
        self.exact.add(topic)

    async def subscribe_glob(self, glob: str) -> None:
        await self._request(lambda: self.client.connector.subscribe_glob(glob=glob), "sub")
        self.globs.add(glob)

    async def unsubscribe_exact(self, topic: bytes) -> None:
        await self._request(lambda: self.client.connector.unsubscribe_exact(topic=topic), "unsub")
        self.exact.discard(topic)

    async def unsubscribe_glob(self, glob: str) -> None:
        await self._request(lambda: self.client.connector.unsubscribe_glob(glob=glob), "unsub")
        self.globs.discard(glob)

    async def _nudge(self) -> None:
        """A notify nobody receives: a round trip on the connection"""
        count = await self.notify(NUDGE, b"", None)
        if count != 0:
            raise InteropFailure(f"{self.name} notify {NUDGE!r}: {count} subscribers, expected 0")

    def missed_mark(self) -> Tuple[int, int]:
        """(MISSED verified, connection-lost reports) so far, for `wait_missed`"""
        return len(self.auth.missed_topics()), self.status.lost

    async def wait_missed(self, mark: Tuple[int, int], topic: bytes, what: str) -> None:
        """Waits until the client verified one more MISSED, for `topic`, and told
        its status handlers (lonelypsc reports a MISSED to the application as the
        connection being lost, then re-established)"""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RECEIVE_TIMEOUT
        while True:
            topics = self.auth.missed_topics()[mark[0]:]
            if topics and topics[0] != topic:
                raise InteropFailure(
                    f"{self.name} {what}: got MISSED for {topics[0]!r}, expected {topic!r}"
                )
            if topics and self.status.lost > mark[1]:
                # one more round trip: whatever the broadcaster queued before its
                # CONFIRM_NOTIFY has been verified by then; exactly one MISSED
                await self._nudge()
                topics = self.auth.missed_topics()[mark[0]:]
                if topics != [topic]:
                    raise InteropFailure(
                        f"{self.name} {what}: got {len(topics)} MISSED ({topics!r}), expected "
                        f"exactly one for {topic!r}"
                    )
                return
            if topics:
                # lonelypsc re-evaluates its status only when its connection state
                # next changes: give it something to do
                await self._nudge()
            if self.status.abandoned.is_set():
                raise InteropFailure(f"{self.name} {what}: connection lost{self.diagnosis()}")
            remaining = deadline - loop.time()
            if remaining <= 0:
                state = "verified but not reported" if topics else "never arrived"
                raise InteropFailure(
                    f"{self.name} {what}: MISSED for {topic!r} {state} within "
                    f"{RECEIVE_TIMEOUT:.0f} s{self.diagnosis()}"
                )
            self.auth.changed.clear()
            self.status.changed.clear()
            waits = [
                asyncio.ensure_future(event.wait())
                for event in (self.auth.changed, self.status.changed)
            ]
            await asyncio.wait(
                waits, timeout=min(remaining, 0.05), return_when=asyncio.FIRST_COMPLETED
            )
            for w in waits:
                w.cancel()
            await asyncio.gather(*waits, return_exceptions=True)


class HttpPeer(Peer):
    """The official HTTP client: a webhook subscriber on 127.0.0.1:`port`"""

    def __init__(self, name: str, port: int, broadcaster_url: str, secrets_path: str) -> None:
        self.name = name
        self.port = port
        self.client = http_client(port, broadcaster_url, secrets_path)
        self.collector = Collector(self)

    async def start(self) -> None:
        await self.client.__aenter__()
        self.entered = True
        await _wait_listening(self.port)
        await self.client.direct_register_on_message(receiver=self.collector)

    async def stop(self) -> None:
        if self.entered:
            self.entered = False
            await self.client.__aexit__(None, None, None)

    async def _request(self, call: Callable[[], Awaitable[None]], what: str) -> None:
        try:
            await call()
        except Exception as exc:
            raise InteropFailure(f"{self.name} {what}: {describe(exc)}") from exc

    async def subscribe_exact(self, topic: bytes) -> None:
        await self._request(
            lambda: self.client.connector.subscribe_exact(topic=topic), f"subscribe {topic!r}"
        )

    async def unsubscribe_exact(self, topic: bytes) -> None:
        await self._request(
            lambda: self.client.connector.unsubscribe_exact(topic=topic), f"unsubscribe {topic!r}"
        )
