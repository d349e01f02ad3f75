"""The ODK XPath subset pyxform writes (forms/xpath.py): XPath 1.0 semantics where ODK relies on them."""

import pytest

from forms.xpath import XPathError, compile_xpath, evaluate


@pytest.mark.parametrize(
    "expression, values, expected",
    [
        (" /d/age  >= 18", {"/d/age": ""}, False),  # unanswered: NaN, as ODK
        (" /d/age  >= 18", {"/d/age": "18"}, True),
        (" /d/c  = 'yes'", {"/d/c": "yes"}, True),
        (" /d/c  != 'yes'", {"/d/c": ""}, True),
        ("selected( /d/m , 'none')", {"/d/m": "police none"}, True),
        ("not(selected(., 'none') and count-selected(.) > 1)", {"/d/m": "police none"}, False),
        ("regex(., '^[A-Z0-9][A-Z0-9-]{0,11}$')", {"/d/m": "Z01-B02"}, True),
        (". >= 0 and . <= /d/age", {"/d/m": "7", "/d/age": "6"}, False),
        (
            "concat( /d/c , ' ', format-date-time( /d/t , '%Y-%m-%d %H:%M'))",
            {"/d/c": "x", "/d/t": "2026-11-03T09:14:11.561-05:00"},
            "x 2026-11-03 09:14",
        ),
        ("(1 + 2) * 3 - 4 div 2", {}, 7.0),
    ],
)
def test_xpath_subset(expression, values, expected):
    assert evaluate(expression, values, here="/d/m") == expected


def test_choice_filter_reads_item_columns():
    item = {"name": "alto_trujillo", "district": "el_porvenir"}
    assert evaluate("district= /d/district ", {"/d/district": "el_porvenir"}, "/d/n", item) is True
    assert evaluate("district= /d/district ", {"/d/district": "moche"}, "/d/n", item) is False


def test_unsupported_xpath_is_refused_by_name():
    with pytest.raises(XPathError, match="pulldata"):
        compile_xpath("pulldata('x', 'y', 'z', 'w')")
