"""Checks the authorization on the broadcaster's websocket acknowledgements.

lonelypsc 0.0.17 never verifies CONFIRM_SUBSCRIBE_*, CONFIRM_UNSUBSCRIBE_*,
CONTINUE_NOTIFY or CONFIRM_NOTIFY (docs/protocol/websocket.md#authorization), so a
wrongly signed one would pass the scenario unnoticed. Here one websocket is
driven frame by frame with lonelypsp's own serializers and auth code, and each
answer is verified with the client's own `is_*_allowed`: configure, subscribe
exact + glob, a NOTIFY and a two-part NOTIFY_STREAM to a topic nobody
subscribes (0 subscribers, so no delivery interleaves), unsubscribe both,
close (answered with code 1000). Any other frame, or a close by the
broadcaster, fails with its close code.
"""

import asyncio
import base64
import hashlib
import io
import secrets
import time
from typing import Any, Optional

import aiohttp
from lonelypsp.auth.config import AuthResult
from lonelypsp.stateful.constants import BroadcasterToSubscriberStatefulMessageType as B2S
from lonelypsp.stateful.constants import SubscriberToBroadcasterStatefulMessageType as S2B
from lonelypsp.stateful.messages.configure import S2B_Configure, serialize_s2b_configure
from lonelypsp.stateful.messages.notify import S2B_NotifyUncompressed, serialize_s2b_notify
from lonelypsp.stateful.messages.notify_stream import (
    S2B_NotifyStreamContinuation,
    S2B_NotifyStreamStartUncompressed,
    serialize_s2b_notify_stream,
)
from lonelypsp.stateful.messages.subscribe import (
    S2B_SubscribeExact,
    S2B_SubscribeGlob,
    serialize_s2b_subscribe_exact,
    serialize_s2b_subscribe_glob,
)
from lonelypsp.stateful.messages.unsubscribe import (
    S2B_UnsubscribeExact,
    S2B_UnsubscribeGlob,
    serialize_s2b_unsubscribe_exact,
    serialize_s2b_unsubscribe_glob,
)
from lonelypsp.stateful.parser import B2S_AnyMessageParser
from lonelypsp.stateful.parser_helpers import parse_b2s_message_prefix

FRAME_TIMEOUT = 10.0


class WsProbeFailure(Exception):
    """An acknowledgement the official client's auth code rejects, or a wrong frame"""


