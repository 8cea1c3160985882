"""The shared fields refuse bad input the same way everywhere."""
import pytest
from marshmallow import ValidationError

from common.schemas import Code, Name, Quantity, RequestSchema, Text


class Line(RequestSchema):
    sku = Name(required=True)
    qty = Quantity(required=True)
    note = Text()
    code = Code()


def test_load_accepts_a_good_line():
    """A plain line loads unchanged, GS1 separator kept in a code."""
    assert Line().load({"sku": "TS-1", "qty": 3, "note": "易碎", "code": "]C1010690\x1d10AB"}) == {
        "sku": "TS-1", "qty": 3, "note": "易碎", "code": "]C1010690\x1d10AB"}


@pytest.mark.parametrize("qty", [0, -1, 1.5, "2", True, None, 10**7])
def test_load_refuses_bad_quantities(qty):
    """Zero, negative, fractional, string, boolean, null and absurd quantities are refused."""
    with pytest.raises(ValidationError) as exc:
        Line().load({"sku": "TS-1", "qty": qty})
    assert "qty" in exc.value.messages


@pytest.mark.parametrize("body", [{"sku": "TS-1", "qty": 1, "colour": "red"}, {"sku": "", "qty": 1},
                                  {"sku": " TS-1", "qty": 1}, {"sku": "A" * 65, "qty": 1},
                                  {"sku": "TS-1", "qty": 1, "note": "a\x07b"},
                                  {"sku": "TS-1", "qty": 1, "code": "x" * 4096}])
def test_load_refuses_unknown_blank_long_or_control(body):
    """Unknown fields, blank or padded names, over-long strings and control characters are refused."""
    with pytest.raises(ValidationError):
        Line().load(body)
