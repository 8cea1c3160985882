"""The label model: one definition, ZPL and PNG agree; text stays on the label; barcodes read back."""
from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from marshmallow import ValidationError
from PIL import Image

from print_service.drivers import PrinterOfflineError
from print_service.drivers.tcp import parse_host_status
from print_service.labels import fonts, png, templates, zpl
from print_service.labels.model import Barcode, Size, Text
from print_service.labels.symbols import BarcodeError

LONG_NAME = "纯棉T恤 红色 M码 夏季新款 圆领短袖 男女同款 宽松大码 情侣装 超长的商品名称一直写下去也不会跑出标签"
CASES = [
    ("sku", {"sku": "TS-001-RED-M", "name": LONG_NAME, "spec": "100%棉 180g", "barcode": "6901234567892"},
     "EAN13", "6901234567892"),
    ("sku", {"sku": "TS-001", "name": "Mug ^FS~JA_", "barcode": "690123456789"}, "EAN13", "6901234567892"),
    ("sku", {"sku": "INT^42>X", "name": "Internal part"}, "Code128", "INT^42>X"),
    ("location", {"code": "A-01-02-03"}, "Code128", "A-01-02-03"),
    ("basket", {"code": "BK-017", "caption": "周转筐"}, "Code128", "BK-017"),
    ("badge", {"badge": "EDB_PH001", "name": "张伟"}, "Code128", "EDB_PH001"),
    ("badge", {"badge": "EDB_PH001", "name": "欧阳娜娜", "symbology": "qr"}, "QRCode", "EDB_PH001"),
]
STOCKS = [Size(203, 60, 40), Size(300, 60, 40), Size(203, 100, 50), Size(203, 50, 30)]


def zpl_field_data(text: str) -> list[tuple[str, str]]:
    """(symbology command, data) of each barcode field, read straight from the ZPL text."""
    found = []
    for command, hexed, data in re.findall(r"\^(B[CEQ])[^\^]*(\^FH_)?\^FD(.*?)\^FS", text):
        if hexed:
            data = re.sub(rb"_([0-9A-F]{2})", lambda m: bytes([int(m.group(1), 16)]), data.encode()).decode()
        found.append((command, data))
    return found


def expected_field(kind: str, data: str) -> tuple[str, str]:
    if kind == "EAN13":
        return "BE", data[:12]
    if kind == "QRCode":
        return "BQ", "MA," + data
    return "BC", ">:" + data.replace(">", "><")


@pytest.mark.parametrize("size", STOCKS, ids=lambda s: f"{s.dpi}dpi-{s.width_mm:g}x{s.height_mm:g}")
@pytest.mark.parametrize(("template", "data", "kind", "expected"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_label_preview_and_zpl_carry_the_same_data(template, data, kind, expected, size):
    """The PNG's barcode decodes to exactly the data asked for, and the ZPL carries the same data."""
    label = templates.build(template, templates.load_data(template, data), size)
    image = Image.open(io.BytesIO(png.render(label)))
    assert image.size == (size.width, size.height)
    decoded = [(r.format.name, r.text) for r in zxingcpp.read_barcodes(image)]
    assert decoded == [(kind, expected)]
    assert zpl_field_data(zpl.render(label)) == [expected_field(kind, expected)]


@pytest.mark.parametrize("size", STOCKS, ids=lambda s: f"{s.dpi}dpi-{s.width_mm:g}x{s.height_mm:g}")
@pytest.mark.parametrize(("template", "data", "kind", "expected"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_label_text_never_runs_off(template, data, kind, expected, size):
    """Every text line and barcode lies inside the label, measured with the preview's real font."""
    label = templates.build(template, templates.load_data(template, data), size)
    for element in label.elements:
        if isinstance(element, Text):
            assert element.bottom <= size.height
            for line in element.lines:
                assert element.x + fonts.font(element.height).getlength(line) <= size.width, line
        elif isinstance(element, Barcode) and element.kind != "qr":
            assert element.y + element.height <= size.height


def test_label_long_name_wraps_then_shrinks_then_cuts():
    """A long Chinese name takes two lines at a smaller font, and ends with … when it still does not fit."""
    label = templates.build("sku", templates.load_data("sku", {"sku": "X-1", "name": LONG_NAME * 3}),
                            Size(203, 60, 40))
    name = label.elements[0]
    assert len(name.lines) == 2 and name.height < int(320 * 0.12) and name.lines[-1].endswith("…")
    short = templates.build("sku", templates.load_data("sku", {"sku": "X-1", "name": "毛巾"}), Size(203, 60, 40))
    assert short.elements[0].lines == ("毛巾",) and short.elements[0].height == int(320 * 0.12)


def test_label_zpl_declares_utf8_and_printer_font():
    """Chinese text goes out as UTF-8 under ^CI28 in the printer's configured font."""
    label = templates.build("badge", templates.load_data("badge", {"badge": "EDB_PH001", "name": "张伟"}),
                            Size(203, 60, 40), "E:SIMSUN.TTF")
    text = zpl.render(label, copies=3)
    assert text.startswith("^XA\n^CI28\n^CW1,E:SIMSUN.TTF\n^PW480\n^LL320\n")
    assert "^A1N," in text and "^FD张伟^FS" in text and "^PQ3\n" in text and text.endswith("^XZ\n")


def test_label_cjk_font_found_for_preview():
    """The machine has a CJK font for previews (fonts-wqy-microhei or PRINT_PREVIEW_FONT)."""
    if fonts.cjk_font_path() is None:
        pytest.fail("no CJK font installed: previews show Chinese as boxes; `make test` installs "
                    "fonts-wqy-microhei (make system-packages)")
    face = fonts.font(30)
    assert bytes(face.getmask("张")) != bytes(face.getmask("\uffff"))


@pytest.mark.parametrize(("template", "data", "field"), [
    ("sku", {"sku": "A", "name": "n", "barcode": "6901234567890"}, "data.barcode"),
    ("sku", {"sku": "A", "name": "n", "barcode": "12345678", "symbology": "ean13"}, "data.barcode"),
    ("sku", {"sku": "条码", "name": "n"}, "data.sku"),
    ("location", {"code": "A" * 49}, "data.code"),
    ("location", {"code": "A" * 30}, "data.code"),
    ("badge", {"badge": "x" * 120, "name": "n", "symbology": "qr"}, "data.badge"),
])
def test_label_barcode_the_symbology_cannot_carry(template, data, field):
    """Wrong check digit, non-ASCII Code 128, too long for the stock: refused, naming the field."""
    size = Size(203, 20, 10) if data.get("symbology") == "qr" else Size(203, 40, 30)
    with pytest.raises(BarcodeError) as caught:
        templates.build(template, templates.load_data(template, data), size)
    assert caught.value.details["field"] == field


def test_label_unknown_template_and_fields():
    """Template data is validated like a request body: unknown and missing fields are named."""
    with pytest.raises(ValidationError) as caught:
        templates.load_data("poster", {})
    assert "template" in caught.value.normalized_messages()
    with pytest.raises(ValidationError) as caught:
        templates.load_data("location", {"code": "A", "extra": 1})
    assert "extra" in caught.value.normalized_messages()["data"]


def test_label_raw_zpl_passes_through_and_previews():
    """Raw ZPL goes out untouched (copies repeat it) and its preview reads the barcode it draws."""
    raw = "^XA^FO40,40^A0N,30,30^FDBin A-01^FS^FO40,90^BY2^BCN,100,Y,N,N^FDA-01-02^FS^XZ"
    label = templates.build("raw", templates.load_data("raw", {"zpl": raw}), Size(203, 60, 40))
    assert zpl.render(label, copies=2) == (raw + "\n") * 2
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.render(label))))]
    assert decoded == ["A-01-02"]


