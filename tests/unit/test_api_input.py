"""The API's strict readers: whole numbers in range only, JSON depth measured without recursion."""

import pytest

from webapp.api.params import INT32_MAX, BadParameter, parse_int
from webapp.api.parsers import json_depth


@pytest.mark.parametrize("raw", ["0", "7", "0007", str(INT32_MAX)])
def test_whole_numbers_in_range_are_read(raw):
    assert parse_int(raw, "after") == int(raw)


@pytest.mark.parametrize(
    "raw", ["", "1e5", "0x10", "+1", "-1", " 7", "7 ", "1_0", "٣", "1.0", str(INT32_MAX + 1)]
)
def test_anything_else_names_the_parameter_and_the_range(raw):
    with pytest.raises(BadParameter) as refused:
        parse_int(raw, "after")
    assert refused.value.name == "after"
    assert str(refused.value).startswith(
        f"query parameter 'after' must be a whole number from 0 to {INT32_MAX}, not "
    )


def test_a_huge_value_is_shown_shortened():
    with pytest.raises(BadParameter) as refused:
        parse_int("9" * 5000, "after")
    assert str(refused.value).endswith("... (5000 characters)")
    assert len(str(refused.value)) < 150


def test_json_depth_counts_containers_and_stops_past_the_limit():
    assert json_depth(1, 32) == 0
    assert json_depth({"a": [1, {"b": []}], "c": "x"}, 32) == 4
    deep: list = []
    for _ in range(50_000):
        deep = [deep]
    assert json_depth(deep, 32) == 33
    wide = [[0] * 1000 for _ in range(1000)]
    assert json_depth(wide, 32) == 2
