"""Uploaded CSV as the shops' tools write it: any line ending, and what the csv module cannot read is a 422."""
import csv

import pytest

from common import csvfile
from common.errors import InvalidInputError


@pytest.mark.parametrize("ending", ["\r\n", "\n", "\r"])
def test_rows_end_in_crlf_lf_or_a_lone_cr(ending):
    text = ending.join(["sku,name", "A-1,杯子", 'B-2,"two', 'lines"']) + ending
    with csvfile.refusing_bad_csv():
        rows = list(csvfile.dict_reader(text))
    assert rows == [{"sku": "A-1", "name": "杯子"}, {"sku": "B-2", "name": f"two{ending}lines"}]


def test_a_field_over_the_csv_limit_is_422_invalid_csv():
    text = "sku,name\nA-1," + "x" * (csv.field_size_limit() + 1) + "\n"
    with pytest.raises(InvalidInputError) as refused, csvfile.refusing_bad_csv():
        list(csvfile.dict_reader(text))
    assert refused.value.code == "invalid_csv"