def test_host_status_flags_map_to_printer_states():
    """~HS: paper out, head open, ribbon out and pause flags each name the state; clean flags are ready."""
    from tests.print_service.fake_printer import FakePrinter

    fake = FakePrinter()
    try:
        assert parse_host_status(fake.host_status()).state == "ready"
        for flag, state in (("paper_out", "paper_out"), ("head_open", "head_open"), ("ribbon_out", "ribbon_out"),
                            ("paused", "paused")):
            setattr(fake, flag, True)
            assert parse_host_status(fake.host_status()).state == state
            setattr(fake, flag, False)
    finally:
        fake.close()
    with pytest.raises(PrinterOfflineError):
        parse_host_status(b"\x02030,0,0\x03\r\n")


# The exact ZPL of a few labels: the same input must always give these bytes (jobs store their ZPL,
# and a reprint or a move re-renders).
GOLDEN = [
    ("sku", {"sku": "TS-001-RED-M", "name": LONG_NAME, "spec": "100%棉 180g", "barcode": "6901234567892"},
     Size(203, 60, 40), 1,
     "^XA\n^CI28\n^CW1,E:ANMDS.TTF\n^PW480\n^LL320\n^LH0,0\n"
     "^FO16,16^A1N,19,19^FH_^FD纯棉T恤 红色 M码 夏季新款 圆领短袖 男女同款^FS\n"
     "^FO16,39^A1N,19,19^FH_^FD宽松大码 情侣装 超长的商品名称一直写下去也不…^FS\n"
     "^FO16,64^A1N,19,19^FH_^FDTS-001-RED-M 100%棉 180g^FS\n"
     "^FO97,99^BY3^BEN,169,Y,N^FD690123456789^FS\n^PQ1\n^XZ\n"),
    ("sku", {"sku": "TS-001", "name": "Mug ^FS~JA_ extra wide latin words here", "barcode": "690123456789"},
     Size(300, 60, 40), 2,
     "^XA\n^CI28\n^CW1,E:ANMDS.TTF\n^PW720\n^LL480\n^LH0,0\n"
     "^FO24,24^A1N,48,48^FH_^FDMug _5EFS_7EJA_5F extra wide^FS\n"
     "^FO24,76^A1N,48,48^FH_^FDlatin words here^FS\n"
     "^FO24,130^A1N,38,38^FH_^FDTS-001^FS\n"
     "^FO170,190^BY4^BEN,220,Y,N^FD690123456789^FS\n^PQ2\n^XZ\n"),
    ("basket", {"code": "BK-017", "caption": "周转筐"}, Size(203, 50, 30), 1,
     "^XA\n^CI28\n^CW1,E:ANMDS.TTF\n^PW400\n^LL240\n^LH0,0\n^FO0,0^GB400,240,4^FS\n"
     "^FO20,20^A1N,19,19^FH_^FD周转筐^FS\n^FO20,45^A1N,60,60^FH_^FDBK-017^FS\n"
     "^FO48,121^BY3^BCN,103,N,N,N^FH_^FD>:BK-017^FS\n^PQ1\n^XZ\n"),
]


@pytest.mark.parametrize(("template", "data", "size", "copies", "expected"), GOLDEN, ids=["sku-wrapped", "sku-escaped",
                                                                                         "basket"])
def test_zpl_is_byte_for_byte_what_it_was(template, data, size, copies, expected):
    """Wrapping, shrinking, the … cut, ^FH escapes and copies come out exactly as they always did."""
    assert zpl.render(templates.build(template, templates.load_data(template, data), size), copies) == expected
