"""The built wheel works on its own: installed in a fresh venv outside the checkout.

The wheel is built from a copy of the source, installed into a new venv in a
temporary directory (no ``PYTHONPATH``, no editable install, the working
directory outside the checkout; pip fetches the dependencies, from its cache
when it can), and everything below runs with that venv's ``python`` and
``cronkeeper`` only: every module imports, no generic top-level module is
installed, ``cronkeeper migrate`` builds a fresh database, ``cronkeeper api``
serves the UI and its static files, a job made through the API is triggered and
a worker from the same venv completes the run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.support.fakes_http import FakeChatServer
from tests.support.stack import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
# what the wheel is built from: the source, without local state or build leftovers
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", ".venv-*", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
    ".ruff_cache", "artifacts", ".data", "var", "bench", "tests",
)  # fmt: skip
# checkout folder -> where its files land in the wheel (every file, at any depth)
SHIPPED = {
    "admin_ui/templates": "cronkeeper/admin_ui/templates",
    "admin_ui/static": "cronkeeper/admin_ui/static",
    "sql/migrations": "cronkeeper/sql/migrations",
    "cronkeeper/repo/sql": "cronkeeper/repo/sql",
}
TABLES = {"customers", "brands", "scheduled_jobs", "job_runs", "api_tokens", "schema_migrations"}
ADMIN = "/api/admin"


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    shutil.copytree(ROOT, src, ignore=NOT_SOURCE)
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(work / "dist"), str(src)], work, _clean_env())
    (built,) = (work / "dist").glob("cronkeeper-*.whl")
    return built


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without anything that points Python or cronkeeper at the checkout."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP") and not k.startswith("CRONKEEPER_")}  # fmt: skip
    env.update(extra)
    return env


class Venv:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.bin = home / "venv" / "bin"
        self.cwd = home / "cwd"  # outside the checkout, empty

    def env(self, **extra: str) -> dict[str, str]:
        path = f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}"
        return _clean_env(PATH=path, CRONKEEPER_DATA_DIR=str(self.home / "data"), **extra)

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bin / args[0]), *args[1:]], cwd=self.cwd, env=self.env(**env),
                              capture_output=True, text=True, timeout=120)  # fmt: skip


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Venv:
    home = tmp_path_factory.mktemp("installed")
    assert ROOT not in home.parents
    made = Venv(home)
    made.cwd.mkdir()
    _run([sys.executable, "-m", "venv", str(home / "venv")], made.cwd, _clean_env())
    _run([str(made.bin / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
         made.cwd, made.env())  # fmt: skip
    return made


def test_the_wheel_has_one_top_level_name_and_every_data_file(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (top_level,) = [n for n in names if n.endswith(".dist-info/top_level.txt")]
        assert zf.read(top_level).decode().split() == ["cronkeeper"]
    others = {n.split("/")[0] for n in names} - {"cronkeeper"}
    assert len(others) == 1 and others.pop().endswith(".dist-info"), names
    missing = []
    for folder, packaged in SHIPPED.items():
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix != ".pyc" and "__pycache__" not in path.parts:
                inside = f"{packaged}/{path.relative_to(ROOT / folder).as_posix()}"
                if inside not in names:
                    missing.append(inside)
    assert missing == [], missing
    assert any(n.startswith("cronkeeper/admin_ui/static/js/") and n.count("/") > 4 for n in names)  # nested JS


def test_every_installed_module_imports_and_no_generic_name_is_installed(venv):
    script = """
import importlib, importlib.util, json, pkgutil, cronkeeper
names = [m.name for m in pkgutil.walk_packages(cronkeeper.__path__, "cronkeeper.") if not m.name.endswith(".__main__")]
files = [importlib.import_module(n).__file__ for n in names]
print(json.dumps({"names": names, "files": files + [cronkeeper.__file__],
                  "bare": [n for n in ("api", "services", "sql", "admin_ui") if importlib.util.find_spec(n)]}))
