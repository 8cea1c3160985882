"""The recognizer: every symbology, carrier and floor label of handheld.md, and fuzzed."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codes.gtin import check_digit
from codes.recognize import recognize

GS = "\x1d"


@pytest.mark.parametrize("raw, gtin", [
    ("6901234567892", "6901234567892"),        # EAN-13, Chinese prefix
    ("]E06901234567892", "6901234567892"),     # with the AIM id of EAN-13
    ("012345678905", "012345678905"),          # UPC-A
    ("]E096385074", "96385074"),               # EAN-8 as some scanners label it
    ("]E496385074", "96385074"),               # EAN-8 with its own AIM id
    ("96385074", "96385074"),
    ("06901234567892", "6901234567892"),       # GTIN-14 with a zero indicator
])
def test_recognize_retail_barcodes(raw, gtin):
    """EAN-13, UPC-A, EAN-8 and GTIN-14 with a right check digit are items."""
    scan = recognize(raw)
    assert scan.kind == "item"
    assert scan.gtin == gtin


def test_recognize_wrong_check_digit_with_ean_symbology_is_unknown():
    """An EAN symbol read with a wrong check digit is refused, never taken as another item."""
    scan = recognize("]E06901234567890")
    assert scan.kind == "unknown"
    assert scan.reason == "wrong check digit"


@pytest.mark.parametrize("raw, gtin, lot, expiry, serial", [
    ("]C1010690123456789210LOT1" + GS + "17261231", "6901234567892", "LOT1", "2026-12-31", None),
    ("]C1010690123456789210LOT1|17261231", "6901234567892", "LOT1", "2026-12-31", None),
    ("]d201069012345678921724123110ABC", "6901234567892", "ABC", "2024-12-31", None),
    ("]Q3010690123456789221SER1", "6901234567892", None, None, "SER1"),
    ("010690123456789221SN9" + GS + "10B7", "6901234567892", "B7", None, "SN9"),
    ("(01)06901234567892(10)L1(17)270101", "6901234567892", "L1", "2027-01-01", None),
])
def test_recognize_gs1_element_strings(raw, gtin, lot, expiry, serial):
    """GS1-128, GS1 DataMatrix and GS1 QR give the GTIN, lot, expiry and serial."""
    scan = recognize(raw)
    assert (scan.kind, scan.gtin, scan.lot, scan.expiry, scan.serial) == ("item", gtin, lot, expiry, serial)


def test_recognize_gs1_symbology_with_garbage_is_unknown():
    """A GS1 symbology id in front of something that is not an element string is unknown."""
    assert recognize("]C1hello").kind == "unknown"


@pytest.mark.parametrize("raw, value", [("]C0TS-001-RED-M", "TS-001-RED-M"), ("TS-001-RED-M", "TS-001-RED-M"),
                                        ("]C0123456", "123456")])
def test_recognize_code128_internal_codes(raw, value):
    """A plain Code 128 internal code is an item named by its exact text."""
    scan = recognize(raw)
    assert (scan.kind, scan.value) == ("item", value)


@pytest.mark.parametrize("raw, carrier", [
    ("SF1234567890123", "SF"), ("SF123456789012", "SF"), ("sf1234567890123", "SF"),
    ("YT1234567890123", "YTO"), ("JT0001234567890", "JT"), ("JDVA12345678901", "JD"),
    ("JDX123456789012", "JD"), ("EA123456789CN", "EMS"), ("1012345678901", "EMS"),
    ("73100012345678", "ZTO"), ("75312345678901", "ZTO"), ("773123456789012", "STO"),
    ("4312345678901", "YUNDA"), ("DPK123456789012", "DEPPON"), ("557123456789", "BEST"),
])
def test_recognize_carrier_waybills(raw, carrier):
    """Each carrier's waybill shape is read as a waybill of that carrier."""
    scan = recognize(raw, expect="waybill")
    assert (scan.kind, scan.carrier) == ("waybill", carrier)


def test_recognize_digits_that_are_both_decided_by_the_step():
    """A 13-digit string valid as EAN-13 and as a waybill: the expected step decides, both kept."""
    code = "731234567890"
    code += str(check_digit(code))
    assert recognize(code).kind == "item"
    as_waybill = recognize(code, expect="waybill")
    assert as_waybill.kind == "waybill"
    assert set(as_waybill.kinds) == {"item", "waybill"}


def test_recognize_digits_with_bad_check_digit_are_a_waybill():
    """Digits that fail the EAN check but match a numeric waybill pattern are a waybill."""
    scan = recognize("73100012345670")
    assert scan.kind == "waybill" and scan.carrier == "ZTO"


@pytest.mark.parametrize("raw, kind, value", [
    ("A-01-02-03", "bin", "A-01-02-03"), ("b-12-03-01", "bin", "B-12-03-01"),
    ("BK-017", "basket", "BK-017"), ("bk-0042", "basket", "BK-0042"),
    ("EDB_PH001", "badge", "EDB_PH001"), ("EDB_YH012", "badge", "EDB_YH012"),
    ("  A-01-02-03\r\n", "bin", "A-01-02-03"),
])
def test_recognize_floor_labels(raw, kind, value):
    """Bins, baskets and badges are recognised by their prefixes, trimmed and upper-cased."""
    scan = recognize(raw)
    assert (scan.kind, scan.value) == (kind, value)


@pytest.mark.parametrize("raw", ["", "   ", "\x00\x07", "]C1", "!!!", "x" * 300])
def test_recognize_garbage_is_unknown(raw):
    """Empty, control characters, a bare AIM id and over-long input are unknown, with a reason."""
    scan = recognize(raw)
    assert scan.kind == "unknown"
    assert scan.reason


def test_recognize_keys_match_upc_and_ean_forms():
    """A UPC-A matches its EAN-13 form and a GTIN-14 its EAN-13 form."""
    assert "0012345678905" in recognize("012345678905").keys()
    assert "6901234567892" in recognize("]C1010690123456789210L").keys()


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=80), st.from_regex(r"\][A-Za-z][0-9][0-9\x1d()A-Z]{0,40}", fullmatch=True),
                 st.from_regex(r"[0-9]{6,16}", fullmatch=True),
                 st.binary(max_size=40).map(lambda b: b.decode("latin-1"))))
def test_recognize_never_raises(raw):
    """Whatever the scanner types, the recognizer answers with a known kind."""
    scan = recognize(raw)
    assert scan.kind in {"item", "waybill", "bin", "basket", "badge", "unknown"}
    assert isinstance(scan.as_dict(), dict)
    assert isinstance(scan.keys(), set)
