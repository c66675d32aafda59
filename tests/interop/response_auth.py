"""Checks the authorization the broadcaster puts on its responses.

lonelypsc 0.0.17 ignores it on subscribe/unsubscribe/set_subscriptions
("TODO: check response auth") and never awaits its check_subscriptions check,
so a wrongly signed response would pass the scenario unnoticed. Here the same
requests are sent with the client's own `authorize_*` and each answer is
verified with the client's own `is_*_allowed` (lonelypsp's token/hmac code).
The subscriptions use a url nobody notifies, so nothing is ever sent to it.
"""

import time
from typing import Any, Awaitable, Callable, Optional

import aiohttp
from lonelypsp.auth.config import AuthResult
from lonelypsp.stateless.constants import BroadcasterToSubscriberStatelessMessageType as B2S
from lonelypsp.stateless.make_strong_etag import (
    GlobAndRecovery,
    StrongEtag,
    TopicAndRecovery,
    make_strong_etag,
)


class ResponseAuthFailure(Exception):
    """A response the official client's auth code rejects"""


def _lp16(data: bytes) -> bytes:
    return len(data).to_bytes(2, "big") + data


class _Reader:
    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.pos = 0
        self.what = what

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ResponseAuthFailure(f"{self.what}: body too short: {self.data[:80]!r}")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def lp16(self) -> bytes:
        return self.take(self.u(2))


