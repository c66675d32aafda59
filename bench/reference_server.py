"""Benchmark entrypoint for the Python reference broadcaster (lonelypss 0.0.11).

Builds the reference's Config with the values its own integration harness
(lonelypst gencluster) uses, plus the `tracing` argument that the generated
main.py forgets (docs/decisions.md#setup). Runs uvicorn in this
process (single worker, its default uvloop/httptools) and prints
`LISTENING <port>` once serving (`--port 0` picks a free port).

Written for lonelypss-ts's bench; no reference code is copied.

Websockets: `/v1/websocket` with the one SimpleFanoutWSReceiver whose
receiver url is http://127.0.0.1:<port>/v1/receive_for_websockets, the string
this broadcaster's own fan-out posts to and, as uvicorn rebuilds it from the
Host header, the request url the relay route compares against
(docs/protocol/http.md#receive-for-websockets): the two must be equal or every websocket
delivery is refused.

zstd on websockets: the reference announces id 1 (level 3, no dictionary) to a
client that asks, for messages of at least `compression_trained_max_size`
bytes (the harness's 16 KiB; `--compression-trained-max-size` lowers it, e.g.
to 32 so id 1 covers small messages too).

Usage: python reference_server.py --db :memory: [--hmac-s2b SECRET --hmac-b2s SECRET]
       [--ws-part-bytes N] [--outgoing-timeout-total S --outgoing-timeout-sock-read S]
       [--compression-trained-max-size N]
"""

import argparse
import asyncio
import contextlib
import socket
import sys

import aiohttp.payload
import uvicorn
from fastapi import FastAPI
from lonelypsp.auth.config import AuthConfigFromParts
from lonelypsp.auth.helpers.hmac_auth_config import (
    IncomingHmacAuthDBReentrantConfig,
    IncomingHmacAuthSqliteDBConfig,
    ToBroadcasterHmacAuth,
    ToSubscriberHmacAuth,
)
from lonelypsp.auth.helpers.none_auth_config import (
    ToBroadcasterNoneAuth,
    ToSubscriberNoneAuth,
)
from lonelypss.bknd.sweep_missed import sweep_missed
from lonelypss.config.config import (
    CompressionConfigFromParts,
    ConfigFromParts,
    GenericConfigFromValues,
    MissedRetryStandard,
    NotifySessionStandard,
    TracingConfigSimple,
)
from lonelypss.config.helpers.sqlite_db_config import SqliteDBConfig
from lonelypss.config.lifespan import setup_config, teardown_config
from lonelypss.middleware.config import ConfigMiddleware
from lonelypss.middleware.ws_receiver import WSReceiverMiddleware
from lonelypss.router import router as pubsub_router
from lonelypss.util.ws_receiver import SimpleFanoutWSReceiver


async def _write_file_payload_in_chunks(self, writer):  # type: ignore[no-untyped-def]
    # The reference's test harness replaces aiohttp's file-payload writer with
    # a plain 64 KiB read loop for spooled bodies; do the same so large
    # deliveries behave as they do in its own test runs.
    try:
        while True:
            chunk = self._value.read(65536)
            if not chunk:
                break
            await writer.write(chunk)
    finally:
        self._value.close()


aiohttp.payload.IOBasePayload.write = _write_file_payload_in_chunks  # type: ignore[method-assign]


