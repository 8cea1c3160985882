"""docker-compose.yml is valid Compose and runs what `make run` runs."""
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_file_matches_the_compose_spec():
    """check-jsonschema validates the file against the Compose specification, offline."""
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                             str(ROOT / "docker-compose.yml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_every_process_of_the_procfile():
    """Each process `make run` supervises has a compose service with a health check."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    procfile = [line.split(":", 1)[0] for line in (ROOT / "deploy" / "Procfile").read_text().splitlines() if line]
    for name in procfile:
        assert name in compose["services"], name
        assert "healthcheck" in compose["services"][name], name
    for name in ("postgres", "redis", "migrate"):
        assert name in compose["services"]
    assert "--appendonly" in compose["services"]["redis"]["command"]
