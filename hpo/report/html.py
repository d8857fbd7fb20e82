"""One self-contained HTML file: plotly.js inlined once, then every figure."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any


def write_html(path: Path, title: str, summary_html: str, sections: list[tuple[str, Any | None, str | None]]) -> None:
    """Write ``sections`` — (title, plotly figure or None, note) — into one file with no outside links."""
    from plotly.offline import get_plotlyjs

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
        ".note{color:#666;font-style:italic}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        "</head><body>",
        f"<h1>{html.escape(title)}</h1>",
        summary_html,
    ]
    for index, (heading, figure, note) in enumerate(sections):
        parts.append(f'<section id="plot-{index}"><h2>{html.escape(heading)}</h2>')
        if figure is not None:
            parts.append(figure.to_html(full_html=False, include_plotlyjs=False))
        if note:
            parts.append(f'<p class="note">{html.escape(note)}</p>')
        parts.append("</section>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
