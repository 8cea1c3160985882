"""The internal client: one pooled session per process, timeouts, retries only where safe.

It forwards the request id and signs the caller's identity, so the service called sees who is
acting. POSTs are retried only when they carry an Idempotency-Key, which makes a repeat harmless.
"""
from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from common import auth, observability
from common.errors import AppError, ServiceUnavailableError
from common.jsonutil import dumps, loads

# Safe for any request: a connection that could not be made carried nothing.
CONNECT_ONLY = Retry(total=2, connect=2, read=0, status=0, other=0, backoff_factor=0.05, raise_on_status=False)
# For requests whose repeat is harmless: reads, and writes that carry an Idempotency-Key.
REPEATABLE = Retry(total=3, connect=3, read=2, backoff_factor=0.2, status_forcelist=(502, 503, 504),
                   allowed_methods=None, raise_on_status=False)


def pooled_session(pool_size: int = 20, retry: Retry = CONNECT_ONLY) -> requests.Session:
    """A keep-alive session with a connection pool of `pool_size`."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class ServiceError(AppError):
    """The other service answered with an error: its code and status are passed on."""


class ServiceClient:
    """Calls one sibling service as the given identity."""

    def __init__(self, base_url: str, *, internal_token: str, identity_secret: str, timeout: float = 5.0,
                 session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.internal_token = internal_token
        self.identity_secret = identity_secret
        self.timeout = timeout
        self.repeatable = session or pooled_session(retry=REPEATABLE)
        self.once = pooled_session(retry=CONNECT_ONLY)

    def request(self, method: str, path: str, identity: auth.Identity, *, json: Any = None,
                idempotency_key: str | None = None, params: dict[str, Any] | None = None) -> Any:
        headers = {auth.TOKEN_HEADER: self.internal_token, "Content-Type": "application/json"}
        headers.update(auth.sign(identity, self.identity_secret))
        rid = observability.request_id()
        if rid:
            headers[observability.REQUEST_ID_HEADER] = rid
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        # A POST without a key must not be repeated by the transport: it could double an effect.
        session = self.once if method == "POST" and not idempotency_key else self.repeatable
        try:
            response = session.request(method, self.base_url + path, data=dumps(json) if json is not None else None,
                                       headers=headers, params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ServiceUnavailableError(details={"service": self.base_url, "reason": type(exc).__name__}) from exc
        return _result(response)


def _result(response: requests.Response) -> Any:
    try:
        body = loads(response.content) if response.content else None
    except ValueError:
        body = None
    if response.status_code >= 400:
        error = (body or {}).get("error", {}) if isinstance(body, dict) else {}
        if response.status_code >= 500 and not error:
            raise ServiceUnavailableError(details={"status": response.status_code})
        raise ServiceError(error.get("message"), code=error.get("code", "service_error"),
                           details=error.get("details", {}), status=response.status_code)
    return body
