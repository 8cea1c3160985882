"""What every scan_service handler needs: the stock client as the caller, jobs after commit."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import after_this_request, current_app, request

from common import i18n, redis
from common.auth import current
from common.http import ServiceClient
from scan_service import jobs
from scan_service.domain.stock import Stock


def stock() -> Stock:
    """stock_service, called as the operator of this request."""
    client = current_app.extensions.get("stock_client")
    if client is None:
        settings = current_app.config["SETTINGS"]
        client = ServiceClient(settings.service_urls["stock"], internal_token=settings.internal_token,
                               identity_secret=settings.identity_secret, timeout=settings.http_timeout_seconds)
        current_app.extensions["stock_client"] = client
    return Stock(client, current())


def timezone() -> str:
    return current_app.config["SETTINGS"].timezone


def message(code: str) -> str:
    return i18n.message(code, current().lang or i18n.DEFAULT_LANGUAGE)


def idempotency_key() -> str | None:
    return request.headers.get("Idempotency-Key") or None


def after_commit(action: Callable[[], Any]) -> None:
    """Run `action` once the response is built, i.e. after the request's transaction committed.

    A failed request (status ≥ 400) rolled back, so the action is skipped.
    """

    @after_this_request
    def _run(response):  # type: ignore[no-untyped-def]
        if response.status_code < 400 and response.headers.get("Idempotent-Replayed") != "true":
            try:
                action()
            except Exception:  # noqa: BLE001 - the outbox row stays pending; the re-drive sends it
                current_app.logger.exception("could not enqueue after commit")
        return response


def enqueue_shipments(outbox_ids: list[int]) -> None:
    connection = redis.client()
    after_commit(lambda: [jobs.enqueue_shipment(connection, outbox_id) for outbox_id in outbox_ids])
