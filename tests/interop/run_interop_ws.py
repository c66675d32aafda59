"""Interop suite, websocket half: the official websocket client (lonelypsc
0.0.17 `WebsocketPubSubClient`) against two lonelypss-ts broadcasters that
share one SQLite file.

Usage: python run_interop_ws.py [TB/TS ...] [--skip STEP,...] [--target ours|reference]
                                [--compression off|on]

TB is the to-broadcaster auth and TS the to-subscriber auth, each one of none,
token, hmac (default: all 9 combinations). Prints exactly one line per
combination:

    interop ws TB/TS: PASS
    interop ws TB/TS: FAIL: <step>: <reason>

and exits 1 if any combination failed. The steps are listed in ws_scenario.py.
`--compression on` runs the zstd scenario instead (ws_zstd_scenario.py: one
broadcaster with a preset and small training watermarks, clients with
compression on); its lines read "interop ws zstd TB/TS: ...".
`--target reference` runs the Python reference broadcaster instead (driver
validation only; see reference.py). Environment as for run_interop.py
(LONELYPSS_INTEROP_DENO, LONELYPSS_INTEROP_CLI, LONELYPSS_INTEROP_TRACEBACK).
Only 127.0.0.1 is ever contacted.
"""

import argparse
import asyncio
import os
import sys
import tempfile
import traceback
from typing import Any, List, Sequence, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from broadcaster import Broadcaster  # noqa: E402
from reference import ReferenceBroadcaster  # noqa: E402
from run_interop import AUTHS, COMBINATION_TIMEOUT, _reason  # noqa: E402
from scenario import InteropFailure  # noqa: E402
from ws_scenario import STEPS, WsScenario  # noqa: E402


def _combinations(args: List[str]) -> List[Tuple[str, str]]:
    if not args:
        return [(tb, ts) for tb in AUTHS for ts in AUTHS]
    result = []
    for arg in args:
        tb, _, ts = arg.partition("/")
        if tb not in AUTHS or ts not in AUTHS:
            raise SystemExit(f"Unknown combination: {arg} (expected e.g. hmac/token)")
        result.append((tb, ts))
    return result


async def _zstd_combination(tb: str, ts: str, skip: Sequence[str]) -> None:
    # imported here: it needs zstandard (checked in main)
    from ws_zstd_scenario import ZstdScenario, write_preset, zstd_config

    with tempfile.TemporaryDirectory(prefix=f"lonelypss-interop-zstd-{tb}-{ts}-") as workdir:
        b = Broadcaster(workdir, tb, ts, config=zstd_config())
        await b.setup()
        write_preset(workdir)
        async with b:
            try:
                await ZstdScenario(
                    b, os.path.join(workdir, "subscriber-secrets.json"), workdir, ts, skip=skip
                ).run()
            except Exception as exc:
                if not b.output_tail():
                    raise
                reason = f"{_reason(exc)} | broadcaster output: {b.output_tail()}"
                raise InteropFailure(reason) from exc


async def _combination(
    tb: str, ts: str, target: str, skip: Sequence[str], compression: bool
) -> None:
    if compression:
        return await _zstd_combination(tb, ts, skip)
    with tempfile.TemporaryDirectory(prefix=f"lonelypss-interop-ws-{tb}-{ts}-") as workdir:
        db = os.path.join(workdir, "shared.db")
        b1: Any
        b2: Any
        if target == "reference":
            b1 = ReferenceBroadcaster(workdir, tb, ts, db)
            b2 = ReferenceBroadcaster(workdir, tb, ts, db)
        else:
            # same directory, same config and secrets, one store: the SQLite
            # file, or the PostgreSQL database LONELYPSS_POSTGRES_URL names
            shared = [] if os.environ.get("LONELYPSS_POSTGRES_URL") else ["--db", db]
            b1 = Broadcaster(workdir, tb, ts, shared)
            b2 = Broadcaster(workdir, tb, ts, shared)
        await b1.setup()
        async with b1, b2:
            try:
                await WsScenario(
                    b1, b2, os.path.join(workdir, "subscriber-secrets.json"), workdir, ts,
                    skip=skip,
                ).run()
            except Exception as exc:
                tails = [
                    f"broadcaster {i} output: {b.output_tail()}"
                    for i, b in ((1, b1), (2, b2))
                    if b.output_tail()
                ]
                if not tails:
                    raise
                # the broadcasters' own explanation helps diagnose wire differences
                raise InteropFailure(f"{_reason(exc)} | {' | '.join(tails)}") from exc


async def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description="websocket half of the interop suite")
    parser.add_argument("combinations", nargs="*", metavar="TB/TS")
    parser.add_argument(
        "--skip", default="",
        help=f"comma-separated steps of {','.join(STEPS)} (with --compression on: "
        "announce,id1,preset,training)",
    )
    parser.add_argument("--target", choices=("ours", "reference"), default="ours")
    # "on": the zstd scenario (ws_zstd_scenario.py) instead of the plain one;
    # needs `zstandard` importable (pinned in requirements.txt)
    parser.add_argument("--compression", choices=("off", "on"), default="off")
    args = parser.parse_args(argv)
    compression = args.compression == "on"
    steps: Sequence[str] = STEPS
    if compression:
        try:
            import zstandard  # noqa: F401
        except ImportError:
            parser.error("--compression on needs the zstandard package in this python")
        if args.target != "ours":
            # the reference never trains (docs/decisions.md#training-for-real)
            # and its entrypoint takes no presets
            parser.error("--compression on runs against --target ours only")
        from ws_zstd_scenario import ZSTD_STEPS

        steps = ZSTD_STEPS
    skip = [s for s in args.skip.split(",") if s]
    unknown = set(skip) - set(steps)
    if unknown:
        parser.error(f"unknown steps {sorted(unknown)}; steps are {', '.join(steps)}")
    label = "interop ws zstd" if compression else "interop ws"
    failed = 0
    for tb, ts in _combinations(args.combinations):
        try:
            await asyncio.wait_for(
                _combination(tb, ts, args.target, skip, compression), COMBINATION_TIMEOUT
            )
            print(f"{label} {tb}/{ts}: PASS", flush=True)
        except Exception as exc:
            failed += 1
            detail = _reason(exc).replace("\n", " ⏎ ")
            print(f"{label} {tb}/{ts}: FAIL: {detail}", flush=True)
            if os.environ.get("LONELYPSS_INTEROP_TRACEBACK"):
                traceback.print_exception(exc, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
