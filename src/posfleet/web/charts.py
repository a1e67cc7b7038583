"""Horizontal bar charts drawn as SVG by the templates: the geometry, worked out here."""

from __future__ import annotations

from typing import Any

BAR_WIDTH = 420  # px for the longest bar


def bars(rows: list[tuple[str, Any, int, str]]) -> dict[str, Any]:
    """(key, label, count, link) rows → geometry for the SVG template."""
    top = max((n for _k, _l, n, _u in rows), default=0) or 1
    out = []
    for i, (key, label, n, url) in enumerate(rows):
        out.append(
            {
                "key": key,
                "label": label,
                "count": n,
                "url": url,
                "y": i * 30,
                "text_y": i * 30 + 15,
                "width": max(2, round(BAR_WIDTH * n / top)) if n else 0,
            }
        )
    return {"rows": out, "height": len(out) * 30, "total": sum(n for _k, _l, n, _u in rows)}
