"""Input hardening without a database (issue 17 item 7): CSV formulas, terminal controls, cron digits, JSON bounds."""

from __future__ import annotations

import argparse
import csv
import io

import pytest

from cronkeeper import csv_safe, exports, fields
from cronkeeper.cli.output import emit, printable
from cronkeeper.errors import ConfigurationError, InvalidSchedule, ValidationError
from cronkeeper.schedule.cron import validate_cron


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1", "=HYPERLINK(\"x\")"])
def test_formula_cells_get_a_leading_quote(text):
    assert csv_safe.escape_cell(text) == "'" + text


def test_other_cells_are_unchanged():
    for value in ("Acme", "a=b", "", None, -0.5, 3, "'quoted"):
        assert csv_safe.escape_cell(value) == value


def test_every_text_cell_of_a_csv_export_is_escaped_unless_switched_off(monkeypatch):
    row = dict.fromkeys(exports.COLUMNS)
    row.update(run_id=1, brand="=HYPERLINK(\"http://x\")", query="+1", job_name="@SUM(1)", answer="-x", sentiment=-0.5)
    text = "".join(exports._lines(iter([row]), "csv"))
    record = list(csv.DictReader(io.StringIO(text)))[0]
    assert (record["brand"], record["query"], record["job_name"], record["answer"]) == (
        "'=HYPERLINK(\"http://x\")", "'+1", "'@SUM(1)", "'-x")
    assert record["sentiment"] == "-0.5"  # a number stays a number
    monkeypatch.setenv(csv_safe.ESCAPE_ENV, "0")
    raw = list(csv.DictReader(io.StringIO("".join(exports._lines(iter([row]), "csv")))))[0]
    assert raw["brand"] == "=HYPERLINK(\"http://x\")"
    monkeypatch.setenv(csv_safe.ESCAPE_ENV, "maybe")
    with pytest.raises(ConfigurationError, match=csv_safe.ESCAPE_ENV):
        csv_safe.escaper()


def test_cli_tables_strip_control_characters(capsys):
    evil = "Acme\x1b[2J\x1b]0;pwned\x07\u202eevil\x9b31m"
    assert printable(evil) == "Acme[2J]0;pwnedevil31m"
    emit(argparse.Namespace(json=False), [{"name": evil, "id": 1}], ("id", "name"))
    emit(argparse.Namespace(json=False), {"name": evil})
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out and "\x9b" not in out
    assert "Acme[2J]0;pwnedevil31m" in out


@pytest.mark.parametrize("expr", ["1" * 5000 + " * * * *", "*/" + "9" * 5000 + " * * * *",
                                  "0-" + "5" * 5000 + " * * * *", "* " + "2" * 5000 + " * * *"])  # fmt: skip
def test_a_cron_number_of_thousands_of_digits_is_a_clean_error(expr):
    with pytest.raises(InvalidSchedule) as refused:
        validate_cron(expr)
    assert refused.value.field == "cron_expression" and len(str(refused.value)) < 120


def test_json_depth_and_size_are_bounded_without_recursion():
    deep: dict = {}
    for _ in range(100_000):  # far past Python's recursion limit
        deep = {"a": deep}
    with pytest.raises(ValidationError) as refused:
        fields.json_bounded(deep, "metadata")
    assert refused.value.field == "metadata" and "32" in str(refused.value)
    with pytest.raises(ValidationError, match="bytes"):
        fields.json_bounded({"x": "y" * 70_000}, "metadata")
    assert fields.json_bounded({"a": [1, {"b": 2}]}, "metadata") == {"a": [1, {"b": 2}]}
