#!/usr/bin/env python3
"""Regenerates GoldenSets/digits from OpenCV's digits.png (see digits_source.py).

Usage: python3 Scripts/make_digits_golden_set.py [--out GoldenSets/digits]

Writes one 20x20 8-bit grey PNG per held-out cell under images/<class>/, and manifest.json
(golden-set format v1, GoldenSets/README.md) with each file's sha256, its label and two tags
measured from the pixels:
  ink:   light | medium | heavy  - stroke pixels (value > 127) in the lowest / middle /
                                   highest third of all 5000 cells
  slant: right | upright | left  - image-moment skew mu11/mu02 (y pointing down) below -0.15
                                   (top leans right, "/"), between, above 0.15 (top leans left)
The PNG bytes depend on the Pillow/zlib version; the manifest always matches what was written.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import digits_source as src  # noqa: E402


def ink(cell: np.ndarray) -> int:
    return int((cell > 127).sum())


def skew(cell: np.ndarray) -> float:
    ys, xs = np.mgrid[0 : cell.shape[0], 0 : cell.shape[1]]
    w = cell.astype(np.float64)
    m = w.sum()
    cx, cy = (w * xs).sum() / m, (w * ys).sum() / m
    mu11 = (w * (xs - cx) * (ys - cy)).sum()
    mu02 = (w * (ys - cy) ** 2).sum()
    return float(mu11 / mu02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parent.parent
    parser.add_argument("--out", type=Path, default=root / "GoldenSets" / "digits")
    args = parser.parse_args()

    with src.DigitsSource() as digits_png:
        cells = src.load_cells(digits_png)

    all_ink = np.array([ink(cells[r, c]) for r in range(src.ROWS) for c in range(src.COLS)])
    low, high = np.quantile(all_ink, [1 / 3, 2 / 3])

    images = args.out / "images"
    if images.exists():
        shutil.rmtree(images)
    samples = []
    for row, col in sorted(src.golden_cells()):
        label = src.label_of(row)
        cell = cells[row, col]
        sample_id = f"r{row:02d}c{col:02d}"
        rel = f"images/{label}/{sample_id}.png"
        buffer = io.BytesIO()
        Image.fromarray(cell, mode="L").save(buffer, format="PNG", optimize=False)
        data = buffer.getvalue()
        (args.out / rel).parent.mkdir(parents=True, exist_ok=True)
        (args.out / rel).write_bytes(data)
        amount = ink(cell)
        s = skew(cell)
        samples.append({
            "id": sample_id,
            "path": rel,
            "sha256": hashlib.sha256(data).hexdigest(),
            "label": str(label),
            "tags": {
                "ink": "light" if amount <= low else "heavy" if amount > high else "medium",
                "slant": "right" if s < -0.15 else "left" if s > 0.15 else "upright",
            },
        })

    manifest = {
        "format": "vigil-golden-set/1",
        "name": "digits",
        "version": "1.0.0",
        "task": "classification",
        "description": "1000 handwritten digits (100 per class, 20x20 grey) held out from "
                       "OpenCV's digits.png; see PROVENANCE.md",
        "classes": [str(d) for d in range(10)],
        "samples": samples,
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {len(samples)} samples to {args.out}")


if __name__ == "__main__":
    main()
