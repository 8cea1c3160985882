"""Tell a scan apart: item barcode (EAN/UPC, Code 128, GS1), waybill, bin, basket or badge.

`recognize(raw, expect=...)` never raises: whatever the scanner typed, the answer says what was
read (kind "unknown" with a reason when nothing fits). A digit string that is both a valid EAN
and a plausible waybill is decided by the step (`expect`), and both readings stay in `kinds`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import biip
from biip.gs1_messages import GS1Message

from codes import gtin as gtins
from codes.patterns import carrier_of, floor_labels

GS = "\x1d"
# Some scanners are configured to send another character in place of GS (ASCII 29); none of these
# is in the GS1 character set, so reading them as separators cannot split a real field.
SEPARATORS = (GS, "|", "^", "~")
AIM_PREFIX = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
AIM_NAMES = {
    "]C0": "code128", "]C1": "gs1-128", "]E0": "ean-13", "]E4": "ean-8", "]E3": "ean-13+addon",
    "]d1": "datamatrix", "]d2": "gs1-datamatrix", "]Q1": "qr", "]Q3": "gs1-qr", "]A0": "code39",
    "]I0": "itf", "]I1": "itf",
}
GS1_SYMBOLOGIES = frozenset({"]C1", "]d2", "]Q3", "]e0"})
PARSE_CONFIG = biip.ParseConfig(separator_chars=SEPARATORS)
INTERNAL_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_./+]{1,63}")
MAX_LENGTH = 256


@dataclass
class Scan:
    """What a scanned string is."""

    raw: str
    kind: str = "unknown"  # item | waybill | bin | basket | badge | unknown
    value: str = ""
    symbology: str | None = None
    gtin: str | None = None
    lot: str | None = None
    expiry: str | None = None
    serial: str | None = None
    carrier: str | None = None
    kinds: list[str] = field(default_factory=list)
    reason: str | None = None

    def keys(self) -> set[str]:
        """Every string an item's barcode or SKU code may equal for this scan."""
        found = {self.value, self.value.upper()} if self.value else set()
        if self.gtin:
            found.add(self.gtin)
            if len(self.gtin) == 12:
                found.add("0" + self.gtin)
            if len(self.gtin) == 13 and self.gtin.startswith("0"):
                found.add(self.gtin[1:])
            found.add(self.gtin.rjust(14, "0"))
        return {k for k in found if k}

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "symbology": self.symbology, "gtin": self.gtin,
                "lot": self.lot, "expiry": self.expiry, "serial": self.serial, "carrier": self.carrier,
                "kinds": list(self.kinds)}


def recognize(raw: Any, expect: str | None = None) -> Scan:
    """Read one scan; `expect` ("item", "waybill", "bin", ...) breaks ties for ambiguous digits."""
    try:
        return _recognize(raw if isinstance(raw, str) else str(raw), expect)
    except Exception as exc:  # noqa: BLE001 - a scan must always get an answer, never a crash
        return Scan(raw=str(raw)[:MAX_LENGTH], reason=f"unreadable: {type(exc).__name__}")


def _recognize(raw: str, expect: str | None) -> Scan:
    text = raw.strip(" \t\r\n")
    if not text:
        return Scan(raw=raw, reason="empty")
    if len(text) > MAX_LENGTH:
        return Scan(raw=raw[:MAX_LENGTH], reason="too long")
    symbology = None
    match = AIM_PREFIX.match(text)
    if match:
        symbology, text = match.group(0), text[match.end():]
    if not text:
        return Scan(raw=raw, symbology=symbology, reason="empty")
    if symbology in GS1_SYMBOLOGIES or text.startswith("(") or (symbology is None and GS in text):
        return _gs1(raw, text, symbology)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return Scan(raw=raw, symbology=symbology, reason="control characters")
    upper = text.upper()
    for kind, pattern in floor_labels().items():
        if pattern.fullmatch(upper):
            return Scan(raw=raw, kind=kind, value=upper, symbology=symbology, kinds=[kind])
    if text.isdigit():
        return _digits(raw, text, symbology, expect)
    carrier = carrier_of(upper)
    if carrier is not None and not carrier.digits_only:
        return Scan(raw=raw, kind="waybill", value=upper, symbology=symbology, carrier=carrier.carrier,
                    kinds=["waybill"])
    if INTERNAL_CODE.fullmatch(text):
        return Scan(raw=raw, kind="item", value=text, symbology=symbology, kinds=["item"])
    return Scan(raw=raw, symbology=symbology, value=text, reason="no known pattern")


def _digits(raw: str, text: str, symbology: str | None, expect: str | None) -> Scan:
    """A bare digit string: an EAN/UPC when its check digit holds, a waybill by pattern, or both."""
    is_gtin = gtins.is_valid_gtin(text) and symbology not in ("]C0",)
    carrier = carrier_of(text)
    if symbology in ("]E0", "]E4", "]E3"):
        carrier = None  # the scanner read an EAN symbol: it cannot be a waybill
    kinds = (["item"] if is_gtin else []) + (["waybill"] if carrier else [])
    if is_gtin and (expect != "waybill" or carrier is None):
        kinds.sort(key=lambda k: k != "item")
        return Scan(raw=raw, kind="item", value=text, symbology=symbology, gtin=gtins.normalise(text),
                    kinds=kinds, carrier=carrier.carrier if carrier else None)
    if carrier is not None:
        kinds.sort(key=lambda k: k != "waybill")
        return Scan(raw=raw, kind="waybill", value=text, symbology=symbology, carrier=carrier.carrier,
                    kinds=kinds, gtin=gtins.normalise(text) if is_gtin else None)
    if gtins.looks_like_gtin(text) and symbology in ("]E0", "]E4"):
        return Scan(raw=raw, value=text, symbology=symbology, reason="wrong check digit")
    # A plain Code 128 of digits (an internal code) still names an item by that exact string.
    return Scan(raw=raw, kind="item", value=text, symbology=symbology, kinds=["item"],
                reason=None if not gtins.looks_like_gtin(text) else "check digit does not match")


def _gs1(raw: str, text: str, symbology: str | None) -> Scan:
    """A GS1 element string (GS1-128, GS1 DataMatrix/QR, or the human-readable "(01)..." form)."""
    try:
        if text.startswith("("):
            message = GS1Message.parse_hri(text)
        else:
            message = biip.parse(text, config=PARSE_CONFIG).gs1_message
    except biip.ParseError as exc:
        return Scan(raw=raw, symbology=symbology, value=text, reason=f"not GS1: {str(exc)[:80]}")
    if message is None:
        return Scan(raw=raw, symbology=symbology, value=text, reason="not GS1")
    fields: dict[str, Any] = {}
    for element in message.element_strings:
        ai = element.ai.ai
        if ai == "01" and element.gtin is not None:
            fields["gtin"] = gtins.normalise(element.value)
        elif ai == "10":
            fields["lot"] = element.value
        elif ai == "17":
            fields["expiry"] = element.date.isoformat() if element.date else element.value
        elif ai == "21":
            fields["serial"] = element.value
    if "gtin" not in fields:
        return Scan(raw=raw, symbology=symbology, value=text, reason="GS1 without a GTIN (01)", **fields)
    if not gtins.is_valid_gtin(fields["gtin"]):
        return Scan(raw=raw, symbology=symbology, value=text, reason="wrong check digit", **fields)
    return Scan(raw=raw, kind="item", value=fields["gtin"], symbology=symbology, kinds=["item"], **fields)


def symbology_name(symbology: str | None) -> str | None:
    """A readable name for an AIM symbology identifier."""
    return AIM_NAMES.get(symbology or "", symbology)
