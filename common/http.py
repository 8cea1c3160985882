"""Calls between services: one keep-alive pool per service, timeouts, retries only where safe.

Built on urllib3's connection pool rather than `requests`: a call on the scan path pays for no
cookie jar, no proxy lookup in the environment and no settings merge, which cost `requests` more
CPU than the HTTP exchange itself. `ServiceClient` forwards the request id and signs the caller's
identity, so the service called sees who is acting. POSTs are retried only when they carry an
Idempotency-Key, which makes a repeat harmless.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3
from urllib3.util.retry import Retry

from common import auth, observability
from common.errors import AppError, ServiceUnavailableError
from common.jsonutil import dumps, loads

# Safe for any request: a connection that could not be made carried nothing.
CONNECT_ONLY = Retry(total=2, connect=2, read=0, status=0, other=0, redirect=0, backoff_factor=0.05,
                     raise_on_status=False, raise_on_redirect=False)
# For requests whose repeat is harmless: reads, and writes that carry an Idempotency-Key.
REPEATABLE = Retry(total=3, connect=3, read=2, redirect=0, backoff_factor=0.2, status_forcelist=(502, 503, 504),
                   allowed_methods=None, raise_on_status=False, raise_on_redirect=False)


class Upstream:
    """A keep-alive pool to one service (`base_url` = scheme://host:port[/prefix]); `name` is what a 503 names."""

    def __init__(self, base_url: str, *, name: str, pool_size: int = 16, retry: Retry = CONNECT_ONLY,
                 timeout: float = 5.0):
        self.name = name
        parts = urlsplit(base_url)
        self.prefix = parts.path.rstrip("/")
        self.retry = retry
        self.timeout = timeout
        # block=False: a burst beyond the pool opens an extra connection instead of waiting for one.
        self.pool = urllib3.connection_from_url(f"{parts.scheme}://{parts.netloc}", maxsize=pool_size, block=False)

    def send(self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
             timeout: float | None = None, retry: Retry | None = None) -> urllib3.BaseHTTPResponse:
        """The whole answer, read; raises ServiceUnavailableError when the service could not answer."""
        seconds = timeout if timeout is not None else self.timeout
        try:
            return self.pool.urlopen(method, self.prefix + path, body=body, headers=headers,
                                     retries=retry or self.retry, redirect=False, assert_same_host=False,
                                     timeout=urllib3.Timeout(connect=seconds, read=seconds), preload_content=True)
        except urllib3.exceptions.HTTPError as exc:
            reason = type(getattr(exc, "reason", None) or exc).__name__
            raise ServiceUnavailableError(details={"service": self.name, "reason": reason}) from exc


class ServiceError(AppError):
    """The other service answered with an error: its code and status are passed on."""


class ServiceClient:
    """Calls one sibling service as the given identity."""

    def __init__(self, base_url: str, *, internal_token: str, identity_secret: str, timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self.internal_token = internal_token
        self.identity_secret = identity_secret
        self.upstream = Upstream(self.base_url, name=self.base_url, retry=REPEATABLE, timeout=timeout)

    def request(self, method: str, path: str, identity: auth.Identity, *, json: Any = None,
                idempotency_key: str | None = None, params: dict[str, Any] | None = None) -> Any:
        headers = {auth.TOKEN_HEADER: self.internal_token, "Content-Type": "application/json"}
        headers.update(auth.sign(identity, self.identity_secret))
        rid = observability.request_id()
        if rid:
            headers[observability.REQUEST_ID_HEADER] = rid
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if params:
            path = f"{path}?{urlencode(params, doseq=True)}"
        # A POST without a key must not be repeated by the transport: it could double an effect.
        retry = CONNECT_ONLY if method == "POST" and not idempotency_key else REPEATABLE
        response = self.upstream.send(method, path, body=dumps(json) if json is not None else None,
                                      headers=headers, retry=retry)
        return _result(response)


def _result(response: urllib3.BaseHTTPResponse) -> Any:
    try:
        body = loads(response.data) if response.data else None
    except ValueError:
        body = None
    if response.status >= 400:
        error = (body or {}).get("error", {}) if isinstance(body, dict) else {}
        if response.status >= 500 and not error:
            raise ServiceUnavailableError(details={"status": response.status})
        raise ServiceError(error.get("message"), code=error.get("code", "service_error"),
                           details=error.get("details", {}), status=response.status)
    return body
