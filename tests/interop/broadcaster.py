"""Runs OUR broadcaster (lonelypss-ts `cli.ts`) as a child process.

`setup` writes the secrets and config into a fresh directory, `serve` is then
started from that directory on 127.0.0.1 with port 0, and the port is read from
the banner line (CLI contract: the first stdout line).
"""

import asyncio
import json
import os
import re
import shlex
import signal
from typing import Any, Dict, List, Optional, Sequence

BANNER = re.compile(
    r"^lonelypss \S+ listening on http://127\.0\.0\.1:(\d+) \(db .*, auth (\w+)/(\w+)\)$"
)


class BroadcasterError(Exception):
    """The broadcaster could not be set up, started or stopped cleanly"""


def _deno_command() -> List[str]:
    # passed in by tests/interop_test.ts so the same deno runs the CLI as the tests
    return shlex.split(os.environ.get("LONELYPSS_INTEROP_DENO", "deno"))


def _cli_path() -> str:
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "cli.ts")
    return os.path.abspath(os.environ.get("LONELYPSS_INTEROP_CLI", default))


async def _drain(stream: Optional[asyncio.StreamReader], into: List[bytes]) -> None:
    # keeps the pipe from filling up; kept for failure reasons
    if stream is None:
        return
    while True:
        line = await stream.readline()
        if not line:
            return
        into.append(line)
        del into[:-200]


class Broadcaster:
    """One `cli.ts serve` process; use as an async context manager."""

    def __init__(
        self,
        workdir: str,
        to_broadcaster: str,
        to_subscriber: str,
        serve_args: Sequence[str] = (),
        config: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.workdir = workdir
        self.to_broadcaster = to_broadcaster
        self.to_subscriber = to_subscriber
        # e.g. ["--db", FILE]: two instances started in one work directory
        # (only the first runs `setup`) share one store
        self.serve_args = list(serve_args)
        # merged into lonelypss.json by `setup`, one top-level section at a
        # time (e.g. {"compression": {...}, "limits": {...}})
        self.config = dict(config or {})
        self.port = 0
        self._proc: Optional[asyncio.subprocess.Process] = None
        self._output: List[bytes] = []
        self._drains: List["asyncio.Task[None]"] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output_tail(self, lines: int = 15) -> str:
        """The last lines the broadcaster printed, for failure messages"""
        return b"".join(self._output[-lines:]).decode("utf-8", "replace").strip()

    async def setup(self) -> None:
        """Runs `cli.ts setup` in the work directory"""
        cmd = [
            *_deno_command(),
            "run",
            "-A",
            _cli_path(),
            "setup",
            "--to-broadcasters-auth",
            self.to_broadcaster,
            "--to-subscribers-auth",
            self.to_subscriber,
        ]
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            cwd=self.workdir,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 120)
        if proc.returncode != 0:
            text = out.decode("utf-8", "replace").strip()
            raise BroadcasterError(f"setup exited with {proc.returncode}: {text[-800:]}")
        if not os.path.exists(os.path.join(self.workdir, "subscriber-secrets.json")):
            raise BroadcasterError("setup did not write subscriber-secrets.json")
        # a missed message is retried at once and swept often, so the MISSED
        # probe takes milliseconds instead of the production default's seconds
        config_path = os.path.join(self.workdir, "lonelypss.json")
        try:
            with open(config_path) as f:
                config = json.load(f)
        except (OSError, ValueError) as exc:
            raise BroadcasterError(f"setup did not write a readable lonelypss.json: {exc}")
        config.setdefault("limits", {}).update(
            {
                "sweepIntervalMs": 100,
                "missedRetry": {"expoFactor": 0, "constantSeconds": 0, "jitterSeconds": 0},
            }
        )
        for section, values in self.config.items():
            if isinstance(values, dict) and isinstance(config.get(section), dict):
                config[section].update(values)
            else:
                config[section] = values
        with open(config_path, "w") as f:
            json.dump(config, f, indent=2)

    async def __aenter__(self) -> "Broadcaster":
        cmd = [*_deno_command(), "run", "-A", _cli_path(), "serve"]
        cmd += ["--host", "127.0.0.1", "--port", "0", "--log-level", "warn", *self.serve_args]
        self._proc = await asyncio.create_subprocess_exec(
            *cmd,
            cwd=self.workdir,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self._proc.stdout is not None
        try:
            banner = await asyncio.wait_for(self._proc.stdout.readline(), 120)
        except asyncio.TimeoutError:
            await self._stop()
            raise BroadcasterError("no banner line within 120 s")
        self._drains.append(asyncio.create_task(_drain(self._proc.stdout, self._output)))
        self._drains.append(asyncio.create_task(_drain(self._proc.stderr, self._output)))
        text = banner.decode("utf-8", "replace").rstrip("\n")
        match = BANNER.match(text)
        if match is None:
            await self._stop()
            raise BroadcasterError(f"unexpected banner {text!r}: {self.output_tail()}")
        auth = (match.group(2), match.group(3))
        if auth != (self.to_broadcaster, self.to_subscriber):
            await self._stop()
            raise BroadcasterError(f"banner reports auth {auth[0]}/{auth[1]}: {text!r}")
        self.port = int(match.group(1))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        code = await self._stop()
        if code != 0 and exc_info[0] is None:
            raise BroadcasterError(
                f"broadcaster exited with {code} after SIGTERM: {self.output_tail()}"
            )

    async def _stop(self) -> Optional[int]:
        proc = self._proc
        if proc is None:
            return None
        self._proc = None
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
                self._output.append(b"(killed: no exit within 30 s of SIGTERM)\n")
                return -9
        await asyncio.gather(*self._drains, return_exceptions=True)
        return proc.returncode
