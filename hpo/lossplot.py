"""A small loss-curve PNG for a trial's dashboard note, drawn with Pillow.

Workers draw it for every completed trial, so it uses Pillow (a core dependency) rather than
matplotlib (the optional ``report`` extra): a worker installed without extras still writes it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 520, 300
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 58, 16, 30, 40
SERIES = (("train_loss", "train loss", (31, 119, 180)), ("val_loss", "validation loss", (255, 127, 14)))


def _finite(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]


def _ticks(low: float, high: float, n: int = 4) -> list[float]:
    if high <= low:
        return [low]
    return [low + (high - low) * i / n for i in range(n + 1)]


def draw_loss_png(curves: dict[str, list[float | None]], path: str | os.PathLike[str], title: str) -> None:
    """Write ``curves`` (``{"epoch": [...], "train_loss": [...], "val_loss": [...]}``) as a line chart."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    try:
        font: Any = ImageFont.load_default(size=13)  # Pillow >= 10.1: a scalable default font
    except TypeError:
        font = ImageFont.load_default()
    epochs = [int(e) for e in curves.get("epoch") or [] if e is not None]
    values = _finite([v for key, _label, _colour in SERIES for v in curves.get(key) or []])
    left, right, top, bottom = MARGIN_LEFT, WIDTH - MARGIN_RIGHT, MARGIN_TOP, HEIGHT - MARGIN_BOTTOM
    draw.text((left, 8), title, fill="black", font=font)
    draw.rectangle((left, top, right, bottom), outline=(160, 160, 160))
    if not epochs or not values:
        draw.text((left + 10, top + 10), "no losses recorded", fill="black", font=font)
        image.save(path, format="PNG")
        return
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or max(abs(high) * 0.05, 1e-3)
    low, high = low - pad, high + pad
    first, last = min(epochs), max(epochs)

    def x_of(epoch: float) -> float:
        return left + (right - left) * ((epoch - first) / (last - first) if last > first else 0.5)

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * (value - low) / (high - low)

    for tick in _ticks(low, high):
        y = y_of(tick)
        draw.line((left - 4, y, left, y), fill="black")
        draw.text((4, y - 7), f"{tick:.3g}", fill="black", font=font)
    for epoch in sorted(set(epochs))[:: max(1, len(set(epochs)) // 8)]:
        x = x_of(epoch)
        draw.line((x, bottom, x, bottom + 4), fill="black")
        draw.text((x - 3, bottom + 6), str(epoch), fill="black", font=font)
    draw.text(((left + right) // 2 - 15, HEIGHT - 16), "epoch", fill="black", font=font)
    legend_x = right - 170
    for row, (key, label, colour) in enumerate(SERIES):
        points = [(x_of(e), y_of(float(v))) for e, v in zip(epochs, curves.get(key) or [])
                  if isinstance(v, (int, float)) and math.isfinite(v)]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        for x, y in points:
            draw.ellipse((x - 2.5, y - 2.5, x + 2.5, y + 2.5), fill=colour)
        draw.line((legend_x, top + 12 + 14 * row, legend_x + 18, top + 12 + 14 * row), fill=colour, width=2)
        draw.text((legend_x + 24, top + 6 + 14 * row), label, fill="black", font=font)
    image.save(path, format="PNG")
