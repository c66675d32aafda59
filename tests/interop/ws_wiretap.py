"""What the official websocket client puts on the wire and takes off it.

lonelypsc 0.0.17 does not tell its application which compressor a message
used, so the zstd scenario reads the frames themselves: `install()` wraps
aiohttp's `ClientWebSocketResponse.send_bytes` and `receive` (process-wide)
and keeps, per websocket, a summary of every binary frame in wire order,
parsed with lonelypsp's own parsers. Payloads are not kept. A frame that does
not parse is recorded as such and handed on unchanged: the client decides what
to do about it.
"""

import io
import itertools
import weakref
from dataclasses import dataclass
from typing import Any, List, Optional

import aiohttp
from lonelypsp.stateful.constants import BroadcasterToSubscriberStatefulMessageType as B2S
from lonelypsp.stateful.constants import SubscriberToBroadcasterStatefulMessageType as S2B
from lonelypsp.stateful.parser import B2S_AnyMessageParser, S2B_AnyMessageParser
from lonelypsp.stateful.parser_helpers import parse_b2s_message_prefix, parse_s2b_message_prefix


@dataclass(frozen=True)
class Frame:
    """One binary frame, summarized"""

    seq: int
    """position in the process-wide wire order"""
    sent: bool
    """sent by the client (S2B), else received (B2S)"""
    kind: str
    """the message type's name (e.g. NOTIFY_STREAM), or UNPARSABLE"""
    identifier: Any = None
    """bytes for NOTIFY*/RECEIVE_STREAM/acks, the compressor id (int) for ENABLE/DISABLE_ZSTD_*"""
    part: Optional[int] = None
    """part id of a stream continuation; None for a stream's first part"""
    topic: Optional[bytes] = None
    compressor: Optional[int] = None
    """first part of NOTIFY/NOTIFY_STREAM/RECEIVE_STREAM: compressor id, 0 = none"""
    length: Optional[int] = None
    """first part: the message's (decompressed) length; ENABLE_*: min size"""
    max_size: Optional[int] = None
    """ENABLE_ZSTD_*: max size (None for 2**64 - 1)"""
    level: Optional[int] = None
    """ENABLE_ZSTD_*: compression level"""
    wire: int = 0
    """bytes of the frame"""
    error: str = ""


NO_MAX = 2**64 - 1

_seq = itertools.count()
_frames: "weakref.WeakKeyDictionary[aiohttp.ClientWebSocketResponse, List[Frame]]" = (
    weakref.WeakKeyDictionary()
)
_installed = False


def install() -> None:
    """Starts recording every client websocket of this process (idempotent)"""
    global _installed
    if _installed:
        return
    _installed = True
    cls = aiohttp.ClientWebSocketResponse
    original_send = cls.send_bytes
    original_receive = cls.receive

    async def send_bytes(self: Any, data: bytes, compress: Optional[int] = None) -> None:
        _record(self, bytes(data), sent=True)
        await original_send(self, data, compress)

    async def receive(self: Any, timeout: Optional[float] = None) -> Any:
        msg = await original_receive(self, timeout)
        if msg.type == aiohttp.WSMsgType.BINARY:
            _record(self, msg.data, sent=False)
        return msg

    cls.send_bytes = send_bytes  # type: ignore[method-assign]
    cls.receive = receive  # type: ignore[method-assign]


def frames(websocket: Any) -> List[Frame]:
    """Every frame recorded on `websocket` so far (the live list)"""
    return _frames.setdefault(websocket, [])


def _record(websocket: Any, data: bytes, *, sent: bool) -> None:
    try:
        frame = _summary(data, sent)
    except Exception as exc:
        frame = Frame(next(_seq), sent, "UNPARSABLE", wire=len(data), error=repr(exc)[:200])
    frames(websocket).append(frame)


def _summary(data: bytes, sent: bool) -> Frame:
    stream = io.BytesIO(data)
    message: Any
    if sent:
        prefix = parse_s2b_message_prefix(stream)
        message = S2B_AnyMessageParser.parse(prefix.flags, prefix.type, stream)
        kind = S2B(prefix.type).name
    else:
        prefix = parse_b2s_message_prefix(stream)
        message = B2S_AnyMessageParser.parse(prefix.flags, prefix.type, stream)
        kind = B2S(prefix.type).name
    seq = next(_seq)
    if kind in ("ENABLE_ZSTD_PRESET", "ENABLE_ZSTD_CUSTOM"):
        return Frame(
            seq, sent, kind,
            identifier=message.identifier,
            length=message.min_size,
            max_size=None if message.max_size == NO_MAX else message.max_size,
            level=message.compression_level,
            wire=len(data),
        )
    if kind == "DISABLE_ZSTD_CUSTOM":
        return Frame(seq, sent, kind, identifier=message.identifier, wire=len(data))
    if kind in ("NOTIFY", "NOTIFY_STREAM", "RECEIVE_STREAM"):
        part = getattr(message, "part_id", None)
        if kind != "NOTIFY" and part is not None:
            return Frame(seq, sent, kind, identifier=message.identifier, part=part, wire=len(data))
        compressor = message.compressor_id or 0
        if compressor:
            length = message.decompressed_length
        elif kind == "NOTIFY":
            length = len(message.uncompressed_message)
        else:
            length = message.uncompressed_length
        return Frame(
            seq, sent, kind,
            identifier=message.identifier,
            topic=message.topic,
            compressor=compressor,
            length=length,
            wire=len(data),
        )
    return Frame(seq, sent, kind, identifier=getattr(message, "identifier", None), wire=len(data))
