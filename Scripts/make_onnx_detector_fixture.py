#!/usr/bin/env python3
"""Writes the reference detections of ddddocr's YOLOX character detector that Vigil's decoder
is tested against (Tests/VigilTests/Fixtures/detection/yolox_reference.json), computed
independently of Vigil and of OpenCV: onnxruntime runs the graph, numpy does everything else.

    python3 Scripts/make_onnx_detector_fixture.py    (numpy, pillow, onnxruntime)

For six characters golden-set images, with Models/ddddocr-det/model.yaml's settings:
  letterbox into 416×416 at the top-left corner, the image scaled by r = min(416/w, 416/h) to
  round(w·r) × round(h·r) (bilinear on float pixels, OpenCV's half-pixel convention, as
  Scripts/make_test_fixtures.py's resize_linear), padding 114, BGR, raw 0–255, NCHW;
  decode the 3549 rows over strides 8, 16, 32 (centre = (out[0:2] + cell) · stride,
  size = exp(out[2:4]) · stride, score = objectness · class score), keep scores ≥ 0.01,
  map boxes back (divide by the actual scale per axis), clip to the image, then drop any box
  whose IoU with a higher-scoring kept box exceeds 0.45, and keep at most 100.
(ddddocr itself truncates the scaled size instead of rounding it, uses a "+1" pixel IoU and a
0.1 score floor; Vigil's documented preprocessing rounds, and its NMS uses COCO's IoU.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_test_fixtures import resize_linear  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "VigilTests" / "Fixtures" / "detection" / "yolox_reference.json"
MODEL = ROOT / "Models" / "ddddocr-det" / "common_det.onnx"
SIDE, STRIDES, PAD = 416, (8, 16, 32), 114.0
MIN_SCORE, NMS_IOU, MAX_DETECTIONS = 0.01, 0.45, 100
SAMPLES = ["text-00", "text-01", "text-02", "text-07", "text-13", "text-22"]


def letterbox(bgr: np.ndarray) -> tuple[np.ndarray, float, float]:
    h, w = bgr.shape[:2]
    r = min(SIDE / w, SIDE / h)
    nw, nh = min(SIDE, max(1, int(np.floor(w * r + 0.5)))), min(SIDE, max(1, int(np.floor(h * r + 0.5))))
    canvas = np.full((SIDE, SIDE, 3), PAD, dtype=np.float32)
    scaled = bgr if (nw, nh) == (w, h) else np.stack([resize_linear(bgr[..., c], nw, nh) for c in range(3)], axis=-1)
    canvas[:nh, :nw] = scaled
    return canvas.transpose(2, 0, 1)[None], nw / w, nh / h


def iou(a: list[float], b: list[float]) -> float:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def decode(out: np.ndarray, sx: float, sy: float, width: int, height: int) -> list[dict]:
    cells = [(x, y, s) for s in STRIDES for y in range(SIDE // s) for x in range(SIDE // s)]
    found = []
    for row, (gx, gy, s) in zip(out.astype(np.float64), cells):
        score = float(np.float64(row[4]) * np.float64(row[5]))
        if score < MIN_SCORE:
            continue
        cx, cy = (row[0] + gx) * s, (row[1] + gy) * s
        w, h = np.exp(row[2]) * s, np.exp(row[3]) * s
        x0, y0, x1, y1 = (cx - w / 2) / sx, (cy - h / 2) / sy, (cx + w / 2) / sx, (cy + h / 2) / sy
        x0, x1 = min(max(x0, 0), width), min(max(x1, 0), width)
        y0, y1 = min(max(y0, 0), height), min(max(y1, 0), height)
        if x1 > x0 and y1 > y0:
            found.append({"box": [x0, y0, x1 - x0, y1 - y0], "score": score})
    found.sort(key=lambda d: -d["score"])  # stable: ties keep row order
    kept: list[dict] = []
    for d in found:
        if all(iou(d["box"], k["box"]) <= NMS_IOU for k in kept):
            kept.append(d)
    return kept[:MAX_DETECTIONS]


def main() -> None:
    session = onnxruntime.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    manifest = json.loads((ROOT / "GoldenSets/characters/manifest.json").read_text())
    samples = {s["id"]: s for s in manifest["samples"]}
    entries = []
    for sample_id in SAMPLES:
        sample = samples[sample_id]
        rgb = np.array(Image.open(ROOT / "GoldenSets/characters" / sample["path"]).convert("RGB"), dtype=np.float32)
        tensor, sx, sy = letterbox(rgb[..., ::-1].copy())
        out = session.run(None, {"images": tensor})[0][0]
        entries.append({"sample": sample_id, "detections": decode(out, sx, sy, sample["width"], sample["height"])})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"onnxruntime": onnxruntime.__version__, "model_sha256":
                               "6faa8ea85a8c1a634e5050c4a138fca10f30194e0d7abbe9ade1fcd423af6ed6",
                               "samples": entries}, indent=1) + "\n")
    print(f"wrote {OUT}: " + ", ".join(f"{e['sample']} {len(e['detections'])}" for e in entries))


if __name__ == "__main__":
    main()
