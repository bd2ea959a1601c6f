"""``cronkeeper api [--host H] [--port P] [--workers N]`` and ``cronkeeper token create|list|revoke``."""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

from cronkeeper.api import processes

from cronkeeper.db import prepared_dsn
from cronkeeper.errors import ConfigurationError, ValidationError
from cronkeeper.logs import setup_logging
from cronkeeper.settings import Settings

if TYPE_CHECKING:
    from litestar import Litestar

WORKERS_VAR = "CRONKEEPER_API_WORKERS"
# One process per core. The hot reads run on each process's event loop (api.app,
# IN_LOOP), so a process serves one of them at a time and the processes overlap
# with each other and with PostgreSQL. On 2 cores, 32 clients: two processes
# gave the lists a p99 of 23-46 ms, against 36-64 ms for one (docs/benchmarks.md,
# finding 4.11). Before the reads ran on the loop, half the cores was better.
DEFAULT_WORKERS = max(1, os.cpu_count() or 1)
MAX_WORKERS = 64
TOKEN_CACHE_VAR = "CRONKEEPER_API_TOKEN_CACHE_SECONDS"
DEFAULT_TOKEN_CACHE_SECONDS = 5.0  # a revoked token is refused by every worker within this time
_DSN_VAR = "CRONKEEPER_API_DSN"
_PARENT_VAR = "CRONKEEPER_API_PARENT_PID"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("api", help="serve the admin API (migrates first; Ctrl-C stops)")
    p.add_argument("--host", default=os.environ.get("CRONKEEPER_API_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("CRONKEEPER_API_PORT", "8000")))
    p.add_argument(
        "--workers", type=int, default=os.environ.get(WORKERS_VAR, str(DEFAULT_WORKERS)),
        help=f"API processes sharing the port (default {DEFAULT_WORKERS}, or {WORKERS_VAR})",
    )  # fmt: skip
    p.set_defaults(func=serve)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="token_command", required=True)
    create = token.add_parser("create", help="make a token and print it (shown once)")
    create.add_argument("--name", required=True, help="what the token is for")
    create.add_argument("--role", choices=("admin", "viewer"), default="admin")
    create.add_argument("--customer", metavar="ID", help="bind the token to one customer's data")
    create.set_defaults(func=token_create)
    listing = token.add_parser("list", help="list tokens (never their secrets)")
    listing.add_argument("--active", action="store_true", help="leave out revoked tokens")
    listing.set_defaults(func=token_list)
    revoke = token.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=token_revoke)


