"""stock_service as scan_service sees it: the calls of docs/internal-api.md, nothing else."""
from __future__ import annotations

import uuid
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

    def allocate_orders(self, orders: list[dict[str, Any]], *, plan: bool = False) -> Any:
        """A basket's orders in one call, all or none; with `plan`, their pick plan in the answer.

        The key names this attempt, not the set of orders: an attempt that failed released its
        orders, and the next one must hold them again, not be answered the first one's stored
        reply. A repeat of the same orders is harmless anyway (stock answers it by order number).
        """
        body = {"orders": orders, "plan": plan}
        return self._post("/internal/allocations/batch", body, f"alloc-batch:{uuid.uuid4().hex}")

    def items(self, skus: list[str]) -> dict[str, dict[str, Any]]:
        """Name, picture and barcodes of the SKUs stock knows among these, by SKU, in one call."""
        answer = self._post("/internal/items", {"skus": skus}, f"items:{uuid.uuid4().hex}")
        return {item["sku"]: item for item in answer["items"]}

    def release(self, order_no: str) -> Any:
        return self._post(f"/internal/allocations/{order_no}/release", {}, f"release:{order_no}")

    def intercept(self, order_no: str, basket: str, lines: list[dict[str, Any]]) -> Any:
        body = {"order_no": order_no, "basket": basket, "lines": lines}
        return self._post("/internal/intercepts", body, f"intercept:{order_no}")

    def move_to_basket(self, reference: str, basket: str, lines: list[dict[str, Any]]) -> Any:
        return self._post("/internal/picks", {"reference": reference, "basket": basket, "lines": lines}, reference)

    def ship(self, order_no: str, basket: str | None, lines: list[dict[str, Any]]) -> Any:
        return self._post("/internal/shipments", {"order_no": order_no, "basket": basket, "lines": lines}, order_no)

    def take_back(self, reference: str, order_no: str, lines: list[dict[str, Any]], condition: str) -> Any:
        body = {"reference": reference, "order_no": order_no, "lines": lines, "condition": condition}
        return self._post("/internal/returns", body, reference)

    def open_count(self, location: str, key: str) -> Any:
        return self._post("/counts", {"locations": [location]}, key)

    def lookup(self, code: str) -> dict[str, Any] | None:
        """The item a barcode belongs to, or None for a code stock does not know."""
        try:
            return self.client.request("GET", "/api/stock/items/lookup", self.actor, params={"code": code})
        except ServiceError as exc:
            if exc.status == 404:
                return None
            raise
