"""deploy/kubernetes checked without a cluster: every rendered resource against the
Kubernetes schema (kubernetes-validate ships the schemas: no network), every reference
between resources, every ``tiaojie`` command and every ``TIAOJIE_*`` setting."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from signaling.cli import parser
from signaling.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "deploy" / "kubernetes"
KUSTOMIZATIONS = [BASE, BASE / "in-cluster"]
KUBERNETES_VERSIONS = ["1.27.0", kubernetes_validate.latest_version()]
"""The oldest release still common in government clouds, and the newest the package knows."""
SECRET_SETTINGS = {"TIAOJIE_SECRET_KEY", "TIAOJIE_DATABASE_URL", "TIAOJIE_REDIS_URL",
                   "TIAOJIE_TURN_SECRET"}
WORKLOADS = ("Deployment", "DaemonSet", "StatefulSet", "Job")

Resource = dict[str, Any]


def _merge(base: Any, patch: Any) -> Any:
    """Strategic merge as kustomize does it for the maps used here (lists are replaced)."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            out[k] = _merge(base.get(k), v) if k in base else v
        return out
    return patch


def render(directory: Path) -> list[Resource]:
    """``kustomize build`` for the features these kustomizations use (and only those)."""
    k = yaml.safe_load((directory / "kustomization.yaml").read_text())
    known = {"apiVersion", "kind", "namespace", "labels", "resources", "images", "patches"}
    assert set(k) <= known, f"render() does not know {set(k) - known}: teach it"
    out: list[Resource] = []
    for entry in k.get("resources", []):
        path = directory / entry
        if path.is_dir():
            out += render(path)
        else:
            out += [d for d in yaml.safe_load_all(path.read_text()) if d]
    for patch in k.get("patches", []):
        doc = yaml.safe_load((directory / patch["path"]).read_text())
        target = next(r for r in out if (r["kind"], r["metadata"]["name"]) ==
                      (doc["kind"], doc["metadata"]["name"]))
        out[out.index(target)] = _merge(target, doc)
    out = [copy.deepcopy(r) for r in out]
    for r in out:
        if "namespace" in k and r["kind"] != "Namespace":
            r["metadata"]["namespace"] = k["namespace"]
        for group in k.get("labels", []):
            r["metadata"].setdefault("labels", {}).update(group["pairs"])
        for image in k.get("images", []):
            for c in containers(r):
                if c["image"] == image["name"]:
                    c["image"] = f"{image['newName']}:{image['newTag']}"
    return out


def pod_spec(r: Resource) -> dict[str, Any] | None:
    if r["kind"] not in WORKLOADS:
        return None
    spec: dict[str, Any] = r["spec"]["template"]["spec"]
    return spec


def containers(r: Resource) -> list[dict[str, Any]]:
    spec = pod_spec(r)
    return [] if spec is None else spec.get("containers", []) + spec.get("initContainers", [])


def find(resources: list[Resource], kind: str, name: str) -> Resource:
    matches = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def tiaojie_command(c: dict[str, Any]) -> list[str] | None:
    cmd = list(c.get("command", [])) + list(c.get("args", []))
    return cmd[1:] if cmd and cmd[0] == "tiaojie" else None


@pytest.fixture(scope="module", params=KUSTOMIZATIONS, ids=lambda p: p.name)
def resources(request: pytest.FixtureRequest) -> list[Resource]:
    return render(request.param)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_rendered_resource_is_valid_kubernetes(
    resources: list[Resource], version: str
) -> None:
    for r in resources:
        # strict: a misspelt field is an error, not silently ignored by the API server.
        kubernetes_validate.validate(r, version, strict=True)


def test_every_role_is_there_and_media_nodes_use_the_hosts_network(
    resources: list[Resource],
) -> None:
    roles = {}
    for r in resources:
        for c in containers(r):
            cmd = tiaojie_command(c)
            if cmd:
                roles[" ".join(cmd[:2])] = r
    assert {"serve --host", "media --host", "worker transcription", "migrate"} <= set(roles)
    media = roles["media --host"]
    assert media["kind"] == "DaemonSet" and pod_spec(media)["hostNetwork"] is True  # type: ignore[index]
    signaling = roles["serve --host"]
    env = {e["name"]: e.get("value") for e in containers(signaling)[0]["env"]}
    assert env["TIAOJIE_MEDIA_ENABLED"] == "false"  # signaling pods relay, media pods forward
    coturn = find(resources, "DaemonSet", "coturn")
    assert pod_spec(coturn)["hostNetwork"] is True  # type: ignore[index]
    for name in ("signaling", "transcription"):
        hpa = find(resources, "HorizontalPodAutoscaler", name)
        assert find(resources, hpa["spec"]["scaleTargetRef"]["kind"],
                    hpa["spec"]["scaleTargetRef"]["name"])
    queue = find(resources, "HorizontalPodAutoscaler", "transcription")["spec"]["metrics"][0]
    assert queue["external"]["metric"]["name"] == "tiaojie_transcription_queue_depth"
    service = find(resources, "Service", "signaling")
    assert service["spec"]["sessionAffinity"] == "ClientIP"


