"""The two roles of docs/deploy.md: the owner migrates, the app role (rows only) runs everything.

The SQL blocks of docs/deploy.md run as written (with this test's own role and
database names). With ``CRONKEEPER_AUTO_MIGRATE=off`` and the app role, the
scheduler, a worker, the API and the CLI start and work on a current schema;
on a schema migrated to an earlier version each refuses at start with one line
naming the missing migrations and ``cronkeeper migrate``, and nothing is changed.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import uuid
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from litestar.testing import TestClient
from psycopg.conninfo import make_conninfo

from cronkeeper.api.app import create_app
from cronkeeper.db import connect, prepared_dsn
from cronkeeper.migrate import MIGRATIONS_DIR, SchemaBehind, load_migrations, migrate
from cronkeeper.repo import brand_queries
from cronkeeper.settings import Settings
from cronkeeper.tokens import create_token
from tests.support.cli import Cli
from tests.support.factories import make_brand, make_job

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
SAMPLE = {"collectors": ["sample"]}


def doc_block(name: str) -> list[str]:
    """The statements of the ```sql block under ``<!-- name ... -->`` in docs/deploy.md."""
    text = DEPLOY.read_text()
    found = re.search(rf"<!-- {re.escape(name)}\b.*?-->\s*```sql\n(.*?)```", text, re.S)
    assert found, f"docs/deploy.md has no {name} block"
    body = "\n".join(line.split("--")[0] for line in found.group(1).splitlines())
    return [s.strip() for s in body.split(";") if s.strip()]


@pytest.fixture
def roles(server_dsn):
    tag = uuid.uuid4().hex[:8]
    owner, app, db = f"ck_owner_{tag}", f"ck_app_{tag}", f"ck_lp_{tag}"

    def named(statement: str) -> str:
        statement = statement.replace("cronkeeper_owner", owner).replace("cronkeeper_app", app)
        return re.sub(r"\bDATABASE cronkeeper\b", f'DATABASE "{db}"', statement)

    with psycopg.connect(server_dsn, autocommit=True) as admin:
        for statement in doc_block("roles.sql"):
            admin.execute(named(statement))
    try:
        with psycopg.connect(make_conninfo(server_dsn, dbname=db), autocommit=True) as admin:
            for statement in doc_block("grants.sql"):
                admin.execute(named(statement))
        yield SimpleNamespace(
            owner=make_conninfo(server_dsn, user=owner, dbname=db, password=""),
            app=make_conninfo(server_dsn, user=app, dbname=db, password=""),
            app_name=app,
        )
    finally:
        with psycopg.connect(server_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            for role in (app, owner):
                admin.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("CRONKEEPER_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("CRONKEEPER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CRONKEEPER_SAMPLE_DELAY_MS", "0")
    monkeypatch.delenv("CRONKEEPER_AUTO_MIGRATE", raising=False)

    def run(dsn: str, *args: str, auto_migrate: str | None = "off", ok: bool = True):
        monkeypatch.setenv("DATABASE_URL", dsn)
        if auto_migrate is None:
            monkeypatch.delenv("CRONKEEPER_AUTO_MIGRATE", raising=False)
        else:
            monkeypatch.setenv("CRONKEEPER_AUTO_MIGRATE", auto_migrate)
        return Cli(capsys)(*args, ok=ok)

    return run


def applied(dsn: str) -> list[int]:
    with psycopg.connect(dsn) as c:
        return [r[0] for r in c.execute("SELECT version FROM schema_migrations ORDER BY 1")]


def app_settings(dsn: str, **kw) -> Settings:
    return Settings(database_url=dsn, data_dir=Path("."), auto_migrate=False, pool_max_size=2, **kw)


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_the_app_role_runs_everything_on_a_current_schema(roles, cli):
    assert cli(roles.owner, "migrate", auto_migrate=None).returncode == 0
    with psycopg.connect(roles.app, autocommit=True) as c, pytest.raises(psycopg.errors.InsufficientPrivilege):
        c.execute("CREATE TABLE intruder (id int)")  # rows only: no DDL right

    conn = connect(roles.app, autocommit=True)
    try:
        brand = make_brand(conn)
        brand_queries.insert_query(conn, brand.id, "is it any good")
        due = dt.datetime.now(dt.UTC).replace(microsecond=0)
        job = make_job(conn, brand, interval_seconds=60, next_run_at=due, metadata=SAMPLE)
        cli(roles.app, "scheduler", "--once")
        cli(roles.app, "worker", "--once")
        run = conn.execute("SELECT status FROM job_runs WHERE scheduled_job_id = %s", (job.id,)).fetchone()
        assert run["status"] == "completed"
        assert str(job.id) in cli(roles.app, "jobs", "list").stdout
        assert cli(roles.app, "jobs", "list", auto_migrate=None).returncode == 0  # on and current: no DDL needed

        # the API's start-up (``cronkeeper api`` checks the schema, then serves)
        assert prepared_dsn(app_settings(roles.app)) == roles.app
        token = create_token(conn, name="app", role="admin").secret
        app = create_app(roles.app, app_settings(roles.app), register_process=True)
        with TestClient(app) as client:
            client.headers["Authorization"] = f"Bearer {token}"
            assert client.get("/api/admin/job-runs").status_code == 200
            assert client.post(f"/api/admin/scheduled-jobs/{job.id}/trigger").status_code == 202
        beats = conn.execute("SELECT count(*) AS n FROM processes WHERE kind = 'api'").fetchone()
        assert beats["n"] == 1
    finally:
        conn.close()


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_behind_schema_is_refused_naming_the_missing_migrations(roles, cli, tmp_path):
    every = load_migrations()
    older = tmp_path / "older"
    older.mkdir()
    for m in every[:-2]:
        shutil.copy(MIGRATIONS_DIR / m.name, older / m.name)
    migrate(roles.owner, older)  # a database one deploy behind
    missing = [m.name for m in every[-2:]]
    before = applied(roles.owner)

    with pytest.raises(SchemaBehind) as behind:
        prepared_dsn(app_settings(roles.app))  # the API's, the scheduler's and the workers' start-up
    assert behind.value.missing == missing

    for argv in (["scheduler", "--once"], ["worker", "--once"], ["api", "--port", "1"], ["jobs", "list"]):
        done = cli(roles.app, *argv, ok=False)
        assert done.returncode == 2, (argv, done.stderr)
        assert done.stderr.count("\n") == 1, done.stderr  # one line, no traceback
        assert all(name in done.stderr for name in missing), done.stderr
        assert "run `cronkeeper migrate`" in done.stderr

    # read-only commands never migrate, even with auto-migrate on (and as the owner)
    done = cli(roles.owner, "runs", "list", auto_migrate="on", ok=False)
    assert done.returncode == 2 and "schema is behind" in done.stderr
    # auto-migrate on with the app role: it says it may not, and changes nothing
    done = cli(roles.app, "worker", "--once", auto_migrate="on", ok=False)
    assert done.returncode == 2 and f"the role '{roles.app_name}' may not change the schema" in done.stderr
    assert "Traceback" not in done.stderr
    assert applied(roles.owner) == before

    assert "applied " + missing[0] in cli(roles.owner, "migrate", auto_migrate=None).stdout
    cli(roles.app, "scheduler", "--once")  # and now the app role starts
