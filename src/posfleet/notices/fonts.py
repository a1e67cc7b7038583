"""Finding an embeddable Chinese font: Noto Sans CJK SC from Debian's fonts-noto-cjk.

fpdf2 reads TrueType collections (`collection_font_number`), so the .ttc is used in place; the SC
face's index is looked up by name once, because its position differs between font releases.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

from django.conf import settings

CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)


# fontTools logs every subsetting step at INFO; letters would flood the log.
logging.getLogger("fontTools").setLevel(logging.WARNING)


class FontMissing(RuntimeError):
    pass


@functools.cache
def cjk_font() -> tuple[str, int]:
    """(path, face index) of a font with Simplified Chinese glyphs."""
    configured = getattr(settings, "POSFLEET_CJK_FONT", "") or os.environ.get("POSFLEET_CJK_FONT", "")
    for candidate in ((configured,) if configured else ()) + CANDIDATES:
        path = Path(candidate)
        if not path.is_file():
            continue
        if path.suffix.lower() != ".ttc":
            return str(path), 0
        return str(path), _sc_index(path)
    raise FontMissing("No Chinese font found; install fonts-noto-cjk or set POSFLEET_CJK_FONT.")


def _sc_index(path: Path) -> int:
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(path), lazy=True)
    try:
        names = [str(font["name"].getDebugName(4) or "") for font in collection.fonts]
    finally:
        collection.close()
    for wanted in ("CJK SC", " SC", "SC"):
        for index, name in enumerate(names):
            if wanted in name and "Mono" not in name:
                return index
    return 0
