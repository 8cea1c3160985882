"""The Kubernetes manifests are valid and wire every service the same way."""
import subprocess
import sys
from pathlib import Path

import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"


def _documents():
    for path in sorted(K8S.glob("*.yaml")):
        yield from (doc for doc in yaml.safe_load_all(path.read_text()) if doc)


def test_manifests_validate_strictly():
    """kubernetes-validate (schemas bundled, offline) accepts every manifest with no unknown field."""
    files = [str(p) for p in sorted(K8S.glob("*.yaml"))]
    result = subprocess.run([sys.executable, "-m", "kubernetes_validate", "--strict", "--quiet", *files],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_web_deployment_probes_healthz():
    """Gateway and services have readiness and liveness probes on /healthz and resource limits."""
    deployments = {d["metadata"]["name"]: d for d in _documents() if d["kind"] == "Deployment"}
    assert set(deployments) == {"wms-gateway", "wms-stock", "wms-scan", "wms-print", "wms-worker", "wms-cron"}
    for name in ("wms-gateway", "wms-stock", "wms-scan", "wms-print"):
        container = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["resources"]["limits"]


def test_autoscaling_and_disruption_budgets_target_real_deployments():
    """HPAs and PDBs point at deployments that exist."""
    docs = list(_documents())
    names = {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"}
    components = {d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
                  for d in docs if d["kind"] == "Deployment"}
    hpas = [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas} == {"wms-gateway", "wms-scan"} <= names
    for pdb in (d for d in docs if d["kind"] == "PodDisruptionBudget"):
        assert pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] in components


def test_deployment_yaml_lints_clean():
    """yamllint (config in .yamllint.yaml) finds nothing in the manifests or the compose file."""
    root = K8S.parent.parent
    result = subprocess.run([sys.executable, "-m", "yamllint", "-c", str(root / ".yamllint.yaml"), "--strict",
                             str(root / "docker-compose.yml"), str(K8S)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
