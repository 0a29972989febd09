"""Shared HTTP layer: one session per source, timeouts, retries with backoff that honour
`Retry-After`, bounded total wait, and errors that name the source, the endpoint and the fix
without ever showing a secret.

A connector configures its source's `requests.Session` (headers, a user and password pair in
`auth`; proxies and the CA bundle come from the environment); the calls themselves go through
urllib3's connection pools, which requests uses underneath, with what the session holds.
requests' own per-call work (preparing, merging settings, cookie jars, hooks) was about two
thirds of a Moodle completion call's CPU, and Moodle makes one call per student."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson
import requests
import urllib3
from requests.auth import _basic_auth_str
from requests.utils import DEFAULT_CA_BUNDLE_PATH, select_proxy
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    stop_any,
    wait_exponential_jitter,
)

from ingestion.payloads import UTF8, as_utf8, encoding_of

TRANSIENT_STATUS = frozenset({408, 429, *range(500, 600)})
"""Statuses worth retrying (DESIGN.md section 5: 429 and any 5xx; 408 is a timeout)."""
DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read (seconds)
POOL_SIZE = 10  # connections kept per host, as requests keeps them (Moodle runs 8 workers)
NO_RETRIES = urllib3.Retry(total=None, connect=0, read=False, status=0, other=0, redirect=30)
"""urllib3 retries nothing (retries are this layer's, below) and follows up to 30 redirects,
as requests does; it drops `Authorization` when a redirect leaves the host."""


class SourceError(RuntimeError):
    """A permanent failure: retrying will not help; the message says what to fix. `status` is
    the HTTP status when the server answered with an error one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RetriesExhaustedError(SourceError):
    """Transient failures went on past the retry budget: the service may be back later, so
    the orchestrator may run the pull again (every other SourceError is final)."""


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
    _pools: dict[str | None, urllib3.PoolManager] = field(default_factory=dict, repr=False)

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
            return error.retry_after
        return backoff

    def _asked_past_budget(self, state: RetryCallState) -> bool:
        """The server asks for a wait (Retry-After) that would end past max_wait_s: stop now,
        since asking earlier than it says would not be honouring it."""
        error = state.outcome.exception() if state.outcome else None
        return (isinstance(error, TransientError) and error.retry_after is not None
                and (state.seconds_since_start or 0.0) + error.retry_after > self.max_wait_s)

    def _before_sleep(self, state: RetryCallState) -> None:
        self.retries += 1
        error = state.outcome.exception() if state.outcome else None
        self.log.warning("%s: retry %d after: %s", self.source, state.attempt_number, error)

    def request_json(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                     data: Mapping[str, Any] | None = None, entity: str | None = None,
                     records_path: str | None = None, extra: dict | None = None,
                     public_params: dict | None = None) -> tuple[Any, bytes]:
        """Send a request (`params` in the query string, `data` as a form body) and return
        the parsed JSON body and its raw bytes.

        A body that does not parse is handed to `on_rejected` as a page of `entity` (so
        nothing is lost; not landed when `entity` is None) and the request is retried.
        `public_params` is what may be written to landing metadata (no secrets).
        """
        return self._request(method, path, params, data,
                             _JsonBody(entity, records_path, extra, public_params or {}))

    def request_bytes(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                      data: Mapping[str, Any] | None = None) -> bytes:
        """Send a request and return its body as received (CSV exports, files)."""
        return self._request(method, path, params, data, None)[1]

    def _request(self, method: str, path: str, params: Mapping[str, Any] | None,
                 data: Mapping[str, Any] | None, parse: _JsonBody | None) -> tuple[Any, bytes]:
        url = path if path.startswith("http") else self.base_url.rstrip("/") + path
        endpoint = urlsplit(url).path
        if params:
            url += ("&" if urlsplit(url).query else "?") + _form(params)
        body = None if data is None else _form(data).encode()
        retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=(stop_after_attempt(self.max_attempts) | stop_after_delay(self.max_wait_s)
                  | stop_any(self._asked_past_budget)),
            wait=self._wait, before_sleep=self._before_sleep, reraise=True,
        )
        try:
            return retrying(self._once, method, url, endpoint, body, parse)
        except TransientError as exc:
            raise RetriesExhaustedError(
                f"{self.source}: {endpoint} still failing after {self.retries} retries "
                f"({exc}). The service may be down or rate limiting: re-run later; landed "
                "pages and cursors are kept, so the next run resumes where this one stopped."
            ) from exc

    def _pool(self, url: str) -> urllib3.PoolManager:
        """The connection pools for `url`'s proxy (or none), made on first use with the
        session's CA bundle (requests' default bundle unless the session says otherwise)."""
        proxy = select_proxy(url, self.session.proxies)
        if (pool := self._pools.get(proxy)) is None:
            verify = self.session.verify
            tls: dict[str, Any] = (
                {"cert_reqs": "CERT_NONE"} if verify is False else
                {"cert_reqs": "CERT_REQUIRED",
                 "ca_certs": verify if isinstance(verify, str) else DEFAULT_CA_BUNDLE_PATH})
            pool = (urllib3.PoolManager(num_pools=POOL_SIZE, maxsize=POOL_SIZE, **tls)
                    if proxy is None else
                    urllib3.proxy_from_url(proxy, num_pools=POOL_SIZE, maxsize=POOL_SIZE,
                                           proxy_headers=requests.adapters.HTTPAdapter()
                                           .proxy_headers(proxy), **tls))
            self._pools[proxy] = pool
        return pool

    def _headers(self, body: bytes | None) -> dict[str, str]:
        """The session's headers, its (user, password) as basic authentication, and the form
        body's content type."""
        headers = dict(self.session.headers)
        if self.session.auth is not None:
            if not isinstance(self.session.auth, tuple):
                raise TypeError(f"{self.source}: session.auth must be a (user, password) pair; "
                                "set other authentication as a header")
            headers["Authorization"] = _basic_auth_str(*self.session.auth)
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return headers

    def _once(self, method: str, url: str, endpoint: str, body: bytes | None,
              parse: _JsonBody | None) -> tuple[Any, bytes]:
        self.requests += 1
        connect, read = self.timeout or DEFAULT_TIMEOUT
        try:
            response = self._pool(url).urlopen(
                method, url, body=body, headers=self._headers(body), retries=NO_RETRIES,
                timeout=urllib3.Timeout(connect=connect, read=read), preload_content=True,
                decode_content=True)
        except urllib3.exceptions.LocationValueError:
            raise
        except urllib3.exceptions.HTTPError as exc:  # connection, timeout, cut body, TLS
            cause = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) else exc
            raise TransientError(f"{type(cause).__name__} at {endpoint}") from None
        status = response.status
        if status in TRANSIENT_STATUS:
            retry_after = response.headers.get("Retry-After")
            raise TransientError(f"HTTP {status} at {endpoint}", _seconds(retry_after))
        if status >= 400:
            fix = FIXES.get(status, "check the request settings").format(
                secrets=self.secret_names, base=self.base_url)
            raise SourceError(f"{self.source}: HTTP {status} at {endpoint}: {fix}.", status)
        body = response.data
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


def _seconds(retry_after: str | None) -> float | None:
    """Retry-After as seconds to wait: delay-seconds (a fraction too) or an HTTP date; None
    when absent or unreadable (the exponential backoff then applies)."""
    if not retry_after:
        return None
    try:
        return max(float(retry_after), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(retry_after)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


def _form(values: Mapping[str, Any]) -> str:
    """Parameters URL-encoded as requests encodes them: a list gives one pair per item, and
    None leaves the name out."""
    return urlencode([(name, item) for name, value in values.items()
                      for item in (value if isinstance(value, (list, tuple)) else [value])
                      if item is not None])


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
