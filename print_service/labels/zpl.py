"""Label → ZPL II, and a best-effort reading of ZPL back into the label model (raw previews).

Text goes out as UTF-8 under ^CI28 in the printer's scalable font (^CW1 maps it to font 1);
field data passes through ^FH so a ^ or ~ in a name can never end a field early.
"""
from __future__ import annotations

import re
from functools import lru_cache

from print_service.labels.model import Barcode, Box, Label, Size, Text
from print_service.labels.symbols import CODE128, EAN13, QR

HEX_INDICATOR = "_"


_ESCAPES = str.maketrans({ch: f"_{ord(ch):02X}" for ch in "^~_"})


def field_hex(value: str) -> str:
    """Escape the characters ZPL reads as commands (^ ~) and the hex indicator itself."""
    return value.translate(_ESCAPES)


def unhex(value: str) -> str:
    """Undo ^FH_ escaping (UTF-8 bytes may be split across escapes)."""
    raw = re.sub(rb"_([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), value.encode())
    return raw.decode("utf-8", errors="replace")


def render(label: Label, copies: int = 1) -> str:
    if label.raw_zpl is not None:
        # Raw ZPL is sent untouched; copies repeat the whole format.
        body = label.raw_zpl if label.raw_zpl.endswith("\n") else label.raw_zpl + "\n"
        return body * copies
    out = list(_header(label.printer_font, label.size))
    for element in label.elements:
        out.extend(_element(element))
    out.append(f"^PQ{copies}")
    out.append("^XZ")
    return "\n".join(out) + "\n"


@lru_cache(maxsize=64)
def _header(printer_font: str, size: Size) -> tuple[str, ...]:
    """The format's opening commands, the same for every label of one printer's stock."""
    return ("^XA", "^CI28", f"^CW1,{printer_font}", f"^PW{size.width}", f"^LL{size.height}", "^LH0,0")


def _element(element: Text | Barcode | Box) -> list[str]:
    if isinstance(element, Text):
        step = element.height + element.line_gap
        return [f"^FO{element.x},{element.y + i * step}^A1N,{element.height},{element.height}"
                f"^FH{HEX_INDICATOR}^FD{field_hex(line)}^FS" for i, line in enumerate(element.lines)]
    if isinstance(element, Box):
        return [f"^FO{element.x},{element.y}^GB{element.width},{element.height},{element.thickness}^FS"]
    readable = "Y" if element.readable else "N"
    if element.kind == EAN13:
        return [f"^FO{element.x},{element.y}^BY{element.module}^BEN,{element.height},{readable},N"
                f"^FD{element.data}^FS"]
    if element.kind == CODE128:
        # >: starts subset B; a literal > must be written >< in ^BC field data
        data = ">:" + element.data.replace(">", "><")
        return [f"^FO{element.x},{element.y}^BY{element.module}^BCN,{element.height},{readable},N,N"
                f"^FH{HEX_INDICATOR}^FD{field_hex(data)}^FS"]
    if element.kind == QR:
        return [f"^FO{element.x},{element.y}^BQN,2,{element.module}"
                f"^FH{HEX_INDICATOR}^FDMA,{field_hex(element.data)}^FS"]
    raise ValueError(element.kind)


_COMMAND = re.compile(r"([\^~])([A-Z@][A-Z0-9@]?)")


def parse(zpl: str, size: Size) -> Label:
    """Read the common field commands of a ZPL format into a label for its preview.

    Only ^FO, ^A, ^BY, ^BC, ^BE, ^BQ, ^GB, ^FH and ^FD are understood; anything else is skipped,
    which is why a raw label's preview is best-effort while its ZPL goes out untouched.
    """
    label = Label(size=size)
    pos = (0, 0)
    font_h = 30
    module = 2
    pending: tuple[str, int] | None = None
    hexed = False
    for name, args in _commands(zpl):
        if name == "FO":
            nums = _ints(args, 2)
            pos = (nums[0], nums[1])
        elif name.startswith("A"):
            nums = _ints(args.split(",", 1)[1] if "," in args else "", 1, default=font_h)
            font_h = nums[0] or font_h
        elif name == "BY":
            module = _ints(args, 1, default=module)[0] or module
        elif name in ("BC", "BE"):
            parts = args.split(",")
            height = int(parts[1]) if len(parts) > 1 and parts[1].strip().isdigit() else 10 * module
            pending = (CODE128 if name == "BC" else EAN13, height)
        elif name == "BQ":
            parts = args.split(",")
            mag = int(parts[2]) if len(parts) > 2 and parts[2].strip().isdigit() else 2
            pending = (QR, mag)
        elif name == "GB":
            nums = _ints(args, 3, default=1)
            label.add(Box(pos[0], pos[1], nums[0], nums[1], nums[2]))
        elif name == "FH":
            hexed = True
        elif name == "FD":
            data = unhex(args) if hexed else args
            label.add(_field(pos, font_h, module, pending, data))
            pending, hexed = None, False
        elif name == "FS":
            pending, hexed = None, False
    return label


def _field(pos: tuple[int, int], font_h: int, module: int, pending: tuple[str, int] | None,
           data: str) -> Text | Barcode:
    if pending is None:
        return Text(pos[0], pos[1], font_h, (data,))
    kind, extra = pending
    if kind == QR:
        return Barcode(pos[0], pos[1], QR, data.split(",", 1)[1] if "," in data else data, extra)
    if kind == CODE128:
        data = data[2:] if data[:2] in (">:", ">;", ">9") else data
        data = data.replace("><", ">")
    return Barcode(pos[0], pos[1], kind, data[:12] if kind == EAN13 else data, module, extra)


def _commands(zpl: str) -> list[tuple[str, str]]:
    """Split ZPL into (command, arguments); ^FD data runs up to the next ^FS."""
    found = []
    matches = list(_COMMAND.finditer(zpl))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(zpl)
        found.append((match.group(2), zpl[match.end():end].strip("\r\n")))
    return found


def _ints(args: str, count: int, default: int = 0) -> list[int]:
    parts = [p.strip() for p in args.split(",")]
    values = []
    for i in range(count):
        try:
            values.append(int(float(parts[i])))
        except (IndexError, ValueError):
            values.append(default)
    return values
