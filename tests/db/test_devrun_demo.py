"""`make run` offers the offline demo on an empty database (cronkeeper.devrun.offer_demo)."""

from __future__ import annotations

from cronkeeper import customers
from cronkeeper.db import connect
from cronkeeper.devrun import offer_demo


def _customer_names(dsn: str) -> list[str]:
    with connect(dsn, autocommit=True) as conn:
        return [c.name for c in customers.list_customers(conn, limit=100)]


def test_terminal_yes_loads_the_demo_once(dsn):
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return ""  # Enter: the default is yes

    said = offer_demo(dsn, {}, ask=ask, interactive=True)
    assert "demo loaded" in said and len(asked) == 1 and "[Y/n]" in asked[0]
    assert len(_customer_names(dsn)) == 1
    # no longer empty: not asked again, nothing added
    assert offer_demo(dsn, {}, ask=ask, interactive=True) == ""
    assert len(asked) == 1 and len(_customer_names(dsn)) == 1


def test_terminal_no_leaves_the_database_empty(dsn):
    said = offer_demo(dsn, {}, ask=lambda _prompt: "n", interactive=True)
    assert "make demo" in said
    assert _customer_names(dsn) == []


def test_without_a_terminal_it_only_says_how(dsn):
    def ask(_prompt: str) -> str:
        raise AssertionError("must not prompt without a terminal")

    said = offer_demo(dsn, {}, ask=ask, interactive=False)
    assert "make demo" in said and "CRONKEEPER_DEMO=1" in said
    assert _customer_names(dsn) == []


def test_environment_decides_without_asking(dsn):
    def ask(_prompt: str) -> str:
        raise AssertionError("CRONKEEPER_DEMO decides; no prompt")

    assert offer_demo(dsn, {"CRONKEEPER_DEMO": "0"}, ask=ask, interactive=True) == ""
    assert _customer_names(dsn) == []
    assert "demo loaded" in offer_demo(dsn, {"CRONKEEPER_DEMO": "1"}, ask=ask, interactive=False)
    assert len(_customer_names(dsn)) == 1
