"""`EXPLAIN <statement>` as a SQLAlchemy construct, for tests that pin a query's plan."""
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable


class Explain(Executable, ClauseElement):
    inherit_cache = False

    def __init__(self, statement):
        self.statement = statement


@compiles(Explain)
def _explain(element, compiler, **kw):
    return "EXPLAIN " + compiler.process(element.statement, **kw)
