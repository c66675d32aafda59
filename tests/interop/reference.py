"""Runs the Python reference broadcaster (lonelypss 0.0.11) instead of ours.

Only for validating the websocket driver itself (`run_interop_ws.py --target
reference`); the committed suite always targets `cli.ts`. It starts
bench/reference_server.py with the python of a separate venv holding
bench/requirements-reference.txt (LONELYPSS_INTEROP_REF_PYTHON, default
.venv/ref/bin/python), on 127.0.0.1 with a free port. That entrypoint supports
auth none/none and hmac/hmac only; its missed sweeper runs every 10 s.
"""

import asyncio
import base64
import json
import os
import secrets
import signal
from typing import List, Optional

from broadcaster import BroadcasterError, _drain

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def _python() -> str:
    default = os.path.join(ROOT, ".venv", "ref", "bin", "python")
    return os.environ.get("LONELYPSS_INTEROP_REF_PYTHON", default)


class ReferenceBroadcaster:
    """One reference process; the same interface as `broadcaster.Broadcaster`"""

    def __init__(self, workdir: str, to_broadcaster: str, to_subscriber: str, db: str) -> None:
        if (to_broadcaster, to_subscriber) not in (("none", "none"), ("hmac", "hmac")):
            raise BroadcasterError(
                "the reference entrypoint supports auth none/none and hmac/hmac only"
            )
        self.workdir = workdir
        self.hmac = to_broadcaster == "hmac"
        self.db = db
        self.port = 0
        self._proc: Optional[asyncio.subprocess.Process] = None
        self._output: List[bytes] = []
        self._drains: List["asyncio.Task[None]"] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def _secrets_path(self) -> str:
        return os.path.join(self.workdir, "subscriber-secrets.json")

    def output_tail(self, lines: int = 15) -> str:
        return b"".join(self._output[-lines:]).decode("utf-8", "replace").strip()

    async def setup(self) -> None:
        """Writes subscriber-secrets.json (the client's view of the secrets)"""
        raw: dict = {"version": "2"}
        if self.hmac:
            for side in ("to-broadcaster", "to-subscriber"):
                secret = base64.urlsafe_b64encode(secrets.token_bytes(64)).decode().rstrip("=")
                raw[side] = {"type": "hmac", "secret": secret}
        with open(self._secrets_path, "w") as f:
            json.dump(raw, f)

    async def __aenter__(self) -> "ReferenceBroadcaster":
        script = os.path.join(ROOT, "bench", "reference_server.py")
        cmd = [_python(), script, "--host", "127.0.0.1", "--port", "0", "--db", self.db]
        if self.hmac:
            with open(self._secrets_path) as f:
                raw = json.load(f)
            # --name=value: a urlsafe-base64 secret may start with "-", which argparse would
            # take for an option in "--name value".
            cmd.append("--hmac-s2b=" + raw["to-broadcaster"]["secret"])
            cmd.append("--hmac-b2s=" + raw["to-subscriber"]["secret"])
        self._proc = await asyncio.create_subprocess_exec(
            *cmd,
            cwd=self.workdir,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self._proc.stdout is not None
        self._drains.append(asyncio.create_task(_drain(self._proc.stderr, self._output)))
        while True:
            line = await asyncio.wait_for(self._proc.stdout.readline(), 120)
            if not line:
                await self.__aexit__()
                raise BroadcasterError(f"reference exited: {self.output_tail()}")
            if line.startswith(b"LISTENING "):
                self.port = int(line.split()[1])
                break
        self._drains.append(asyncio.create_task(_drain(self._proc.stdout, self._output)))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
        await asyncio.gather(*self._drains, return_exceptions=True)
