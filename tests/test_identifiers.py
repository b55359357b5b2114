"""Identifier syntax in one place: checks that name the key, and plain names made from any text."""

from __future__ import annotations

import pytest

from pipeline.config import toml_value
from pipeline.core.errors import ConfigError
from pipeline.core.identifiers import (
    check_column_name,
    check_identifier,
    check_table_name,
    plain_identifier,
    plain_name,
    underscored,
)


def test_checks_name_what_they_refuse() -> None:
    assert check_identifier("_a1", "id") == "_a1"
    with pytest.raises(ConfigError, match=r"^id '1a' is not a valid identifier"):
        check_identifier("1a", "id")
    assert check_column_name("kunde id", "column") == "kunde id"
    with pytest.raises(ConfigError, match="without control characters"):
        check_column_name("a\tb", "column")
    assert check_table_name("raw.t", "--table") == "raw.t"
    with pytest.raises(ConfigError, match=r"^--table 'raw\.t\.u' must be written as schema\.table"):
        check_table_name("raw.t.u", "--table")
    with pytest.raises(ConfigError, match=r"^--table 'a b' is not a valid identifier"):
        check_table_name("raw.a b", "--table")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("sample.yr", "sample_yr"), ("2nd class", "f_2nd_class"), ("--", "feature"), ("a_", "a")],
)
def test_plain_identifier(text: str, expected: str) -> None:
    assert plain_identifier(text, "feature", "f_") == expected


def test_plain_name_transliterates_and_stays_unique() -> None:
    taken = {"Size"}
    assert plain_name("größe", taken) == "grosse"
    assert plain_name("size", taken) == "size_2"
    assert plain_name("9", taken) == "c_9"
    assert taken == {"Size", "grosse", "size_2", "c_9"}
    assert underscored("My Project!", "project") == "My_Project"


def test_toml_values_as_generated_and_as_shown() -> None:
    assert toml_value("größe") == '"größe"'
    assert toml_value("größe", escape=True) == '"gr\\u00f6\\u00dfe"'
    assert toml_value([True, 2, 0.5, "a"]) == '[true, 2, 0.5, "a"]'
