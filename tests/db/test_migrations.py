import threading

import psycopg
import pytest

from cronkeeper.errors import MigrationError
from cronkeeper.migrate import MIGRATIONS_DIR, load_migrations, migrate


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_empty_database_to_latest_then_nothing_changes(fresh_db):
    first = migrate(fresh_db)
    assert list(first.applied) == [m.name for m in load_migrations()]
    with psycopg.connect(fresh_db) as c:
        tables = {r[0] for r in c.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
        before = c.execute("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY 1").fetchall()
    assert {"customers", "brands", "brand_queries", "scheduled_jobs", "job_runs", "api_tokens", "processes"} <= tables
    second = migrate(fresh_db)
    assert second.applied == ()
    with psycopg.connect(fresh_db) as c:
        after = c.execute("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY 1").fetchall()
    assert before == after


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_two_migrators_at_once_are_safe(fresh_db):
    results, errors = [], []

    def run():
        try:
            results.append(migrate(fresh_db))
        except Exception as exc:  # pragma: no cover - the assertion shows it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(len(r.applied) for r in results) == [0, 0, len(load_migrations())]


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_edited_migration_is_refused(fresh_db, tmp_path):
    for m in sorted(MIGRATIONS_DIR.glob("*.sql")):
        (tmp_path / m.name).write_text(m.read_text())
    migrate(fresh_db, tmp_path)
    first = sorted(tmp_path.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match="edited after it was applied"):
        migrate(fresh_db, tmp_path)


def test_failed_migration_leaves_nothing_half_written(fresh_db, tmp_path):
    for m in sorted(MIGRATIONS_DIR.glob("*.sql")):
        (tmp_path / m.name).write_text(m.read_text())
    n = len(list(tmp_path.glob("*.sql")))
    (tmp_path / f"{n + 1:04d}_broken.sql").write_text("CREATE TABLE half (id int); SELECT 1/0;")
    with pytest.raises(MigrationError, match="broken"):
        migrate(fresh_db, tmp_path)
    with psycopg.connect(fresh_db) as c:
        assert c.execute("SELECT to_regclass('half')").fetchone()[0] is None
        assert c.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == n
