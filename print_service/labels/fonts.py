"""The font the PNG preview draws text with: a CJK font when the machine has one.

PRINT_PREVIEW_FONT names one explicitly; otherwise fontconfig is asked for a Chinese font, then a
few well-known paths are tried; without any, Pillow's built-in font draws Latin text and Chinese
characters show as boxes (the ZPL is unaffected: the printer uses its own font).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache

from PIL import ImageFont

KNOWN_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


@lru_cache(maxsize=1)
def cjk_font_path() -> str | None:
    explicit = os.environ.get("PRINT_PREVIEW_FONT")
    if explicit and os.path.exists(explicit):
        return explicit
    if shutil.which("fc-match"):
        try:
            # fontconfig's tool found by shutil.which just above, fixed arguments, no shell.
            found = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh-cn"], capture_output=True,  # noqa: S607
                                   text=True, timeout=5, check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            found = ""
        if found and os.path.exists(found) and _has_cjk(found):
            return found
    for path in KNOWN_PATHS:
        if os.path.exists(path):
            return path
    return None


def _has_cjk(path: str) -> bool:
    try:
        font = ImageFont.truetype(path, 20)
    except OSError:
        return False
    # A font without the glyph draws its .notdef box, the same as for a non-character.
    return bytes(font.getmask("中")) != bytes(font.getmask("\uffff"))


@lru_cache(maxsize=64)
def font(height: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = cjk_font_path()
    if path:
        return ImageFont.truetype(path, height)
    return ImageFont.load_default(height)