class ResponseAuthProbe:
    """Sends raw requests signed by `config`, verifies the answers with `config`"""

    def __init__(self, config: Any, broadcaster_url: str, base: str) -> None:
        self.config = config
        self.broadcaster_url = broadcaster_url
        self.url = base + "/probe/v1/receive"
        self.recovery = base + "/probe/v1/recover"

    async def _post(
        self, session: aiohttp.ClientSession, path: str, body: bytes, auth: Optional[str]
    ) -> bytes:
        headers = {"Content-Type": "application/octet-stream"}
        if auth is not None:
            headers["Authorization"] = auth
        async with session.post(self.broadcaster_url + path, data=body, headers=headers) as r:
            answer = await r.read()
            if r.status != 200:
                raise ResponseAuthFailure(f"{path}: status {r.status}, body {answer[:200]!r}")
            return answer

    async def _generic(
        self,
        session: aiohttp.ClientSession,
        path: str,
        body: bytes,
        auth: Optional[str],
        verify: Callable[[bytes, Optional[str]], Awaitable[AuthResult]],
    ) -> None:
        r = _Reader(await self._post(session, path, body, auth), path)
        kind = r.u(2)
        if kind != int(B2S.RESPONSE_GENERIC):
            raise ResponseAuthFailure(f"{path}: response type {kind}, expected RESPONSE_GENERIC")
        authorization = r.lp16().decode("utf-8") or None
        tracing = r.lp16()
        result = await verify(tracing, authorization)
        if result != AuthResult.OK:
            raise ResponseAuthFailure(f"{path}: client rejects the response's authorization: "
                                      f"{result.name} (authorization {authorization!r})")

    def _etag(self, exact: "list[bytes]", globs: "list[str]") -> StrongEtag:
        return make_strong_etag(
            self.url,
            [TopicAndRecovery(t, self.recovery) for t in sorted(exact)],
            [GlobAndRecovery(g, self.recovery) for g in sorted(globs)],
            recheck_sort=False,
        )

    async def run(self) -> None:
        async with aiohttp.ClientSession() as session:
            await self._subscriptions(session, b"probe/\xfe", "probe/*")
            await self._check(session, [], [])
            await self._set(session, [b"probe/a", b"probe/b"], ["probe/?"])
            await self._check(session, [b"probe/a", b"probe/b"], ["probe/?"])
            await self._set(session, [], [])
            await self._check(session, [], [])

    async def _subscriptions(self, session: aiohttp.ClientSession, topic: bytes, glob: str) -> None:
        c, url, rec = self.config, self.url, self.recovery
        enc_url, enc_rec, enc_glob = url.encode(), rec.encode(), glob.encode()
        for recovery in (rec, None):  # subscribe, then unsubscribe
            verb = "subscribe" if recovery is not None else "unsubscribe"
            tail = _lp16(enc_rec) if recovery is not None else b""
            auth = await c.authorize_subscribe_exact(
                tracing=b"", url=url, recovery=recovery, exact=topic, now=time.time()
            )

            async def exact_ok(tracing: bytes, authorization: Optional[str]) -> AuthResult:
                return await c.is_confirm_subscribe_exact_allowed(
                    tracing=tracing, url=url, recovery=recovery, exact=topic, now=time.time(),
                    authorization=authorization,
                )

            body = _lp16(enc_url) + _lp16(topic) + tail + _lp16(b"")
            await self._generic(session, f"/v1/{verb}/exact", body, auth, exact_ok)
            auth = await c.authorize_subscribe_glob(
                tracing=b"", url=url, recovery=recovery, glob=glob, now=time.time()
            )

            async def glob_ok(tracing: bytes, authorization: Optional[str]) -> AuthResult:
                return await c.is_confirm_subscribe_glob_allowed(
                    tracing=tracing, url=url, recovery=recovery, glob=glob, now=time.time(),
                    authorization=authorization,
                )

            body = _lp16(enc_url) + _lp16(enc_glob) + tail + _lp16(b"")
            await self._generic(session, f"/v1/{verb}/glob", body, auth, glob_ok)
            if recovery is not None:
                # the unsubscribes below must find these: prove they exist first
                await self._check(session, [topic], [glob])

    async def _check(
        self, session: aiohttp.ClientSession, exact: "list[bytes]", globs: "list[str]"
    ) -> None:
        auth = await self.config.authorize_check_subscriptions(
            tracing=b"", url=self.url, now=time.time()
        )
        body = _lp16(b"") + _lp16(self.url.encode())
        path = "/v1/check_subscriptions"
        r = _Reader(await self._post(session, path, body, auth), path)
        kind = r.u(2)
        if kind != int(B2S.RESPONSE_CHECK_SUBSCRIPTIONS):
            raise ResponseAuthFailure(f"{path}: response type {kind}")
        authorization = r.lp16().decode("utf-8") or None
        tracing = r.lp16()
        etag = StrongEtag(format=r.u(1), etag=r.take(64))
        want = self._etag(exact, globs)
        if etag.format != want.format or etag.etag != want.etag:
            raise ResponseAuthFailure(f"{path}: etag differs from the client's for {exact} {globs}")
        result = await self.config.is_check_subscription_response_allowed(
            tracing=tracing, strong_etag=etag, authorization=authorization, now=time.time()
        )
        if result != AuthResult.OK:
            raise ResponseAuthFailure(f"{path}: client rejects the response's authorization: "
                                      f"{result.name} (authorization {authorization!r})")

    async def _set(
        self, session: aiohttp.ClientSession, exact: "list[bytes]", globs: "list[str]"
    ) -> None:
        etag = self._etag(exact, globs)
        auth = await self.config.authorize_set_subscriptions(
            tracing=b"", url=self.url, strong_etag=etag, now=time.time()
        )
        rec = _lp16(self.recovery.encode())
        body = _lp16(b"") + _lp16(self.url.encode()) + bytes([etag.format]) + etag.etag
        body += len(exact).to_bytes(4, "big") + b"".join(_lp16(t) + rec for t in sorted(exact))
        body += len(globs).to_bytes(4, "big")
        body += b"".join(_lp16(g.encode()) + rec for g in sorted(globs))

        async def set_ok(tracing: bytes, authorization: Optional[str]) -> AuthResult:
            return await self.config.is_set_subscription_response_allowed(
                tracing=tracing, strong_etag=etag, authorization=authorization, now=time.time()
            )

        await self._generic(session, "/v1/set_subscriptions", body, auth, set_ok)