def serve(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate once, then run ``args.workers`` uvicorn processes of ``app_from_env`` on one port."""
    import uvicorn

    if not 0 < args.port < 65536:
        raise ValidationError("--port must be between 1 and 65535", field="port")
    if not 1 <= args.workers <= MAX_WORKERS:
        raise ValidationError(f"--workers must be between 1 and {MAX_WORKERS}", field="workers")
    token_cache_seconds(os.environ)  # a bad value fails here, not in every worker
    setup_logging("api", settings.log_level, settings.log_format)
    # the workers are fresh interpreters (spawned): they get the DSN and our pid through the environment
    os.environ[_DSN_VAR] = prepared_dsn(settings)
    os.environ[_PARENT_VAR] = str(os.getpid()) if args.workers > 1 else ""
    # log_config=None keeps our JSON logging; uvicorn handles SIGTERM/SIGINT itself
    config = {"app": "cronkeeper.api.cli:app_from_env", "factory": True, "log_config": None, "access_log": False}
    if args.workers > 1 and processes.balanced_by_kernel():
        try:
            return processes.Supervisor(args.workers, args.host, args.port, config).run()
        except OSError as exc:
            print(f"cronkeeper api: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    uvicorn.run(**config, workers=args.workers, host=args.host, port=args.port)
    return 0


def token_cache_seconds(env: Mapping[str, str]) -> float:
    raw = env.get(TOKEN_CACHE_VAR) or str(DEFAULT_TOKEN_CACHE_SECONDS)
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 300:
        raise ConfigurationError(f"{TOKEN_CACHE_VAR} must be a number of seconds from 0 to 300, got {raw!r}",
                                 field=TOKEN_CACHE_VAR)  # fmt: skip
    return value


def app_from_env() -> Litestar:
    """The app of one API process, as ``serve`` set it up (uvicorn calls this in each worker)."""
    from cronkeeper.api.app import create_app
    from cronkeeper.api.auth import TokenCache
    from psycopg.types.json import set_json_loads

    settings = Settings.from_env()
    setup_logging("api", settings.log_level, settings.log_format)
    set_json_loads(_fast_json_loads())  # this process's connections: jsonb columns (run metrics, job metadata)
    app = create_app(os.environ[_DSN_VAR], settings, register_process=True)
    ttl = token_cache_seconds(os.environ)
    if ttl > 0:
        app.state.token_cache = TokenCache(ttl)
    if parent := os.environ.get(_PARENT_VAR):
        _stop_with_parent(int(parent))
    # Everything loaded so far lives as long as the process: keep it out of the
    # collector's full passes (their pauses were most of the p99 under load).
    gc.freeze()
    return app


def _fast_json_loads() -> Callable[[bytes | str], Any]:
    """jsonb to Python values with msgspec, ~3x faster than ``json.loads`` (7 % of a runs list's CPU).

    msgspec refuses numbers beyond a float (jsonb may hold ``1e400``): those go to ``json.loads``.
    """
    import json

    import msgspec

    decode, fallback, refused = msgspec.json.decode, json.loads, msgspec.MsgspecError

    def loads(data: bytes | str) -> Any:
        try:
            return decode(data)
        except refused:
            return fallback(data)

    return loads


def _stop_with_parent(parent: int) -> None:
    """A worker whose parent died (kill -9) stops rather than hold the port as an orphan."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful shutdown

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _customer(value: str | None) -> UUID | None:
    if value is None:
        return None
    try:
        return UUID(value)
    except ValueError:
        raise ValidationError(f"--customer must be a customer's UUID; got {value!r}", field="customer") from None


def token_create(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.db import connect
    from cronkeeper.tokens import create_token

    customer_id = _customer(args.customer)
    with connect(prepared_dsn(settings), autocommit=True) as conn:
        made = create_token(conn, name=args.name, role=args.role, customer_id=customer_id)
    scope = f"customer {customer_id}" if customer_id else "all customers"
    print(f"token {made.token.id} ({made.token.role}, {scope}); it is shown only this once:", file=sys.stderr)
    print(made.secret)
    return 0


def _when(value) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


def token_list(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.db import connect
    from cronkeeper.tokens import list_tokens

    with connect(prepared_dsn(settings), autocommit=True) as conn:
        tokens = list_tokens(conn, include_revoked=not args.active)
    print(f"{'ID':>4}  {'NAME':<24} {'ROLE':<7} {'CUSTOMER':<36} {'CREATED':<25} {'LAST USED':<25} REVOKED")
    for t in tokens:
        print(
            f"{t.id:>4}  {t.name[:24]:<24} {t.role:<7} {str(t.customer_id or '-'):<36} "
            f"{_when(t.created_at):<25} {_when(t.last_used_at):<25} {_when(t.revoked_at)}"
        )
    return 0


def token_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from cronkeeper.clock import utcnow
    from cronkeeper.db import connect
    from cronkeeper.tokens import revoke_token

    with connect(prepared_dsn(settings), autocommit=True) as conn:
        token = revoke_token(conn, args.id, utcnow())
    ttl = token_cache_seconds(os.environ)
    print(f"revoked token {token.id} ({token.name})" + (f"; running API processes refuse it within {ttl:g} s" if ttl else ""))
    return 0
