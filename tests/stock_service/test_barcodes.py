"""The forms a scanned code may be stored under; read once per code, handed out as a fresh list each time."""
from stock_service.domain import barcodes


def test_candidates_of_a_gtin_in_every_stored_form():
    assert barcodes.candidates("(01)06901234567892") == ["(01)06901234567892", "06901234567892", "6901234567892"]
    assert barcodes.candidates("NOT-A-GTIN") == ["NOT-A-GTIN"]


def test_candidates_are_a_new_list_each_call():
    """The parse is remembered per code; a caller changing its list changes nothing for the next one."""
    first = barcodes.candidates("06901234567892")
    first.append("tampered")
    assert barcodes.candidates("06901234567892") == ["06901234567892", "6901234567892"]
    assert barcodes._forms.cache_info().hits >= 1
