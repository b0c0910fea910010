"""Field specs and the cleaning of submitted data against them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.engine.fields import (
    FieldSpec,
    field_list_problems,
    file_ids,
    is_email,
    validate_data,
    visible_fields,
)


def clean(spec: dict, value) -> tuple[dict, list]:
    return validate_data([FieldSpec(**spec)], {spec["name"]: value})


def problems_of(spec: dict, value) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in clean(spec, value)[1]]


def test_field_type_defaults_to_text() -> None:
    assert FieldSpec(name="Note").type == "text"


@pytest.mark.parametrize("name", ["", "   "])
def test_field_name_must_not_be_empty(name: str) -> None:
    with pytest.raises(ValidationError):
        FieldSpec(name=name)


def test_select_field_needs_options() -> None:
    with pytest.raises(ValidationError, match="options"):
        FieldSpec(name="Size", type="select")


def test_unknown_field_type_is_rejected() -> None:
    with pytest.raises(ValidationError):
        FieldSpec(name="Colour", type="colour")


def test_unknown_spec_property_is_rejected() -> None:
    with pytest.raises(ValidationError, match="requird"):
        FieldSpec(name="Email", requird=True)


def test_missing_required_field_is_reported_as_required() -> None:
    cleaned, errors = validate_data([FieldSpec(name="Full Name", required=True)], {})
    assert cleaned == {}
    assert [(e.field, e.code) for e in errors] == [("Full Name", "required")]


@pytest.mark.parametrize("value", ["", "   ", None])
def test_empty_value_for_required_field_counts_as_missing(value) -> None:
    assert problems_of({"name": "Full Name", "required": True}, value) == [
        ("Full Name", "required")
    ]


def test_required_message_uses_the_label() -> None:
    _, errors = validate_data([FieldSpec(name="fn", label="Full name", required=True)], {})
    assert errors[0].message == "Full name is required"


def test_missing_optional_field_is_absent() -> None:
    assert validate_data([FieldSpec(name="Note")], {}) == ({}, [])


def test_missing_optional_field_takes_its_default() -> None:
    assert validate_data([FieldSpec(name="Team", default="ops")], {}) == ({"Team": "ops"}, [])


def test_text_is_stripped() -> None:
    assert clean({"name": "Name"}, "  Ada  ") == ({"Name": "Ada"}, [])


def test_textarea_keeps_its_whitespace() -> None:
    assert clean({"name": "Notes", "type": "textarea"}, "  a\n  b") == ({"Notes": "  a\n  b"}, [])


def test_text_field_rejects_an_object() -> None:
    assert problems_of({"name": "Name"}, {"a": 1}) == [("Name", "invalid")]


@pytest.mark.parametrize(("value", "expected"), [("42", 42), ("4.5", 4.5), (7, 7), (2.5, 2.5)])
def test_number_is_coerced_from_numeric_strings(value, expected) -> None:
    assert clean({"name": "Amount", "type": "number"}, value) == ({"Amount": expected}, [])


@pytest.mark.parametrize("value", ["abc", True, "nan", "inf", [1]])
def test_number_rejects_non_numbers(value) -> None:
    assert problems_of({"name": "Amount", "type": "number"}, value) == [("Amount", "invalid")]


@pytest.mark.parametrize(("value", "expected"), [("42", 42), (" -3 ", -3), (5, 5), (6.0, 6)])
def test_integer_accepts_whole_numbers(value, expected) -> None:
    assert clean({"name": "Seats", "type": "integer"}, value) == ({"Seats": expected}, [])


@pytest.mark.parametrize("value", ["4.5", 4.5, "four", False])
def test_integer_rejects_fractions_and_words(value) -> None:
    assert problems_of({"name": "Seats", "type": "integer"}, value) == [("Seats", "invalid")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), ("on", True), ("false", False), ("OFF", False)],
)
def test_checkbox_accepts_booleans_and_form_words(value, expected) -> None:
    assert clean({"name": "Agree", "type": "checkbox"}, value) == ({"Agree": expected}, [])


def test_checkbox_rejects_other_words() -> None:
    assert problems_of({"name": "Agree", "type": "checkbox"}, "maybe") == [("Agree", "invalid")]


@pytest.mark.parametrize("value", [False, "false", "off"])
def test_required_checkbox_must_be_ticked(value) -> None:
    spec = {"name": "Agree", "type": "checkbox", "required": True}
    assert problems_of(spec, value) == [("Agree", "required")]


def test_date_is_kept_as_iso_string() -> None:
    assert clean({"name": "Start", "type": "date"}, "2024-02-29") == ({"Start": "2024-02-29"}, [])


@pytest.mark.parametrize("value", ["2023-02-29", "29/02/2024", "20240229", "2024-02-29T10:00", 5])
def test_date_rejects_anything_but_a_real_iso_date(value) -> None:
    assert problems_of({"name": "Start", "type": "date"}, value) == [("Start", "invalid")]


def test_email_is_accepted_and_stripped() -> None:
    assert clean({"name": "Email", "type": "email"}, " ada@example.com ") == (
        {"Email": "ada@example.com"},
        [],
    )


@pytest.mark.parametrize(
    "value", ["ada", "ada@", "@example.com", "ada@example", "a da@example.com", "a@b@c.com", 3]
)
def test_email_rejects_malformed_addresses(value) -> None:
    assert problems_of({"name": "Email", "type": "email"}, value) == [("Email", "invalid")]


def test_is_email_accepts_plus_addressing() -> None:
    assert is_email("ada+flowdesk@mail.example.co.uk")


@pytest.mark.parametrize("value", ["http://example.com", "https://example.com/a?b=1"])
def test_url_accepts_http_and_https(value: str) -> None:
    assert clean({"name": "Site", "type": "url"}, value) == ({"Site": value}, [])


@pytest.mark.parametrize(
    "value", ["ftp://example.com", "javascript:alert(1)", "example.com", "https://", "http://a b"]
)
def test_url_rejects_other_schemes_and_hostless_urls(value: str) -> None:
    assert problems_of({"name": "Site", "type": "url"}, value) == [("Site", "invalid")]


def test_select_accepts_one_of_its_options() -> None:
    spec = {"name": "Size", "type": "select", "options": ["S", "M", "L"]}
    assert clean(spec, "M") == ({"Size": "M"}, [])


def test_select_rejects_a_value_outside_its_options() -> None:
    spec = {"name": "Size", "type": "select", "options": ["S", "M", "L"]}
    _, errors = clean(spec, "XL")
    assert [(e.field, e.code) for e in errors] == [("Size", "invalid")]
    assert "S, M, L" in errors[0].message


def test_select_matches_a_number_against_numeric_options() -> None:
    spec = {"name": "Rating", "type": "select", "options": ["1", "2", "3"]}
    assert clean(spec, 2) == ({"Rating": "2"}, [])


def test_unknown_key_is_reported_as_unknown_field() -> None:
    _, errors = validate_data([FieldSpec(name="Name")], {"Name": "Ada", "Nmae": "x"})
    assert [(e.field, e.code) for e in errors] == [("Nmae", "unknown_field")]


def test_every_problem_is_reported_at_once() -> None:
    fields = [
        FieldSpec(name="Full Name", required=True),
        FieldSpec(name="Email", type="email", required=True),
        FieldSpec(name="Amount", type="number"),
    ]
    cleaned, errors = validate_data(fields, {"Email": "nope", "Amount": "x", "Extra": 1})
    assert cleaned == {}
    assert [(e.field, e.code) for e in errors] == [
        ("Full Name", "required"),
        ("Email", "invalid"),
        ("Amount", "invalid"),
        ("Extra", "unknown_field"),
    ]


def test_valid_data_is_cleaned_without_problems() -> None:
    fields = [
        FieldSpec(name="Full Name", required=True),
        FieldSpec(name="Email", type="email", required=True),
        FieldSpec(name="Seats", type="integer"),
    ]
    data = {"Full Name": " Ada Lovelace ", "Email": "ada@example.com", "Seats": "3"}
    assert validate_data(fields, data) == (
        {"Full Name": "Ada Lovelace", "Email": "ada@example.com", "Seats": 3},
        [],
    )


# ---------------------------------------------------------------- show_if and files

_CONDITIONAL = [FieldSpec(name="amount", type="number", required=True),
                FieldSpec(name="reason", type="text", required=True, show_if="amount > 1000"),
                FieldSpec(name="second opinion", type="checkbox",
                          show_if='values["reason"] == "audit"')]


def test_show_if_reads_earlier_values_cleaned() -> None:
    assert visible_fields(_CONDITIONAL, {"amount": "50"}) == ["amount"]
    assert visible_fields(_CONDITIONAL, {"amount": "5000"}) == ["amount", "reason"]
    assert visible_fields(_CONDITIONAL, {"amount": "5000", "reason": "audit"}) == [
        "amount", "reason", "second opinion"]
    # An empty or unparsable earlier value hides the field rather than failing.
    assert visible_fields(_CONDITIONAL, {"amount": "lots"}) == ["amount"]


def test_a_hidden_field_is_neither_required_nor_stored() -> None:
    clean, problems = validate_data(_CONDITIONAL, {"amount": "10", "reason": "stale"})
    assert clean == {"amount": 10} and problems == []
    clean, problems = validate_data(_CONDITIONAL, {"amount": "2000"})
    assert [(p.field, p.code) for p in problems] == [("reason", "required")]


def test_show_if_must_read_earlier_fields_and_parse() -> None:
    specs = [FieldSpec(name="a", show_if="b == 1"), FieldSpec(name="b")]
    assert field_list_problems(specs) == [(0, "show_if", "'b' is not an earlier field")]
    with pytest.raises(ValueError, match="show_if"):
        FieldSpec(name="x", show_if="a ==")


_FILE = FieldSpec(name="doc", type="file", required=True, accept=["image/*", "application/pdf"],
                  max_bytes=100)
_REF = {"id": "fil_1", "name": "a.png", "size": 10, "content_type": "image/png",
        "sha256": "0" * 64}


def test_file_fields_look_files_up_and_apply_their_limits() -> None:
    found = {"fil_1": _REF, "fil_2": {**_REF, "id": "fil_2", "size": 500},
             "fil_3": {**_REF, "id": "fil_3", "content_type": "text/plain"}}
    clean, problems = validate_data([_FILE], {"doc": "fil_1"}, files=found.get)
    assert clean == {"doc": _REF} and not problems
    for value, message in (("fil_2", "limit of 100 bytes"), ("fil_3", "text/plain"),
                           ("fil_9", "was not found"), (42, "id of an uploaded file")):
        _, problems = validate_data([_FILE], {"doc": value}, files=found.get)
        assert message in problems[0].message, value
    assert file_ids([_FILE], {"doc": {"id": "fil_1"}}) == ["fil_1"]


def test_without_a_lookup_only_a_whole_reference_passes() -> None:
    clean, problems = validate_data([_FILE], {"doc": _REF})
    assert clean == {"doc": _REF} and not problems
    _, problems = validate_data([_FILE], {"doc": "fil_1"})
    assert "cannot be attached here" in problems[0].message
