"""The one label model: elements placed in printer dots, rendered to ZPL and to a PNG preview.

Both renderers read the same elements, so what the preview shows is what the printer is told.
Text is wrapped here (not by the printer's ^FB) for the same reason: line breaks must match.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

DOTS_PER_MM = {203: 8, 300: 12}
DEFAULT_PRINTER_FONT = "E:ANMDS.TTF"
ELLIPSIS = "…"


@dataclass(frozen=True)
class Size:
    """A label stock: dpi and millimetres, and the same in dots."""

    dpi: int
    width_mm: float
    height_mm: float

    @property
    def dots_per_mm(self) -> int:
        return DOTS_PER_MM[self.dpi]

    @property
    def width(self) -> int:
        return round(self.width_mm * self.dots_per_mm)

    @property
    def height(self) -> int:
        return round(self.height_mm * self.dots_per_mm)

    def mm(self, value: float) -> int:
        return round(value * self.dots_per_mm)


@dataclass(frozen=True)
class Text:
    """Lines of text already wrapped to fit; `height` is the font height in dots."""

    x: int
    y: int
    height: int
    lines: tuple[str, ...]
    line_gap: int = 0

    @property
    def bottom(self) -> int:
        return self.y + len(self.lines) * (self.height + self.line_gap)


@dataclass(frozen=True)
class Barcode:
    """A symbol: `kind` is ean13 (data = 12 digits), code128 or qr; `module` is the bar unit in dots."""

    x: int
    y: int
    kind: str
    data: str
    module: int
    height: int = 0
    readable: bool = True


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int
    thickness: int = 2


@dataclass
class Label:
    size: Size
    elements: list[Text | Barcode | Box] = field(default_factory=list)
    printer_font: str = DEFAULT_PRINTER_FONT
    raw_zpl: str | None = None

    def add(self, element: Text | Barcode | Box) -> None:
        self.elements.append(element)


WIDE = ("W", "F")  # east Asian widths drawn full width
NARROW = 0.62


def char_width(ch: str, height: int) -> float:
    """Estimated advance of one character: full width for CJK, a bit over half for the rest.

    The estimate is deliberately generous so the printer's own font never runs past the edge.
    """
    if unicodedata.east_asian_width(ch) in WIDE:
        return height
    return height * NARROW


def text_width(text: str, height: int) -> float:
    return sum(_char_widths(text, height))


def _char_widths(text: str, height: int) -> list[float]:
    """char_width of every character of `text`, written out inline (wrapping measures every line it tries)."""
    narrow, width_of = height * NARROW, unicodedata.east_asian_width
    return [height if width_of(ch) in WIDE else narrow for ch in text]


def wrap(text: str, width: int, height: int) -> list[str]:
    """Break `text` into lines no wider than `width`: between words for Latin, anywhere for CJK.

    The line being built is always text[start:pos]; each candidate's width is the sum of the
    characters' widths measured once, in the same order as summing them afresh.
    """
    widths = _char_widths(text, height)
    lines: list[str] = []
    start = pos = 0
    for token in _tokens(text):
        end = pos + len(token)
        candidate = text[start:end]
        if sum(widths[start:start + len(candidate.rstrip())]) <= width:
            pos = end
            continue
        current = text[start:pos]
        if current.strip():
            lines.append(current.rstrip())
        start, pos = end - len(token.lstrip()), end
        while sum(widths[start:pos]) > width:
            cut = _fitting_prefix(text[start:pos], width, height)
            lines.append(text[start:start + cut])
            start += cut
    current = text[start:pos]
    if current.strip():
        lines.append(current.rstrip())
    return lines


def _tokens(text: str) -> list[str]:
    """Words with their trailing space; each wide character is a token of its own."""
    tokens: list[str] = []
    word = ""
    for ch in text:
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            if word:
                tokens.append(word)
                word = ""
            tokens.append(ch)
        elif ch == " ":
            tokens.append(word + ch)
            word = ""
        else:
            word += ch
    if word:
        tokens.append(word)
    return tokens


def _fitting_prefix(text: str, width: int, height: int) -> int:
    used = 0.0
    for i, ch in enumerate(text):
        used += char_width(ch, height)
        if used > width:
            return max(i, 1)
    return len(text)


def fit_text(text: str, *, x: int, y: int, width: int, max_lines: int, largest: int, smallest: int,
             line_gap: int = 4) -> Text:
    """The biggest font (down to `smallest`) at which `text` fits in `max_lines`; cut with … below that."""
    text = " ".join(text.split())
    height = largest
    while True:
        lines = wrap(text, width, height) or [""]
        if len(lines) <= max_lines or height <= smallest:
            break
        height = max(smallest, int(height * 0.85))
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and text_width(last + ELLIPSIS, height) > width:
            last = last[:-1]
        lines[-1] = last + ELLIPSIS
    return Text(x=x, y=y, height=height, lines=tuple(lines), line_gap=line_gap)
