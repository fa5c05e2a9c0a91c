#!/usr/bin/env python3
"""Draws the throughput chart of a comparison page: one horizontal bar per accelerator (and PyTorch) for every
case and operation, on a logarithmic axis, GFLOP/s and GB/s in separate panels.

    chart.py rows.json out.png

rows.json holds [{"label": "conv2 forward", "unit": "GFLOP/s", "series": {"opencl": 88.4, "PyTorch": 108.3}}, ...].
Needs Pillow (Debian: python3-pil); compare.py runs it with an interpreter that has it.
"""
import json
import math
import sys

from PIL import Image, ImageDraw, ImageFont

COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75), (227, 119, 194)]
LABEL_WIDTH, BAR_HEIGHT, GAP, MARGIN, PLOT_WIDTH = 230, 9, 6, 12, 760


def panel_extent(rows):
    values = [v for row in rows for v in row["series"].values() if v and v > 0]
    return math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)) + 1e-9)


def draw(rows, path):
    series = []
    for row in rows:
        for name in row["series"]:
            if name not in series:
                series.append(name)
    color = {name: COLORS[i % len(COLORS)] for i, name in enumerate(series)}
    panels = [(unit, [r for r in rows if r["unit"] == unit]) for unit in ("GFLOP/s", "GB/s")]
    panels = [(unit, group) for unit, group in panels if any(v for r in group for v in r["series"].values())]
    font = ImageFont.load_default()
    row_height = lambda row: len(row["series"]) * BAR_HEIGHT + GAP
    height = MARGIN + 16 + sum(40 + sum(row_height(r) for r in group) for _, group in panels) + MARGIN
    image = Image.new("RGB", (LABEL_WIDTH + PLOT_WIDTH + 2 * MARGIN, height), "white")
    pen = ImageDraw.Draw(image)
    # Legend along the top.
    x = MARGIN
    for name in series:
        pen.rectangle([x, MARGIN, x + 10, MARGIN + 10], fill=color[name])
        pen.text((x + 14, MARGIN), name, fill="black", font=font)
        x += 24 + int(pen.textlength(name, font=font))
    y = MARGIN + 24
    for unit, group in panels:
        low, high = panel_extent(group)
        span = max(high - low, 1)
        left = MARGIN + LABEL_WIDTH
        to_x = lambda value: left + PLOT_WIDTH * (math.log10(value) - low) / span
        pen.text((MARGIN, y), f"throughput, {unit} (log scale)", fill="black", font=font)
        top = y + 16
        bottom = top + sum(row_height(r) for r in group)
        for decade in range(low, high + 1):
            gx = to_x(10.0 ** decade)
            pen.line([gx, top, gx, bottom], fill=(210, 210, 210))
            pen.text((gx - 8, bottom + 2), f"1e{decade}", fill="gray", font=font)
        y = top
        for row in group:
            pen.text((MARGIN, y + max(0, row_height(row) - GAP - 10) // 2), row["label"], fill="black", font=font)
            for name, value in row["series"].items():
                if value and value > 0:
                    pen.rectangle([left, y, max(left + 1, to_x(value)), y + BAR_HEIGHT - 2], fill=color[name])
                y += BAR_HEIGHT
            y += GAP
        y = bottom + 24
    image.save(path)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        rows = json.load(f)
    if not rows:
        print("chart.py: no rows to draw", file=sys.stderr)
        return 1
    draw(rows, sys.argv[2])
    print(f"wrote {sys.argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