"""
    done = venv.run("python", "-c", script)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["bare"] == []
    assert {"cronkeeper.api.app", "cronkeeper.services.worker.loop", "cronkeeper.services.scheduler.tick",
            "cronkeeper.api.schemas.jobs", "cronkeeper.migrate"} <= set(found["names"])  # fmt: skip
    site = venv.home / "venv"
    outside = [f for f in found["files"] if site not in Path(f).parents]
    assert outside == [], f"imported from outside the venv: {outside}"
    assert venv.run("python", "-c", "import api").returncode != 0


def test_migrate_without_migrations_fails_and_creates_nothing(venv, fresh_db, tmp_path):
    done = venv.run("cronkeeper", "migrate", DATABASE_URL=fresh_db, CRONKEEPER_MIGRATIONS_DIR=str(tmp_path))
    assert done.returncode != 0 and "no migrations found" in done.stderr, done
    assert _tables(fresh_db) == set()


def _tables(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {r[0] for r in rows}


def test_the_installed_command_migrates_serves_the_ui_and_completes_a_run(venv, fresh_db, tmp_path):
    done = venv.run("cronkeeper", "migrate", DATABASE_URL=fresh_db)
    assert done.returncode == 0 and "applied 0001_" in done.stdout, done
    assert _tables(fresh_db) >= TABLES
    assert "up to date" in venv.run("cronkeeper", "migrate", DATABASE_URL=fresh_db).stdout

    made = venv.run("cronkeeper", "tokens", "create", "--name", "wheel", DATABASE_URL=fresh_db)
    assert made.returncode == 0, made.stderr
    secret = re.search(r"\bck_\S+", made.stdout).group(0)

    with FakeChatServer(lambda q: f"For {q}: Wheelco, then Other.", api_key="k") as chat:
        # the run collects from this local server only: no network needed
        collectors = tmp_path / "collectors.toml"
        collectors.write_text(f'[collectors.local]\nkind = "openai_chat"\nbase_url = "{chat.url}"\n'
                              'model = "m"\napi_key_env = "LOCAL_CHAT_KEY"\n')  # fmt: skip
        env = {"DATABASE_URL": fresh_db, "CRONKEEPER_COLLECTORS_FILE": str(collectors), "LOCAL_CHAT_KEY": "k"}
        run = _serve_and_work(venv, secret, env)
        assert len(chat.requests) == 1 and "best wheels" in chat.requests[0].body.decode()
    assert run["status"] == "completed", run
    assert run["worker_id"] and run["metrics"]["answers_collected"] == 1


def _serve_and_work(venv: Venv, secret: str, env: dict[str, str]) -> dict:
    """Start the installed API, check the UI, make and trigger a job, run an installed worker once."""
    port = free_port()
    log = venv.home / f"api-{port}.log"
    with log.open("w") as out:
        api = subprocess.Popen([str(venv.bin / "cronkeeper"), "api", "--port", str(port), "--workers", "1"],
                               cwd=venv.cwd, env=venv.env(**env), stdout=out, stderr=out)  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {secret}"}) as client:
            wait_for("the installed API", lambda: _answers(client))
            _check_ui(client)
            run_id = _trigger_a_new_job(client)
            worked = venv.run("cronkeeper", "worker", "--once", **env)
            assert worked.returncode == 0, worked.stderr
            answer = client.get(f"{ADMIN}/job-runs/{run_id}")
            assert answer.status_code == 200, f"{answer.text}\n{log.read_text()[-3000:]}"
            return answer.json()
    finally:
        api.send_signal(signal.SIGTERM)
        api.wait(30)
        assert api.returncode in (0, -signal.SIGTERM), log.read_text()[-3000:]


def _answers(client: httpx.Client) -> bool:
    try:
        return client.get("/api/health").status_code in (200, 503)
    except httpx.TransportError:
        return False


def _check_ui(client: httpx.Client) -> None:
    page = client.get("/admin/scheduled-jobs", headers={"Authorization": ""})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), page.text[:500]
    main_js = re.search(r'src="([^"?]+/main\.js)', page.text).group(1)
    script = client.get(main_js)
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    nested = re.search(r'from "\./((?:lib|components|views)/[a-z_]+\.js)"', script.text).group(1)
    assert client.get(main_js.rsplit("/", 1)[0] + "/" + nested).status_code == 200


def _trigger_a_new_job(client: httpx.Client) -> int:
    customer = client.post(f"{ADMIN}/customers", json={"name": "Wheel customer"})
    assert customer.status_code == 201, customer.text
    brand = client.post(f"{ADMIN}/brands", json={"name": "Wheelco", "customer_id": customer.json()["id"]})
    assert brand.status_code == 201, brand.text
    brand_id = brand.json()["id"]
    query = client.post(f"{ADMIN}/brands/{brand_id}/queries", json={"text": "best wheels"})
    assert query.status_code == 201, query.text
    job = client.post(f"{ADMIN}/scheduled-jobs", json={
        "brand_id": brand_id, "customer_id": customer.json()["id"], "job_type": "data_collection_and_scoring",
        "cron_expression": "0 10 * * *", "timezone": "UTC", "metadata": {"collectors": ["local"]}, "max_retries": 0,
    })  # fmt: skip
    assert job.status_code == 201, job.text
    run = client.post(f"{ADMIN}/scheduled-jobs/{job.json()['id']}/trigger")
    assert run.status_code == 202 and run.json()["status"] == "pending", run.text
    return run.json()["id"]