def build_config(args: argparse.Namespace) -> ConfigFromParts:
    if args.hmac_s2b is not None and args.hmac_b2s is not None:
        replay = IncomingHmacAuthDBReentrantConfig(IncomingHmacAuthSqliteDBConfig(":memory:"))
        to_broadcaster = ToBroadcasterHmacAuth(secret=args.hmac_s2b, db_config=replay)
        to_subscriber = ToSubscriberHmacAuth(secret=args.hmac_b2s, db_config=replay)
    else:
        to_broadcaster = ToBroadcasterNoneAuth()
        to_subscriber = ToSubscriberNoneAuth()
    return ConfigFromParts(
        auth=AuthConfigFromParts(to_broadcaster=to_broadcaster, to_subscriber=to_subscriber),
        db=SqliteDBConfig(database=args.db),
        generic=GenericConfigFromValues(
            message_body_spool_size=10 * 1024 * 1024,
            outgoing_http_timeout_total=args.outgoing_timeout_total,
            outgoing_http_timeout_connect=None,
            outgoing_http_timeout_sock_read=args.outgoing_timeout_sock_read,
            outgoing_http_timeout_sock_connect=5,
            websocket_accept_timeout=2,
            websocket_max_pending_sends=255,
            websocket_max_unprocessed_receives=255,
            websocket_large_direct_send_timeout=0.3,
            websocket_send_max_unacknowledged=3,
            websocket_minimal_headers=True,
            sweep_missed_interval=10,
        ),
        missed=MissedRetryStandard(
            expo_factor=1, expo_base=2, expo_max=10, max_retries=20, constant=1, jitter=2
        ),
        tracing=TracingConfigSimple(),
        compression=CompressionConfigFromParts(
            compression_allowed=True,
            compression_dictionary_by_id=dict(),
            outgoing_max_ws_message_size=args.ws_part_bytes,
            allow_training=True,
            compression_min_size=32,
            compression_trained_max_size=args.compression_trained_max_size,
            compression_training_low_watermark=100 * 1024,
            compression_training_high_watermark=10 * 1024 * 1024,
            compression_retrain_interval_seconds=60 * 60 * 60,
            decompression_max_window_size=8 * 1024 * 1024,
        ),
        notify_session=NotifySessionStandard(),
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--db", default=":memory:")
    parser.add_argument("--hmac-s2b", default=None)
    parser.add_argument("--hmac-b2s", default=None)
    # The harness's timeouts (30 s total, 5 s between reads) for outgoing HTTP,
    # which includes the RECEIVE this broadcaster posts to its own websocket
    # relay route; a 1 GiB websocket delivery can need longer on a loaded
    # machine (see bench/README.md).
    parser.add_argument("--outgoing-timeout-total", type=float, default=30)
    parser.add_argument("--outgoing-timeout-sock-read", type=float, default=5)
    # Largest websocket message sent (RECEIVE_STREAM part incl. headers): the
    # harness's 3.5 MiB (the official client refuses frames over 4 MiB).
    parser.add_argument("--ws-part-bytes", type=int, default=3584 * 1024)
    # id 1 is used from this size up (and trained dictionaries below it).
    parser.add_argument("--compression-trained-max-size", type=int, default=16 * 1024)
    args = parser.parse_args()

    # Let uvicorn bind the port itself: with a pre-bound socket passed in
    # `sockets=`, accepted connections keep Nagle's algorithm on and every
    # response stalls ~40 ms on a delayed ACK (measured). So pick a free port
    # here, release it, and hand the number to uvicorn.
    port = args.port
    if port == 0:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((args.host, 0))
            port = probe.getsockname()[1]
    base = f"http://{args.host}:{port}"

    config = build_config(args)
    fanout = SimpleFanoutWSReceiver(
        receiver_url=f"{base}/v1/receive_for_websockets",
        recovery=f"{base}/v1/missed_for_websockets",
        db=config,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        await setup_config(config)
        try:
            async with fanout, sweep_missed(config):
                yield
        finally:
            await teardown_config(config)

    app = FastAPI(lifespan=lifespan)
    app.add_middleware(ConfigMiddleware, config=config)
    app.add_middleware(WSReceiverMiddleware, ws_receiver=fanout)
    app.include_router(pubsub_router)
    app.router.redirect_slashes = False

    # Access log off: it would only slow the reference down.
    server = uvicorn.Server(
        uvicorn.Config(
            app, host=args.host, port=port, log_level="warning", access_log=False, workers=1
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    if server.started:
        print(f"LISTENING {port}", flush=True)
    await serving


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
