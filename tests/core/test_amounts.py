import pytest
from django.template import Context, Template

from posfleet.core.amounts import percent, yuan


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "0.00"),
        (5, "0.05"),
        (-5, "-0.05"),
        (12345, "123.45"),
        (123456, "1,234.56"),
        (-100000, "-1,000.00"),
    ],
)
def test_yuan(fen, text):
    assert yuan(fen) == text


def test_yuan_without_grouping_and_with_a_symbol():
    assert yuan(123456, grouping=False) == "1234.56"
    assert yuan(-123456, symbol="¥") == "-¥1,234.56"


def test_percent():
    assert percent(60) == "0.60%"
    assert percent(1250) == "12.50%"


def test_template_filters_leave_missing_values_empty():
    out = Template("{% load amounts %}[{{ a|yuan }}][{{ b|yuan }}][{{ c|pct }}]").render(
        Context({"a": 600000, "b": None, "c": 38})
    )
    assert out == "[6,000.00][][0.38%]"
