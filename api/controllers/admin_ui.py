"""The admin UI: one HTML shell for every page, and its static files.

``GET /admin/scheduled-jobs``, ``/admin/scheduled-jobs/{id}``, ``/admin/job-runs/{id}``,
``/admin/customers``, ``/admin/brands`` and ``/admin/brands/{id}`` all render
``admin_ui/templates/index.html`` (jinja2); the client-side app in
``admin_ui/static/`` (plain ES modules and CSS, no build step) then routes with the History
API and talks to ``/api/admin`` with the bearer token the user pastes in. The shell needs no
token: it holds no data. ``/`` and ``/admin`` redirect to the jobs page; any other
path under ``/admin`` gets the shell too, whose router shows its "Page not found" view
(paths under ``/api`` keep their JSON 404).

Everything is served by this process with a strict Content-Security-Policy (no inline
script, nothing from other origins). The page polls every ``admin_ui_poll_ms``
milliseconds of the app's state (default 2000; tests lower it).
"""

from __future__ import annotations

import hashlib
import importlib.resources
from functools import cache
from pathlib import Path

import jinja2
from litestar import MediaType, Request, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

UI_DIR = Path(str(importlib.resources.files("cronkeeper.admin_ui")))
STATIC_DIR = UI_DIR / "static"
STATIC_PATH = "/admin/static"
API_BASE = "/api/admin"
DEFAULT_POLL_MS = 2000

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(UI_DIR / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )


@cache
def asset_version() -> str:
    """A short hash of the static files, so a new release is never served from an old cache."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(STATIC_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def render_shell(request: Request) -> Response[str]:
    poll_ms = request.app.state.get("admin_ui_poll_ms", DEFAULT_POLL_MS)
    html = _templates().get_template("index.html").render(
        static=STATIC_PATH, version=asset_version(), api_base=API_BASE, poll_ms=int(poll_ms)
    )
    return Response(html, media_type=MediaType.HTML, headers=SECURITY_HEADERS)


@get(["/", "/admin"], include_in_schema=False, sync_to_thread=False)
def admin_root() -> Redirect:
    return Redirect("/admin/scheduled-jobs")


@get("/admin/scheduled-jobs", include_in_schema=False, sync_to_thread=False)
def jobs_page(request: Request) -> Response[str]:
    return render_shell(request)


@get("/admin/scheduled-jobs/{job_id:str}", include_in_schema=False, sync_to_thread=False)
def job_page(request: Request) -> Response[str]:
    return render_shell(request)


# "/admin/job-runs" itself is named: a route below it makes it a node the catch-all does not reach
@get(["/admin/job-runs", "/admin/job-runs/{run_id:str}"], include_in_schema=False, sync_to_thread=False)
def run_page(request: Request) -> Response[str]:
    return render_shell(request)


@get(
    ["/admin/customers", "/admin/brands", "/admin/brands/{brand_id:str}"],
    include_in_schema=False, sync_to_thread=False,
)  # fmt: skip
def manage_pages(request: Request) -> Response[str]:
    return render_shell(request)


@get("/admin/{rest:path}", include_in_schema=False, sync_to_thread=False)
def unknown_page(request: Request) -> Response[str]:
    """Any other page under /admin: the shell, whose router shows its own "Page not found"."""
    return render_shell(request)


def _static_router():
    # no-cache: revalidate each time (modules import each other by plain relative paths)
    return create_static_files_router(
        path=STATIC_PATH, directories=[STATIC_DIR], include_in_schema=False,
        cache_control=CacheControlHeader(no_cache=True), name="admin_static",
    )  # fmt: skip


ADMIN_UI_HANDLERS = [
    admin_root, jobs_page, job_page, run_page, manage_pages, unknown_page, _static_router(),
]  # fmt: skip