class WsProbe:
    """One raw websocket signed and checked with `auth` (an lonelypsp AuthConfig)"""

    def __init__(self, auth: Any, ws_url: str) -> None:
        self.auth = auth
        self.url = ws_url + "/v1/websocket"
        self.ws: Optional[aiohttp.ClientWebSocketResponse] = None
        self.nonce_b64 = ""
        self.subscriber_counter = -1

    def _pseudo_url(self) -> str:
        # the subscriber counter: used by subscribe/unsubscribe, then stepped
        url = f"websocket:{self.nonce_b64}:{self.subscriber_counter:x}"
        self.subscriber_counter -= 1
        return url

    async def _send(self, frame: "bytes | bytearray") -> None:
        assert self.ws is not None
        await self.ws.send_bytes(bytes(frame))

    async def _recv(self, expected: B2S, what: str) -> Any:
        assert self.ws is not None
        try:
            msg = await asyncio.wait_for(self.ws.receive(), FRAME_TIMEOUT)
        except asyncio.TimeoutError:
            raise WsProbeFailure(f"{what}: no {expected.name} within {FRAME_TIMEOUT:.0f} s")
        if msg.type != aiohttp.WSMsgType.BINARY:
            code = self.ws.close_code
            raise WsProbeFailure(
                f"{what}: expected {expected.name}, got {msg.type.name} "
                f"(close code {code}, {msg.extra!r})"
            )
        stream = io.BytesIO(msg.data)
        prefix = parse_b2s_message_prefix(stream)
        if prefix.type != expected:
            raise WsProbeFailure(f"{what}: expected {expected.name}, got type {int(prefix.type)}")
        return B2S_AnyMessageParser.parse(prefix.flags, prefix.type, stream)

    @staticmethod
    def _ok(result: AuthResult, what: str, authorization: Optional[str]) -> None:
        if result != AuthResult.OK:
            raise WsProbeFailure(
                f"{what}: the client's auth code rejects it: {result.name} "
                f"(authorization {authorization!r})"
            )

    async def run(self) -> None:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(self.url, autoclose=False, autoping=True) as ws:
                self.ws = ws
                await self._configure()
                topic, glob = b"probe/\xfe", "probe/*"
                await self._subscription(topic, glob, subscribe=True)
                await self._notify(b"probe-nobody/\x00", b"small probe body")
                await self._notify_stream(b"probe-nobody/stream", bytes(range(256)) * 4, 600)
                await self._subscription(topic, glob, subscribe=False)
                # a normal end: the broadcaster echoes our close, code 1000
                await ws.close()
                if ws.close_code != 1000:
                    raise WsProbeFailure(
                        f"closing: the broadcaster answered with close code {ws.close_code}"
                    )

    async def _configure(self) -> None:
        nonce = secrets.token_bytes(32)
        authorization = await self.auth.authorize_stateful_configure(
            tracing=b"",
            subscriber_nonce=nonce,
            enable_zstd=False,
            enable_training=False,
            initial_dict=0,
        )
        await self._send(
            serialize_s2b_configure(
                S2B_Configure(
                    type=S2B.CONFIGURE,
                    subscriber_nonce=nonce,
                    enable_zstd=False,
                    enable_training=False,
                    initial_dict=0,
                    authorization=authorization,
                    tracing=b"",
                ),
                minimal_headers=True,
            )
        )
        confirm = await self._recv(B2S.CONFIRM_CONFIGURE, "CONFIGURE")
        result = await self.auth.is_stateful_confirm_configure_allowed(
            message=confirm, now=time.time()
        )
        self._ok(result, "CONFIRM_CONFIGURE", confirm.authorization)
        connection_nonce = hashlib.sha256(nonce + confirm.broadcaster_nonce).digest()
        self.nonce_b64 = base64.b64encode(connection_nonce).decode("ascii")

    async def _subscription(self, topic: bytes, glob: str, *, subscribe: bool) -> None:
        verb = "SUBSCRIBE" if subscribe else "UNSUBSCRIBE"
        # exact
        url = self._pseudo_url()
        authorization = await self.auth.authorize_subscribe_exact(
            tracing=b"", url=url, recovery=None, exact=topic, now=time.time()
        )
        if subscribe:
            frame = serialize_s2b_subscribe_exact(
                S2B_SubscribeExact(
                    type=S2B.SUBSCRIBE_EXACT, authorization=authorization, tracing=b"", topic=topic
                ),
                minimal_headers=True,
            )
        else:
            frame = serialize_s2b_unsubscribe_exact(
                S2B_UnsubscribeExact(
                    type=S2B.UNSUBSCRIBE_EXACT, authorization=authorization, tracing=b"",
                    topic=topic,
                ),
                minimal_headers=True,
            )
        await self._send(frame)
        kind = B2S.CONFIRM_SUBSCRIBE_EXACT if subscribe else B2S.CONFIRM_UNSUBSCRIBE_EXACT
        confirm = await self._recv(kind, f"{verb}_EXACT")
        if confirm.topic != topic:
            raise WsProbeFailure(f"{kind.name} echoes {confirm.topic!r}, expected {topic!r}")
        # both confirmations are signed with the subscribe-confirmation operation,
        # over the request's pseudo-url, without a recovery url
        result = await self.auth.is_confirm_subscribe_exact_allowed(
            tracing=confirm.tracing, url=url, recovery=None, exact=topic, now=time.time(),
            authorization=confirm.authorization,
        )
        self._ok(result, kind.name, confirm.authorization)
        # glob
        url = self._pseudo_url()
        authorization = await self.auth.authorize_subscribe_glob(
            tracing=b"", url=url, recovery=None, glob=glob, now=time.time()
        )
        if subscribe:
            frame = serialize_s2b_subscribe_glob(
                S2B_SubscribeGlob(
                    type=S2B.SUBSCRIBE_GLOB, authorization=authorization, tracing=b"", glob=glob
                ),
                minimal_headers=True,
            )
        else:
            frame = serialize_s2b_unsubscribe_glob(
                S2B_UnsubscribeGlob(
                    type=S2B.UNSUBSCRIBE_GLOB, authorization=authorization, tracing=b"", glob=glob
                ),
                minimal_headers=True,
            )
        await self._send(frame)
        kind = B2S.CONFIRM_SUBSCRIBE_GLOB if subscribe else B2S.CONFIRM_UNSUBSCRIBE_GLOB
        confirm = await self._recv(kind, f"{verb}_GLOB")
        if confirm.glob != glob:
            raise WsProbeFailure(f"{kind.name} echoes {confirm.glob!r}, expected {glob!r}")
        result = await self.auth.is_confirm_subscribe_glob_allowed(
            tracing=confirm.tracing, url=url, recovery=None, glob=glob, now=time.time(),
            authorization=confirm.authorization,
        )
        self._ok(result, kind.name, confirm.authorization)

    async def _confirm_notify(
        self, identifier: bytes, topic: bytes, sha512: bytes, what: str
    ) -> None:
        confirm = await self._recv(B2S.CONFIRM_NOTIFY, what)
        if confirm.identifier != identifier:
            raise WsProbeFailure(f"CONFIRM_NOTIFY for {what} echoes another identifier")
        if confirm.subscribers != 0:
            raise WsProbeFailure(
                f"CONFIRM_NOTIFY for {what} reports {confirm.subscribers} subscribers, expected 0"
            )
        result = await self.auth.is_confirm_notify_allowed(
            tracing=confirm.tracing, identifier=identifier, subscribers=confirm.subscribers,
            topic=topic, message_sha512=sha512, authorization=confirm.authorization,
            now=time.time(),
        )
        self._ok(result, f"CONFIRM_NOTIFY for {what}", confirm.authorization)

    async def _notify(self, topic: bytes, data: bytes) -> None:
        identifier = secrets.token_bytes(4)
        sha512 = hashlib.sha512(data).digest()
        authorization = await self.auth.authorize_notify(
            tracing=b"", topic=topic, identifier=identifier, message_sha512=sha512,
            now=time.time(),
        )
        await self._send(
            serialize_s2b_notify(
                S2B_NotifyUncompressed(
                    type=S2B.NOTIFY,
                    authorization=authorization,
                    tracing=b"",
                    identifier=identifier,
                    compressor_id=None,
                    topic=topic,
                    verified_uncompressed_sha512=sha512,
                    uncompressed_message=data,
                ),
                minimal_headers=True,
            )
        )
        await self._confirm_notify(identifier, topic, sha512, "NOTIFY")

    async def _notify_stream(self, topic: bytes, data: bytes, first: int) -> None:
        identifier = secrets.token_bytes(4)
        sha512 = hashlib.sha512(data).digest()

        async def authorization() -> Optional[str]:
            # every part carries its own authorization over the first part's fields
            return await self.auth.authorize_notify(
                tracing=b"", topic=topic, identifier=identifier, message_sha512=sha512,
                now=time.time(),
            )

        await self._send(
            serialize_s2b_notify_stream(
                S2B_NotifyStreamStartUncompressed(
                    type=S2B.NOTIFY_STREAM,
                    authorization=await authorization(),
                    tracing=b"",
                    identifier=identifier,
                    part_id=None,
                    topic=topic,
                    compressor_id=None,
                    uncompressed_length=len(data),
                    unverified_uncompressed_sha512=sha512,
                    payload=data[:first],
                ),
                minimal_headers=True,
            )
        )
        cont = await self._recv(B2S.CONTINUE_NOTIFY, "NOTIFY_STREAM part 0")
        if cont.identifier != identifier or cont.part_id != 0:
            same = "this" if cont.identifier == identifier else "another"
            raise WsProbeFailure(
                f"CONTINUE_NOTIFY for part {cont.part_id} of {same} stream, expected part 0 "
                "of this one"
            )
        result = await self.auth.is_stateful_continue_notify_allowed(message=cont, now=time.time())
        self._ok(result, "CONTINUE_NOTIFY", cont.authorization)
        await self._send(
            serialize_s2b_notify_stream(
                S2B_NotifyStreamContinuation(
                    type=S2B.NOTIFY_STREAM,
                    authorization=await authorization(),
                    tracing=b"",
                    identifier=identifier,
                    part_id=1,
                    payload=data[first:],
                ),
                minimal_headers=True,
            )
        )
        await self._confirm_notify(identifier, topic, sha512, "NOTIFY_STREAM")
