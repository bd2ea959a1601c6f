"""PgBouncer 1.18 in transaction mode in front of a PostgreSQL server, for the pooler tests
(tests/pooler) and the benches (bench/bench_worker.py --pooler).

``run_pgbouncer(server_dsn)`` starts Debian's ``pgbouncer`` (``apt-get install -y
pgbouncer``; ``.ci/run`` installs it) on a free port with an ini and a userlist in
a temporary folder, forwarding every database name to the server, and stops it on exit.
"""

from __future__ import annotations

import getpass
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.support.stack import free_port, wait_for


def pgbouncer_binary() -> str | None:
    found = shutil.which("pgbouncer")
    if found:
        return found
    return next((p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.access(p, os.X_OK)), None)


@dataclass
class Bouncer:
    port: int
    user: str
    folder: Path
    server_dsn: str

    def dsn(self, direct_dsn: str) -> str:
        """``direct_dsn``'s database, through the pooler."""
        dbname = conninfo_to_dict(direct_dsn).get("dbname", "postgres")
        return make_conninfo("", host="127.0.0.1", port=str(self.port), user=self.user, dbname=dbname)

    def log(self) -> str:
        return (self.folder / "pgbouncer.log").read_text()


def _run_as(host: str) -> str | None:
    """PgBouncer refuses to run as root: run it as the owner of the server's socket folder, or nobody."""
    if os.geteuid() != 0:
        return None
    if host.startswith("/"):
        return pwd.getpwuid(os.stat(host).st_uid).pw_name
    return "nobody"


@contextmanager
def run_pgbouncer(server_dsn: str, binary: str | None = None) -> Iterator[Bouncer]:
    """PgBouncer in transaction mode in front of ``server_dsn``'s server, until the block ends."""
    binary = binary or pgbouncer_binary()
    if binary is None:
        raise RuntimeError("PgBouncer is not installed (apt-get install -y pgbouncer)")
    params = conninfo_to_dict(server_dsn)
    host, port = params.get("host") or "127.0.0.1", params.get("port") or "5432"
    user = params.get("user") or getpass.getuser()
    folder = Path(tempfile.mkdtemp(prefix="ck-pgbouncer-"))
    folder.chmod(0o755)  # readable by the user pgbouncer switches to
    listen = free_port()
    (folder / "userlist.txt").write_text(f'"{user}" ""\n')
    (folder / "pgbouncer.ini").write_text(f"""\
[databases]
* = host={host} port={port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen}
unix_socket_dir =
auth_type = trust
auth_file = {folder / "userlist.txt"}
pool_mode = transaction
max_client_conn = 400
default_pool_size = 20
ignore_startup_parameters = extra_float_digits
""")
    for f in folder.iterdir():
        f.chmod(0o644)
    run_as = _run_as(host)
    command = [binary, *(["-u", run_as] if run_as else []), str(folder / "pgbouncer.ini")]
    with open(folder / "pgbouncer.log", "wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    b = Bouncer(listen, user, folder, server_dsn)
    try:
        wait_for("pgbouncer to answer", lambda: proc.poll() is not None or _answers(b.dsn(server_dsn)), timeout=15)
        assert proc.poll() is None, f"pgbouncer exited: {b.log()}"
        yield b
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        shutil.rmtree(folder, ignore_errors=True)


def _answers(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=2, prepare_threshold=None) as c:
            return c.execute("SELECT 1").fetchone()[0] == 1
    except psycopg.OperationalError:
        return False