def test_every_tiaojie_command_parses_and_every_setting_exists(
    resources: list[Resource],
) -> None:
    fields = {f"TIAOJIE_{k.upper()}" for k in Settings.model_fields}
    for r in resources:
        for c in containers(r):
            cmd = tiaojie_command(c)
            if cmd is not None:
                parser().parse_args(cmd)
            for e in c.get("env", []):
                if e["name"].startswith("TIAOJIE_"):
                    assert e["name"] in fields, (r["metadata"]["name"], e["name"])
        if r["kind"] in ("ConfigMap", "Secret"):
            data = {**r.get("data", {}), **r.get("stringData", {})}
            for key in data:
                if key.startswith("TIAOJIE_"):
                    assert key in fields, (r["metadata"]["name"], key)


def test_secrets_live_only_in_secrets(resources: list[Resource]) -> None:
    for r in resources:
        if r["kind"] == "ConfigMap":
            assert not SECRET_SETTINGS & set(r["data"]), r["metadata"]["name"]
        for c in containers(r):
            for e in c.get("env", []):
                if e["name"] in SECRET_SETTINGS:
                    assert "secretKeyRef" in e.get("valueFrom", {}), e["name"]
    secret = find(resources, "Secret", "tiaojie-secrets")
    assert set(secret["stringData"]) >= SECRET_SETTINGS
    tls = find(resources, "Ingress", "tiaojie")["spec"]["tls"][0]["secretName"]
    assert tls == "tiaojie-tls"  # made by cert-manager or kubectl, never committed


def test_references_between_resources_resolve(resources: list[Resource]) -> None:
    names = {(r["kind"], r["metadata"]["name"]) for r in resources}
    secrets = {r["metadata"]["name"]: {**r.get("data", {}), **r.get("stringData", {})}
               for r in resources if r["kind"] == "Secret"}
    for r in resources:
        spec = pod_spec(r)
        if spec is None:
            continue
        for v in spec.get("volumes", []):
            if "persistentVolumeClaim" in v:
                assert ("PersistentVolumeClaim", v["persistentVolumeClaim"]["claimName"]) in names
        for c in containers(r):
            for source in c.get("envFrom", []):
                for kind, ref in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                    if ref in source:
                        assert (kind, source[ref]["name"]) in names
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in secrets[ref["name"]], (r["metadata"]["name"], ref)
    labelled = [pod_spec(r) and r["spec"]["template"]["metadata"]["labels"] for r in resources]
    for r in resources:
        selector = None
        if r["kind"] == "Service":
            selector = r["spec"]["selector"]
        elif r["kind"] == "PodDisruptionBudget":
            selector = r["spec"]["selector"]["matchLabels"]
        if selector is not None:
            assert any(labels and selector.items() <= labels.items() for labels in labelled), (
                r["kind"], r["metadata"]["name"])
    for r in resources:
        if r["kind"] == "Ingress":
            for rule in r["spec"]["rules"]:
                for path in rule["http"]["paths"]:
                    svc = find(resources, "Service", path["backend"]["service"]["name"])
                    ports = {p["name"] for p in svc["spec"]["ports"]}
                    assert path["backend"]["service"]["port"]["name"] in ports


def test_http_roles_are_probed_on_healthz_and_every_container_asks_for_resources(
    resources: list[Resource],
) -> None:
    for r in resources:
        for c in containers(r):
            assert c.get("resources", {}).get("requests"), (r["metadata"]["name"], c["name"])
            cmd = tiaojie_command(c)
            if not cmd or cmd[0] not in ("serve", "media"):
                continue
            port = int(cmd[cmd.index("--port") + 1])
            assert [p["containerPort"] for p in c["ports"]] == [port]
            for probe in ("startupProbe", "readinessProbe"):
                assert c[probe]["httpGet"]["path"] == "/healthz", (r["metadata"]["name"], probe)
            assert "livenessProbe" in c
    workloads = {r["metadata"]["name"] for r in resources
                 if r["kind"] in ("Deployment", "DaemonSet") and r["metadata"]["namespace"]}
    budgets = {r["metadata"]["name"] for r in resources if r["kind"] == "PodDisruptionBudget"}
    assert workloads <= budgets
