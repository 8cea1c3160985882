"""stock_service as scan_service sees it: the calls of docs/internal-api.md, nothing else."""
from __future__ import annotations

import hashlib
from typing import Any

from common.auth import Identity
from common.http import ServiceClient, ServiceError


class Stock:
    """Calls stock_service on behalf of the operator at work; every POST carries an Idempotency-Key."""

    def __init__(self, client: ServiceClient, actor: Identity):
        self.client = client
        self.actor = actor

    def _post(self, path: str, body: dict[str, Any], key: str) -> Any:
        return self.client.request("POST", "/api/stock" + path, self.actor, json=body, idempotency_key=key)

    def allocate_orders(self, orders: list[dict[str, Any]]) -> Any:
        """A basket's orders in one call, all or none; the key names the set (each order repeats as alone)."""
        numbers = ",".join(sorted(order["order_no"] for order in orders))
        key = "alloc-batch:" + hashlib.sha256(numbers.encode()).hexdigest()
        return self._post("/internal/allocations/batch", {"orders": orders}, key)

    def release(self, order_no: str) -> Any:
        return self._post(f"/internal/allocations/{order_no}/release", {}, f"release:{order_no}")

    def intercept(self, order_no: str, basket: str, lines: list[dict[str, Any]]) -> Any:
        body = {"order_no": order_no, "basket": basket, "lines": lines}
        return self._post("/internal/intercepts", body, f"intercept:{order_no}")

    def pick_plan(self, lines: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
        return self._post("/internal/pick-plan", {"lines": lines}, key)["tasks"]

    def move_to_basket(self, reference: str, basket: str, lines: list[dict[str, Any]]) -> Any:
        return self._post("/internal/picks", {"reference": reference, "basket": basket, "lines": lines}, reference)

    def ship(self, order_no: str, basket: str | None, lines: list[dict[str, Any]]) -> Any:
        return self._post("/internal/shipments", {"order_no": order_no, "basket": basket, "lines": lines}, order_no)

    def take_back(self, reference: str, order_no: str, lines: list[dict[str, Any]], condition: str) -> Any:
        body = {"reference": reference, "order_no": order_no, "lines": lines, "condition": condition}
        return self._post("/internal/returns", body, reference)

    def open_count(self, location: str, key: str) -> Any:
        return self._post("/counts", {"locations": [location]}, key)

    def sku(self, sku: str) -> dict[str, Any] | None:
        """The SKU with its barcodes, or None when stock does not know it."""
        try:
            return self.client.request("GET", f"/api/stock/skus/{sku}", self.actor)
        except ServiceError as exc:
            if exc.status == 404:
                return None
            raise

    def lookup(self, code: str) -> dict[str, Any] | None:
        """The item a barcode belongs to, or None for a code stock does not know."""
        try:
            return self.client.request("GET", "/api/stock/items/lookup", self.actor, params={"code": code})
        except ServiceError as exc:
            if exc.status == 404:
                return None
            raise
