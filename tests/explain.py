"""Pinning a query's plan: catch the statement a domain function runs, and EXPLAIN it."""
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ClauseElement, Executable


class Explain(Executable, ClauseElement):
    inherit_cache = False

    def __init__(self, statement):
        self.statement = statement


@compiles(Explain)
def _explain(element, compiler, **kw):
    return "EXPLAIN " + compiler.process(element.statement, **kw)


@contextmanager
def query_sent(monkeypatch) -> Iterator[dict]:
    """Inside the block, the last statement run through `Session.scalars` is kept under "query"."""
    captured: dict = {}
    real_scalars = Session.scalars

    def keep(self, query, *args, **kwargs):
        captured["query"] = query
        return real_scalars(self, query, *args, **kwargs)

    monkeypatch.setattr(Session, "scalars", keep)
    try:
        yield captured
    finally:
        monkeypatch.setattr(Session, "scalars", real_scalars)


def plan_text(session: Session, query) -> str:
    return "\n".join(row[0] for row in session.execute(Explain(query)))
