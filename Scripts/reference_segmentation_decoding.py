"""Seeded segmentation outputs and the label masks mmsegmentation's post-processing makes of them.

    reference_segmentation_decoding.py OUT_DIR

For each case of cases.json (written here): an image size, a network input size and resize mode
(stretch, letterbox, pad), a score map size (the input's, or a stride-4 or stride-8 head's) and a
number of classes, it writes OUT_DIR/<case>.scores (float32, little-endian, C planes of H x W) and
OUT_DIR/<case>.labels (uint8, the image's pixels row by row), computed in float64 with numpy:
resize every plane to the input (bilinear with half-pixel centres and edge clamping, torch's
`interpolate(mode="bilinear", align_corners=False)`), cut out where the image was placed, resize to
the image, argmax (ties to the lower class); one-channel maps: value > 0.5. OUT_DIR/<case>.near
marks pixels whose top two scores are within 1e-3, where float32 arithmetic may pick the other.
"""
import json
import math
import sys
from pathlib import Path

import numpy as np


def resize(planes, height, width):
    """Bilinear, align_corners=False, no antialiasing: torch's and OpenCV's INTER_LINEAR."""
    c, h, w = planes.shape

    def axis(n_in, n_out):
        src = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
        src = np.maximum(src, 0)
        i0 = np.minimum(np.floor(src).astype(int), n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        lam = np.where(i0 >= n_in - 1, 0.0, src - i0)
        return i0, i1, lam

    y0, y1, ly = axis(h, height)
    x0, x1, lx = axis(w, width)
    top = planes[:, y0, :] * (1 - ly)[None, :, None] + planes[:, y1, :] * ly[None, :, None]
    return top[:, :, x0] * (1 - lx)[None, None, :] + top[:, :, x1] * lx[None, None, :]


def placement(mode, image_w, image_h, input_w, input_h):
    if mode == "stretch":
        return 0, 0, input_w, input_h
    scale = min(input_w / image_w, input_h / image_h)
    if mode == "pad":
        scale = min(1.0, scale)
    w = max(1, min(input_w, math.floor(image_w * scale + 0.5)))
    h = max(1, min(input_h, math.floor(image_h * scale + 0.5)))
    return (input_w - w) // 2, (input_h - h) // 2, w, h


CASES = [
    {"name": "stretch-same", "image": [37, 23], "input": [32, 32], "mode": "stretch", "stride": 1, "classes": 5},
    {"name": "stretch-stride4", "image": [61, 45], "input": [64, 48], "mode": "stretch", "stride": 4, "classes": 7},
    {"name": "letterbox-wide", "image": [90, 40], "input": [64, 64], "mode": "letterbox", "stride": 1, "classes": 4},
    {"name": "letterbox-tall-stride8", "image": [30, 77], "input": [64, 64], "mode": "letterbox", "stride": 8, "classes": 19},
    {"name": "pad-small", "image": [20, 13], "input": [32, 32], "mode": "pad", "stride": 1, "classes": 3},
    {"name": "binary", "image": [50, 50], "input": [40, 40], "mode": "stretch", "stride": 2, "classes": 1},
]


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261208)
    for case in CASES:
        (iw, ih), (nw, nh), k = case["image"], case["input"], case["classes"]
        mw, mh = nw // case["stride"], nh // case["stride"]
        if k == 1:
            scores = rng.random((1, mh, mw)).astype(np.float32)
        else:
            scores = (rng.standard_normal((k, mh, mw)) * 3).astype(np.float32)
        left, top, pw, ph = placement(case["mode"], iw, ih, nw, nh)
        case["placement"] = [left, top, pw, ph]
        on_input = resize(scores.astype(np.float64), nh, nw)
        cut = on_input[:, top:top + ph, left:left + pw]
        image = resize(cut, ih, iw)
        if k == 1:
            labels = (image[0] > 0.5).astype(np.uint8)
            near = np.abs(image[0] - 0.5) < 1e-3
        else:
            labels = np.argmax(image, axis=0).astype(np.uint8)
            ordered = np.sort(image, axis=0)
            near = (ordered[-1] - ordered[-2]) < 1e-3
        scores.astype("<f4").tofile(out / f"{case['name']}.scores")
        labels.tofile(out / f"{case['name']}.labels")
        near.astype(np.uint8).tofile(out / f"{case['name']}.near")
    (out / "cases.json").write_text(json.dumps(CASES, indent=1))


if __name__ == "__main__":
    main()
