"""A tracing root for lonelypsc that records nothing.

lonelypsc's HTTP config requires a `StatelessTracingSubscriberRoot`; the only
implementation it ships needs a tracing database. Every stage of the notify
tracing protocol is answered by the same object, which sends empty tracing
bytes (what the client itself sends on every other request).
"""

from contextlib import contextmanager
from typing import Iterator

from lonelypsp.tracing.shared.tracing_and_followup import TracingAndFollowup


class NoopNotifyTracer:
    """Implements every stage of lonelypsp's stateless notify tracing protocol."""

    def on_start_without_hash(
        self, /, *, topic: bytes, length: int, filelike: bool
    ) -> "NoopNotifyTracer":
        return self

    def on_start_with_hash(
        self, /, *, topic: bytes, length: int, filelike: bool
    ) -> "NoopNotifyTracer":
        return self

    def on_hashed(self) -> "NoopNotifyTracer":
        return self

    def on_sending_request(
        self, /, *, broadcaster: str, identifier: bytes
    ) -> TracingAndFollowup["NoopNotifyTracer"]:
        return TracingAndFollowup(tracing=b"", followup=self)

    def on_network_error(self) -> "NoopNotifyTracer":
        return self

    def on_response_received(self, /, *, status_code: int) -> "NoopNotifyTracer":
        return self

    def on_bad_response(self) -> "NoopNotifyTracer":
        return self

    def on_bad_auth_result(self, /, *, result: object) -> "NoopNotifyTracer":
        return self

    def on_response_notify_accepted(self, /, *, tracing: bytes, num_subscribers: int) -> None:
        return None

    def on_retry_prevented(self) -> None:
        return None

    def on_retries_exhausted(self) -> None:
        return None

    def on_waiting_to_retry(self) -> "NoopNotifyTracer":
        return self

    def on_retrying(self) -> "NoopNotifyTracer":
        return self


class NoopTracingRoot:
    """The `tracing` argument for `make_http_pub_sub_config`."""

    @contextmanager
    def notify(self, initializer: object, /) -> Iterator[NoopNotifyTracer]:
        yield NoopNotifyTracer()
