"""``cronkeeper.fields``: each check's normal form, and its refusal naming the field."""

from __future__ import annotations

import datetime as dt
import enum
from uuid import UUID

import pytest

from cronkeeper import fields
from cronkeeper.errors import ValidationError

ID = UUID("12345678-1234-5678-1234-567812345678")


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


def refused(check, *args, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        check(*args, **kwargs)
    return caught.value


def test_uuid_takes_a_uuid_or_its_text():
    assert fields.uuid(ID, "brand_id") is ID
    assert fields.uuid(str(ID), "brand_id") == ID
    error = refused(fields.uuid, "nope", "brand_id")
    assert (error.field, error.message) == ("brand_id", "brand_id must be a UUID; got 'nope'")


def test_without_a_field_the_message_is_the_rule_alone():
    error = refused(fields.uuid, "nope", "")
    assert (error.field, error.message) == (None, "must be a UUID; got 'nope'")


def test_enum_value_names_the_allowed_values():
    assert fields.enum_value(Colour, "red", "colour") is Colour.RED
    assert fields.enum_value(Colour, Colour.BLUE, "colour") is Colour.BLUE
    assert refused(fields.enum_value, Colour, "green", "colour").message == "colour must be one of red, blue; got 'green'"


@pytest.mark.parametrize(
    ("value", "maximum", "message"),
    [
        (True, None, "n must be an integer"),
        ("3", None, "n must be an integer"),
        (1.5, None, "n must be an integer"),
        (0, None, "n must be at least 1; got 0"),
        (11, 10, "n must be between 1 and 10; got 11"),
    ],
)
def test_integer_is_a_bounded_int(value, maximum, message):
    assert refused(fields.integer, value, "n", 1, maximum).message == message


def test_integer_in_bounds_is_kept():
    assert fields.integer(10, "n", 1, 10) == 10 and fields.integer(10**9, "n", 0) == 10**9


@pytest.mark.parametrize(("text", "message"), [
    ("abc", "n must be a whole number; got 'abc'"), ("-1", "n must be a whole number; got '-1'"),
    ("1" * 19, "n must be a whole number; got '1111111111111111111'"), ("٣", "n must be a whole number; got '٣'"),
    ("0", "n must be between 1 and 5; got 0"), ("6", "n must be between 1 and 5; got 6"),
])  # fmt: skip
def test_whole_number_reads_ascii_digits_only(text, message):
    assert refused(fields.whole_number, text, "n", 1, 5).message == message


def test_whole_number_in_bounds():
    assert fields.whole_number(" 5 ", "n", 1, 5) == 5


def test_boolean_refuses_anything_but_a_bool():
    assert fields.boolean(False, "is_active") is False
    assert refused(fields.boolean, "yes", "is_active").message == "is_active must be true or false"


@pytest.mark.parametrize(("value", "message"), [
    ("   ", "name must not be blank"), ("", "name must not be blank"), (None, "name must be a string"),
    ("a\x00b", "name must not contain NUL characters"), ("x" * 201, "name must be at most 200 characters long"),
])  # fmt: skip
def test_text_refuses_blank_nul_and_too_long(value, message):
    error = refused(fields.text, value, "name")
    assert (error.field, error.message) == ("name", message)


def test_text_is_stripped_and_optional_text_may_be_none():
    assert fields.text("  Acme  ", "name") == "Acme"
    assert fields.text("x" * 2000, "text", max_length=2000) == "x" * 2000
    assert fields.optional_text(None, "name") is None and fields.optional_text("  ", "name") is None
    assert fields.optional_text(" a ", "name") == "a"


def test_names_checks_every_name():
    assert fields.names([" W ", "Wdgt"], "aliases") == ["W", "Wdgt"]
    assert fields.names(None, "aliases") == []
    assert refused(fields.names, ["W", " "], "aliases").message == "aliases must not be blank"
    assert refused(fields.names, "W", "aliases").message == "aliases must be a list of names"
    assert refused(fields.names, ["n"] * 3, "aliases", max_items=2).message == "aliases must hold at most 2 names"


def test_iso_time_keeps_an_offset_when_given():
    aware = fields.iso_time("2030-01-31T09:00+01:00", "at")
    assert aware == dt.datetime(2030, 1, 31, 8, 0, tzinfo=dt.UTC)
    assert fields.iso_time("2030-01-31T09:00", "at").tzinfo is None
    moment = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert fields.iso_time(moment, "at") is moment
    assert refused(fields.iso_time, "tomorrow", "at").message == "at must be an ISO date-time (2030-01-31T09:00); got 'tomorrow'"


def test_json_object_from_text_or_dict():
    assert fields.json_object('{"a": 1}', "metadata") == {"a": 1}
    assert fields.json_object({"a": 1}, "metadata") == {"a": 1}
    assert refused(fields.json_object, "[1]", "metadata").message == "metadata must be a JSON object; got [1]"
    assert refused(fields.json_object, "{bad", "metadata").message.startswith("metadata must be valid JSON (")
