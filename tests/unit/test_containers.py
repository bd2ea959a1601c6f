"""The image and the manifests (docs/containers.md), read as files: no container engine runs here.

The Dockerfile builds in two stages and runs as a non-root user; the entry point
refuses to start without DATABASE_URL (run here in a subprocess); Compose and
Kubernetes give every process a probe, and the workers more time to stop than
their shutdown grace.
"""

from __future__ import annotations

import re
import stat
import subprocess
from pathlib import Path

import yaml

from cronkeeper.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
KUBE = ROOT / "ops" / "kubernetes"
ENTRYPOINT = ROOT / "ops" / "container" / "entrypoint.sh"
WORKER_GRACE = Settings.from_env({}).shutdown_grace_seconds


def kube_objects() -> dict[tuple[str, str], dict]:
    found = {}
    for path in sorted(KUBE.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and "kind" in doc and doc["kind"] != "Kustomization":
                found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


def containers(obj: dict) -> list[dict]:
    return obj["spec"]["template"]["spec"]["containers"]


def test_the_worker_grace_is_below_the_default_termination_period():
    assert WORKER_GRACE == 25 < 30  # Kubernetes' default terminationGracePeriodSeconds


def test_the_dockerfile_builds_in_stages_and_runs_as_a_non_root_user():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\w+))?", text, flags=re.MULTILINE | re.IGNORECASE)
    assert len(stages) == 2 and stages[0][1] == "build" and stages[1][1] == ""
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, flags=re.MULTILINE)
    final = text.split("\nFROM ${PYTHON_IMAGE}\n", 1)[1]
    assert "build-essential" not in final and "gcc" not in final  # the compiler stays in the build stage
    assert "--no-index" in final and "cronkeeper[" not in final  # offline, without the embedded extra
    users = re.findall(r"^USER\s+(\S+)", final, flags=re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert 'ENTRYPOINT ["/usr/local/bin/cronkeeper-entrypoint"]' in final
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "tests", "admin_ui/node_modules"} <= set(ignored)


def _entrypoint(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """The entry point with a stand-in ``cronkeeper`` first on PATH that prints its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "cronkeeper"
    fake.write_text('#!/bin/sh\necho "cronkeeper $*"\necho "DATABASE_URL=${DATABASE_URL:-}"\n')
    fake.chmod(0o755)
    clean = {"PATH": f"{bin_dir}:/usr/bin:/bin", **env}
    return subprocess.run([str(ENTRYPOINT), *args], env=clean, capture_output=True, text=True, timeout=30)


def test_the_entrypoint_refuses_to_start_without_database_url(tmp_path):
    assert ENTRYPOINT.stat().st_mode & stat.S_IXUSR
    for env in ({}, {"DATABASE_URL": ""}):
        done = _entrypoint(tmp_path, env, "worker")
        assert done.returncode == 78, done
        assert done.stdout == ""  # cronkeeper never ran
        assert "DATABASE_URL is not set" in done.stderr and "never starts an embedded PostgreSQL" in done.stderr


def test_the_entrypoint_runs_the_command_with_database_url(tmp_path):
    done = _entrypoint(tmp_path, {"DATABASE_URL": "postgresql://db/x"}, "health", "worker", "--max-age", "60")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["cronkeeper health worker --max-age 60", "DATABASE_URL=postgresql://db/x"]
    assert _entrypoint(tmp_path, {}, "--help").returncode == 0  # help needs no database


def test_kubernetes_has_a_migrate_job_and_deployments_with_probes_and_limits():
    objects = kube_objects()
    job = objects[("Job", "cronkeeper-migrate")]
    assert containers(job)[0]["args"] == ["migrate"]
    for name in ("cronkeeper-api", "cronkeeper-scheduler", "cronkeeper-worker"):
        deployment = objects[("Deployment", name)]
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
        (container,) = containers(deployment)
        for probe in ("livenessProbe", "readinessProbe"):
            assert probe in container, (name, probe)
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]) & set(container["resources"]["limits"])
        secret = [e for e in container["env"] if e["name"] == "DATABASE_URL"][0]["valueFrom"]["secretKeyRef"]
        assert secret["name"] == "cronkeeper-database"
        assert pod["terminationGracePeriodSeconds"] > WORKER_GRACE
    api = containers(objects[("Deployment", "cronkeeper-api")])[0]
    assert api["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert api["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    for kind in ("worker", "scheduler"):
        container = containers(objects[("Deployment", f"cronkeeper-{kind}")])[0]
        for probe in ("livenessProbe", "readinessProbe"):
            command = container[probe]["exec"]["command"]
            assert command[:4] == ["python", "-m", "cronkeeper.health", kind], command


def test_workers_stop_within_their_pods_grace_and_have_a_disruption_budget():
    objects = kube_objects()
    worker = objects[("Deployment", "cronkeeper-worker")]
    config = objects[("ConfigMap", "cronkeeper")]["data"]
    grace = float(config["CRONKEEPER_SHUTDOWN_GRACE_SECONDS"])
    assert grace == WORKER_GRACE and worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= grace + 10
    assert config["CRONKEEPER_AUTO_MIGRATE"] == "off"
    budget = objects[("PodDisruptionBudget", "cronkeeper-worker")]
    assert budget["spec"]["selector"] == worker["spec"]["selector"] and budget["spec"]["minAvailable"] >= 1
    kustomization = yaml.safe_load((KUBE / "kustomization.yaml").read_text())
    assert set(kustomization["resources"]) == {"configmap.yaml", "api.yaml", "scheduler.yaml", "worker.yaml"}


def test_compose_runs_postgres_a_migration_the_api_a_scheduler_and_two_workers_with_health_checks():
    compose = yaml.safe_load((ROOT / "ops" / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "api", "scheduler", "worker"}
    assert services["migrate"]["command"] == ["migrate"]
    assert services["worker"]["deploy"]["replicas"] == 2
    assert "/health/ready" in " ".join(services["api"]["healthcheck"]["test"])
    for kind in ("worker", "scheduler"):
        assert services[kind]["healthcheck"]["test"][1:5] == ["python", "-m", "cronkeeper.health", kind]
    for name in ("api", "scheduler", "worker"):
        service = services[name]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["environment"]["DATABASE_URL"].startswith("postgresql://")
        assert service["environment"]["CRONKEEPER_AUTO_MIGRATE"] == "off"
        assert int(service["stop_grace_period"].rstrip("s")) > WORKER_GRACE


def test_the_entrypoint_is_plain_posix_sh():
    done = subprocess.run(["/bin/sh", "-n", str(ENTRYPOINT)], capture_output=True, text=True, timeout=10)
    assert done.returncode == 0, done.stderr
    assert ENTRYPOINT.read_text().startswith("#!/bin/sh\n")
