"""The folder tree keeps its promises: who may import whom, and the shipped code lints clean."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("gateway", "stock_service", "scan_service", "print_service")
SHIPPED = ("common", "codes", *SERVICES, "deploy")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", ("common", "codes"))
def test_shared_packages_import_no_service(package):
    """common/ and codes/ never depend on a service."""
    for path in (ROOT / package).rglob("*.py"):
        assert not _imports(path) & set(SERVICES), path


@pytest.mark.parametrize("service", SERVICES)
def test_domain_modules_know_nothing_of_flask(service):
    """The floor's rules are plain modules: no Flask in any domain/ package."""
    for path in (ROOT / service / "domain").rglob("*.py"):
        assert "flask" not in _imports(path), path


@pytest.mark.parametrize("service", SERVICES)
def test_services_do_not_import_each_other(service):
    """A service talks to another over HTTP or RQ, never by importing its code."""
    others = set(SERVICES) - {service}
    for path in (ROOT / service).rglob("*.py"):
        assert not _imports(path) & others, path


def test_shipped_code_lints_clean():
    """ruff, with the rules in pyproject.toml (security rules included), finds nothing."""
    result = subprocess.run([sys.executable, "-m", "ruff", "check", *SHIPPED], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]


def test_modules_stay_short():
    """Nothing shipped grows past 600 lines: a long scenario becomes a package."""
    long = [str(p) for d in SHIPPED for p in (ROOT / d).rglob("*.py") if len(p.read_text().splitlines()) > 600]
    assert not long
