"""The CLI and the API answer the same bad value with the same message, and
follow the same rule for a new job's customer (both call the same services)."""

from __future__ import annotations

import json

import pytest

from cronkeeper.cli import main
from tests.support.api import count, new_job_body
from tests.support.factories import make_brand, make_customer


@pytest.fixture
def cli(dsn, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", dsn)

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def same_words(cli_says: str, api_says: str) -> bool:
    """The CLI's message is the API's sentence without its capital and full stop."""
    return cli_says.lower().rstrip(".") == api_says.lower().rstrip(".")


def test_a_blank_brand_or_customer_name_reads_the_same(api, cli, conn):
    customer = make_customer(conn)
    brand = make_brand(conn, customer)
    pairs = [
        (api.post("/api/admin/brands", json={"customer_id": str(customer.id), "name": "  "}),
         cli("brands", "create", "--customer", str(customer.id), "--name", "  ")),
        (api.put(f"/api/admin/brands/{brand.id}", json={"name": " "}),
         cli("brands", "update", str(brand.id), "--name", " ")),
        (api.post("/api/admin/customers", json={"name": "   "}), cli("customers", "create", "--name", "   ")),
        (api.put(f"/api/admin/customers/{customer.id}", json={"name": " "}),
         cli("customers", "rename", str(customer.id), "--name", " ")),
        (api.post(f"/api/admin/brands/{brand.id}/queries", json={"text": " "}),
         cli("brands", "queries", "add", str(brand.id), "--text", " ")),
    ]  # fmt: skip
    for response, (code, out, err) in pairs:
        assert response.status_code == 400, response.text
        message = response.json()["message"]  # the API's sentence names the field (api.errors)
        assert message == "Name must not be blank." or message == "Text must not be blank.", message
        cli_says = err.rstrip("\n").rsplit(": ", 1)[-1]
        assert code == 2 and out == "" and same_words(cli_says, message), (message, err)
    assert count(conn, "brands") == 1 and count(conn, "brand_queries") == 0
    assert conn.execute("SELECT name FROM customers").fetchone()["name"] == customer.name


def test_a_new_jobs_customer_is_its_brands_on_both_surfaces(api, cli, conn):
    brand, other = make_brand(conn), make_brand(conn)
    body = new_job_body(brand, customer_id=None)
    from_api = api.post("/api/admin/scheduled-jobs", json=body).json()
    code, out, _ = cli("jobs", "create", "--brand", str(brand.id), "--type", "scoring", "--interval", "60", "--json")
    assert code == 0 and json.loads(out)["customer_id"] == from_api["customer_id"] == str(brand.customer_id)
    wrong = api.post("/api/admin/scheduled-jobs", json=new_job_body(brand, customer_id=str(other.customer_id)))
    assert wrong.status_code == 400 and wrong.json()["field"] == "customer_id"
    code, _, err = cli("jobs", "create", "--brand", "00000000-0000-0000-0000-000000000000", "--type", "scoring",
                       "--interval", "60")  # fmt: skip
    unknown = api.post("/api/admin/scheduled-jobs", json=new_job_body(brand, brand_id="00000000-0000-0000-0000-000000000000"))
    cli_says = err.rstrip("\n").split("--brand: ", 1)[-1]
    assert code == 2 and cli_says in unknown.json()["message"] and cli_says.startswith("no brand")
    assert count(conn, "scheduled_jobs") == 2
