"""Where a newcomer lands: ``/`` goes to the admin UI, unknown admin pages get the UI's own 404."""

import pytest

from tests.support.api import api_client

JOBS = "/admin/scheduled-jobs"


@pytest.fixture
def ui(dsn):
    with api_client(dsn, token=False) as api:  # the pages need no token
        yield api


@pytest.mark.parametrize("path", ["/", "/admin", "/admin/"])
def test_the_root_redirects_to_the_jobs_page(ui, path):
    r = ui.get(path, follow_redirects=False)
    assert r.status_code in (302, 307), r.status_code
    assert r.headers["location"] == JOBS
    assert ui.get(path).url.path == JOBS  # and the target is the shell


@pytest.mark.parametrize("path", ["/admin/nope", "/admin/settings/deep/path", "/admin/scheduled-jobsx"])
def test_an_unknown_admin_page_gets_the_shell_whose_router_shows_not_found(ui, path):
    r = ui.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<main id="main"' in r.text and "/admin/static/js/main.js?v=" in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/api/admin/nope", "/api/nope", "/nope", "/admin/static/missing.js"])
def test_api_paths_files_and_other_paths_keep_their_json_404(ui, path):
    r = ui.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"] == "NotFound"


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_the_redirect_and_the_catch_all_stay_out_of_the_schema(ui):
    paths = ui.get("/schema/openapi.json").json()["paths"]
    assert "/" not in paths
    assert not [p for p in paths if p.startswith("/admin")]
