"""Shared HTTP layer: one session per source, timeouts, retries with backoff that honour
`Retry-After`, bounded total wait, and errors that name the source, the endpoint and the fix
without ever showing a secret."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from ingestion.payloads import UTF8, as_utf8, encoding_of

TRANSIENT_STATUS = {429, 500, 502, 503, 504}
DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read (seconds)


class SourceError(RuntimeError):
    """A permanent failure: retrying will not help; the message says what to fix."""


class TransientError(RuntimeError):
    """A failure worth retrying (connection, timeout, 429, 5xx, truncated body)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


FIXES = {
    401: "the credentials were rejected: check {secrets}",
    403: "the account lacks permission for this endpoint: grant it or use another token",
    404: "the endpoint or object does not exist: check {base} and the ids in the settings",
}


@dataclass(frozen=True)
class RejectedBody:
    """A response body that is not JSON, to be landed as a rejected page of `entity` (for
    forensics) before the request is retried."""

    entity: str
    body: bytes
    request: dict[str, Any]
    records_path: str | None
    extra: dict[str, Any] | None
    error: str


@dataclass(frozen=True)
class _JsonBody:
    """How to treat a body that should be JSON: the entity, list key and extra keys to land it
    under when it is not, and the request's parameters that may be written down."""

    entity: str | None
    records_path: str | None
    extra: dict | None
    public_params: dict


@dataclass
class HttpClient:
    """Requests for one source, with counters for asset metadata. `on_rejected` lands the
    bodies that are not JSON (the landing runner sets it)."""

    source: str
    base_url: str
    secret_names: str
    timeout: tuple[float, float] | None = None
    max_attempts: int = 6
    max_wait_s: float = 120.0
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("saypro.http"))
    session: requests.Session = field(default_factory=requests.Session)
    retries: int = 0
    requests: int = 0
    on_rejected: Callable[[RejectedBody], None] | None = None

    def __post_init__(self) -> None:
        # Proxy variables (and NO_PROXY) and the CA bundle are read from the environment once
        # per client: with `trust_env`, requests re-reads the whole environment and looks for a
        # .netrc on every call, which cost a fifth of a Moodle completion call's CPU.
        self.session.trust_env = False
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        if bundle := os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE"):
            self.session.verify = bundle

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        backoff = wait_exponential_jitter(multiplier=0.5, max=20)(state)
        if isinstance(error, TransientError) and error.retry_after is not None:
            return min(max(error.retry_after, 0.0), 60.0)
        return backoff

    def _before_sleep(self, state: RetryCallState) -> None:
        self.retries += 1
        error = state.outcome.exception() if state.outcome else None
        self.log.warning("%s: retry %d after: %s", self.source, state.attempt_number, error)

    def request_json(self, method: str, path: str, *, entity: str | None = None,
                     records_path: str | None = None, extra: dict | None = None,
                     public_params: dict | None = None, **kwargs: Any) -> tuple[Any, bytes]:
        """Send a request and return the parsed JSON body and its raw bytes.

        A body that does not parse is handed to `on_rejected` as a page of `entity` (so
        nothing is lost; not landed when `entity` is None) and the request is retried.
        `public_params` is what may be written to landing metadata (no secrets).
        """
        return self._request(method, path, kwargs,
                             _JsonBody(entity, records_path, extra, public_params or {}))

    def request_bytes(self, method: str, path: str, **kwargs: Any) -> bytes:
        """Send a request and return its body as received (CSV exports, files)."""
        return self._request(method, path, kwargs, None)[1]

    def _request(self, method: str, path: str, kwargs: dict[str, Any],
                 parse: _JsonBody | None) -> tuple[Any, bytes]:
        url = path if path.startswith("http") else self.base_url.rstrip("/") + path
        endpoint = urlsplit(url).path
        retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_after_attempt(self.max_attempts) | stop_after_delay(self.max_wait_s),
            wait=self._wait, before_sleep=self._before_sleep, reraise=True,
        )
        try:
            return retrying(self._once, method, url, endpoint, parse, kwargs)
        except TransientError as exc:
            raise SourceError(
                f"{self.source}: {endpoint} still failing after {self.retries} retries "
                f"({exc}). The service may be down or rate limiting: re-run later; landed "
                "pages and cursors are kept, so the next run resumes where this one stopped."
            ) from exc

    def _once(self, method: str, url: str, endpoint: str,
              parse: _JsonBody | None, kwargs: dict[str, Any]) -> tuple[Any, bytes]:
        self.requests += 1
        try:
            response = self.session.request(method, url, timeout=self.timeout or DEFAULT_TIMEOUT,
                                            **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(f"{type(exc).__name__} at {endpoint}") from None
        if response.status_code in TRANSIENT_STATUS:
            retry_after = response.headers.get("Retry-After")
            raise TransientError(
                f"HTTP {response.status_code} at {endpoint}",
                float(retry_after) if retry_after and retry_after.isdigit() else None)
        if response.status_code >= 400:
            fix = FIXES.get(response.status_code, "check the request settings").format(
                secrets=self.secret_names, base=self.base_url)
            raise SourceError(f"{self.source}: HTTP {response.status_code} at {endpoint}: {fix}.")
        body = response.content
        if parse is None:
            return None, body
        try:
            doc = _parse(body)
        except orjson.JSONDecodeError as exc:
            if parse.entity is not None and self.on_rejected is not None:
                self.on_rejected(RejectedBody(
                    parse.entity, body, {"method": method, "endpoint": endpoint,
                                         "params": parse.public_params},
                    parse.records_path, parse.extra, f"invalid JSON: {exc}"))
            raise TransientError(f"invalid JSON body at {endpoint} ({exc})") from None
        return doc, body


def _parse(body: bytes) -> Any:
    """The JSON of a body; one that is not UTF-8 (or starts with a byte-order mark) is read
    as `ingestion.payloads` reads it, and lands as sent with its encoding in the metadata."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        encoding = encoding_of(body)
        if encoding == UTF8:
            raise
        return orjson.loads(as_utf8(body, encoding))
