"""Uploaded CSV files as the shops' tools write them: UTF-8 (often with a BOM from Excel) or GBK."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager

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


def dict_reader(text: str) -> csv.DictReader:
    """The rows, read as the csv module asks a file to be opened (newline=''): a line may end in
    CRLF (Excel), LF or a lone CR (older Mac exports), and a quoted field may hold line breaks."""
    return csv.DictReader(io.StringIO(text, newline=""))


@contextmanager
def refusing_bad_csv() -> Iterator[None]:
    """What the csv module cannot read (a field over its size limit, a stray quote in strict
    dialects) is the sender's 422, not a 500."""
    try:
        yield
    except csv.Error as exc:
        raise InvalidInputError(code="invalid_csv", details={"body": str(exc)[:120]}) from exc
