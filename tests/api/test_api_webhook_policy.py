"""Saving a job: webhook URLs that point inside the network, odd ports, unknown secret names and
export paths that leave the customer's directory are 400s naming the field; nothing is stored."""

from __future__ import annotations

import pytest

from tests.support.api import count, new_job_body
from tests.support.factories import make_brand

JOBS = "/api/admin/scheduled-jobs"


@pytest.fixture
def brand(conn):
    return make_brand(conn)


@pytest.mark.parametrize(
    ("hook", "field", "words"),
    [
        ({"url": "http://127.0.0.1:5432/"}, "metadata.on_success.url", "blocked by outbound policy"),
        ({"url": "http://169.254.169.254/latest/meta-data/"}, "metadata.on_success.url", "blocked by outbound policy"),
        ({"url": "http://[::1]/"}, "metadata.on_success.url", "blocked by outbound policy"),
        ({"url": "http://2130706433/"}, "metadata.on_success.url", "blocked by outbound policy"),
        ({"url": "http://[::ffff:127.0.0.1]/"}, "metadata.on_success.url", "blocked by outbound policy"),
        ({"url": "http://0.0.0.0/"}, "metadata.on_success.url", "blocked by outbound policy"),
        ({"url": "https://hooks.example.com:99999/"}, "metadata.on_success.url", "invalid port"),
        ({"url": "https://hooks.example.com:8443/"}, "metadata.on_success.url", "port 8443 is blocked"),
        ({"url": "https://hooks.example.com/", "secret_env": "DATABASE_URL"}, "metadata.on_success.secret_env",
         "unknown signing secret 'DATABASE_URL'; the operator configures names in CRONKEEPER_WEBHOOK_SECRETS"),
    ],
)  # fmt: skip
@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_webhook_the_policy_refuses_is_a_400_naming_the_field(api, brand, conn, monkeypatch, hook, field, words):
    monkeypatch.delenv("CRONKEEPER_OUTBOUND_ALLOW", raising=False)
    monkeypatch.delenv("CRONKEEPER_WEBHOOK_SECRETS", raising=False)
    before = count(conn, "scheduled_jobs")
    r = api.post(JOBS, json=new_job_body(brand, metadata={"on_success": hook}))
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field and words in r.json()["message"]
    assert count(conn, "scheduled_jobs") == before


def test_unknown_secret_names_read_the_same_whether_or_not_the_variable_exists(api, brand, monkeypatch):
    monkeypatch.setenv("CRONKEEPER_WEBHOOK_SECRETS", "shop=SHOP_SECRET")
    monkeypatch.setenv("EXISTING_VAR", "x")
    monkeypatch.delenv("MISSING_VAR", raising=False)
    messages = []
    for name in ("EXISTING_VAR", "MISSING_VAR"):
        r = api.post(JOBS, json=new_job_body(brand, metadata={"on_failure": {"url": "https://h.example/x",
                                                                              "secret_env": name}}))  # fmt: skip
        assert r.status_code == 400
        messages.append(r.json()["message"].replace(name, "NAME"))
    assert messages[0] == messages[1]
    r = api.post(JOBS, json=new_job_body(brand, metadata={"on_failure": {"url": "https://h.example/x",
                                                                          "secret_env": "shop"}}))  # fmt: skip
    assert r.status_code == 201 and r.json()["metadata"]["on_failure"]["secret_env"] == "shop"


def test_the_allow_list_lets_an_inside_receiver_be_saved(api, brand, monkeypatch):
    monkeypatch.setenv("CRONKEEPER_OUTBOUND_ALLOW", "10.20.0.0/16,hooks.internal:8080")
    for url in ("http://10.20.3.4:9000/hook", "http://hooks.internal:8080/hook"):
        r = api.post(JOBS, json=new_job_body(brand, metadata={"on_success": {"url": url}}))
        assert r.status_code == 201, r.text


@pytest.mark.parametrize("path", [".", "..", "./", "/etc/cron.d/x", "~/x.csv", "a/../../b.csv", "daily/"])
def test_an_export_path_outside_the_customers_directory_is_a_400(api, brand, path):
    r = api.post(JOBS, json=new_job_body(brand, metadata={"output_format": "csv", "output_path": path}))
    assert r.status_code == 400 and r.json()["field"] == "metadata.output_path", r.text
