"""The shape style.md asks for: domain modules free of Flask, codes free of I/O, modules kept short."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = sorted((ROOT / "scan_service" / "domain").glob("*.py"))
CODES = sorted((ROOT / "codes").glob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("path", DOMAIN, ids=lambda p: p.name)
def test_domain_module_imports_no_flask(path):
    """Business rules take a Session, never the request."""
    assert "flask" not in _imports(path)


@pytest.mark.parametrize("path", CODES, ids=lambda p: p.name)
def test_codes_module_is_pure(path):
    """The recognizer does no I/O: no Flask, no database, no HTTP."""
    assert not _imports(path) & {"flask", "sqlalchemy", "requests", "redis"}


@pytest.mark.parametrize("path", sorted((ROOT / "scan_service").rglob("*.py")), ids=lambda p: p.name)
def test_module_length_within_house_limits(path):
    """Handlers under ~200 lines, domain under ~400, nothing over 600."""
    lines = len(path.read_text(encoding="utf-8").splitlines())
    limit = 220 if "/api/" in str(path) else 420 if "/domain/" in str(path) else 600
    assert lines <= limit, (path, lines)
