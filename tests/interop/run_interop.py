"""Interop suite: the official Python client (lonelypsc) against lonelypss-ts.

Usage: python run_interop.py [TB/TS ...]   (default: all 9 combinations)

TB is the to-broadcaster auth and TS the to-subscriber auth, each one of
none, token, hmac. Prints exactly one line per combination:

    interop TB/TS: PASS
    interop TB/TS: FAIL: <reason>

and exits 1 if any combination failed. Environment: LONELYPSS_INTEROP_DENO is
the command that runs deno (default "deno"), LONELYPSS_INTEROP_CLI the path of
cli.ts (default ../../cli.ts). Only 127.0.0.1 is ever contacted.
"""

import asyncio
import os
import sys
import tempfile
import traceback
import warnings
from typing import List, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from broadcaster import Broadcaster, BroadcasterError  # noqa: E402
from scenario import InteropFailure, Scenario, describe  # noqa: E402

# lonelypsc 0.0.17 calls this coroutine without awaiting it (its result is never checked);
# the warning is the client's own bug and would drown the result lines
warnings.filterwarnings(
    "ignore", message=".*is_check_subscription_response_allowed.*", category=RuntimeWarning
)

AUTHS = ("none", "token", "hmac")
COMBINATION_TIMEOUT = 240.0


def _parse(args: List[str]) -> List[Tuple[str, str]]:
    if not args:
        return [(tb, ts) for tb in AUTHS for ts in AUTHS]
    result = []
    for arg in args:
        tb, _, ts = arg.partition("/")
        if tb not in AUTHS or ts not in AUTHS:
            raise SystemExit(f"Unknown combination: {arg} (expected e.g. hmac/token)")
        result.append((tb, ts))
    return result


def _reason(exc: BaseException) -> str:
    if isinstance(exc, (InteropFailure, BroadcasterError)):
        return str(exc)
    if isinstance(exc, asyncio.TimeoutError):
        return f"timed out after {COMBINATION_TIMEOUT:.0f} s"
    # client errors carry little text; name the type and where it surfaced
    frames = traceback.extract_tb(exc.__traceback__)
    here = os.path.dirname(os.path.abspath(__file__))
    where = next(
        (f"{os.path.basename(f.filename)}:{f.lineno}" for f in reversed(frames)
         if os.path.dirname(os.path.abspath(f.filename)) == here),
        "?",
    )
    return f"{describe(exc)} (at {where})".replace("\n", " ")


async def _combination(tb: str, ts: str) -> None:
    with tempfile.TemporaryDirectory(prefix=f"lonelypss-interop-{tb}-{ts}-") as workdir:
        broadcaster = Broadcaster(workdir, tb, ts)
        await broadcaster.setup()
        async with broadcaster:
            try:
                await Scenario(
                    broadcaster.url, os.path.join(workdir, "subscriber-secrets.json"), workdir
                ).run()
            except Exception as exc:
                tail = broadcaster.output_tail()
                if not tail:
                    raise
                # the broadcaster's own explanation helps diagnose wire differences
                raise InteropFailure(f"{_reason(exc)} | broadcaster output: {tail}") from exc


async def main(args: List[str]) -> int:
    failed = 0
    for tb, ts in _parse(args):
        try:
            await asyncio.wait_for(_combination(tb, ts), COMBINATION_TIMEOUT)
            print(f"interop {tb}/{ts}: PASS", flush=True)
        except Exception as exc:
            failed += 1
            detail = _reason(exc).replace("\n", " ⏎ ")
            print(f"interop {tb}/{ts}: FAIL: {detail}", flush=True)
            if os.environ.get("LONELYPSS_INTEROP_TRACEBACK"):
                traceback.print_exception(exc, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
