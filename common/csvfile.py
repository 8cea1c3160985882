"""Uploaded CSV files as the shops' tools write them: UTF-8 (often with a BOM from Excel) or GBK."""
from __future__ import annotations

from common.errors import InvalidInputError

BOM = b"\xef\xbb\xbf"


def decode(raw: bytes) -> str:
    """The file's text: UTF-8 (a BOM is dropped), else GBK; anything else is a 422 that changes nothing."""
    if raw.startswith(BOM):
        raw = raw[len(BOM):]
    for encoding in ("utf-8", "gbk"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInputError(code="invalid_csv", details={"body": "not UTF-8 or GBK text"})
