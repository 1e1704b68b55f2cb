#!/usr/bin/env python3
"""Writes ddddocr's YOLOX character detector with its decoding exported into the graph in the
output layouts of Vigil's other decoders, so each decoder is tested on a real network:

  Models/ddddocr-det/variants/yolov5.onnx        1×3549×6: cx, cy, w, h (input pixels), objectness, class score
  Models/ddddocr-det/variants/yolov8.onnx        1×5×3549: cx, cy, w, h, score (transposed, no objectness)
  Models/ddddocr-det/variants/boxes-scores.onnx  boxes 1×3549×4 (x0, y0, x1, y1 normalised to 0–1) and
                                                 scores 1×3549×2 (background, character)

The head appended to the graph computes what Vigil's `yolox` decoder computes — centre
= (out[0:2] + cell) · stride, size = exp(out[2:4]) · stride, score = objectness · class score —
with ONNX operators (Slice, Add, Mul, Exp, Sub, Div, Concat, Transpose), the way exporters such as
YOLOv5's and YOLOv8's put decoding into their graphs. The files are not committed (each carries
the 20 MB of weights); Scripts/setup.sh writes them when the `onnx` package is importable.

    python3 Scripts/make_decoder_variants.py    (numpy, onnx)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "Models" / "ddddocr-det" / "common_det.onnx"
OUT = ROOT / "Models" / "ddddocr-det" / "variants"
SIDE, STRIDES = 416, (8, 16, 32)


def grid() -> tuple[np.ndarray, np.ndarray]:
    cells = [(x, y, s) for s in STRIDES for y in range(SIDE // s) for x in range(SIDE // s)]
    xy = np.array([[x, y] for x, y, _ in cells], dtype=np.float32)[None]
    stride = np.array([[s] for _, _, s in cells], dtype=np.float32)[None]
    return xy, stride


def const(name: str, value) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value), name)


def slice_node(source: str, start: int, end: int, name: str) -> list:
    return [helper.make_node("Slice", [source, f"{name}_s", f"{name}_e", f"{name}_a"], [name])], [
        const(f"{name}_s", np.array([start], np.int64)), const(f"{name}_e", np.array([end], np.int64)),
        const(f"{name}_a", np.array([2], np.int64))]


def variant(layout: str) -> onnx.ModelProto:
    model = onnx.load(str(SOURCE))
    graph = model.graph
    raw = graph.output[0].name
    xy, stride = grid()
    nodes, inits = [], [const("v_grid", xy), const("v_stride", stride), const("v_one", np.array(1, np.float32)),
                        const("v_half", np.array(0.5, np.float32)), const("v_side", np.array(SIDE, np.float32))]
    for name, (a, b) in {"v_dxy": (0, 2), "v_lwh": (2, 4), "v_obj": (4, 5), "v_cls": (5, 6)}.items():
        n, i = slice_node(raw, a, b, name)
        nodes += n
        inits += i
    nodes += [
        helper.make_node("Add", ["v_dxy", "v_grid"], ["v_cell"]),
        helper.make_node("Mul", ["v_cell", "v_stride"], ["v_cxcy"]),
        helper.make_node("Exp", ["v_lwh"], ["v_ewh"]),
        helper.make_node("Mul", ["v_ewh", "v_stride"], ["v_wh"]),
    ]
    del graph.output[:]
    if layout == "yolov5":
        nodes.append(helper.make_node("Concat", ["v_cxcy", "v_wh", "v_obj", "v_cls"], ["detections"], axis=2))
        graph.output.append(helper.make_tensor_value_info("detections", onnx.TensorProto.FLOAT, [1, 3549, 6]))
    elif layout == "yolov8":
        nodes += [helper.make_node("Mul", ["v_obj", "v_cls"], ["v_score"]),
                  helper.make_node("Concat", ["v_cxcy", "v_wh", "v_score"], ["v_rows"], axis=2),
                  helper.make_node("Transpose", ["v_rows"], ["detections"], perm=[0, 2, 1])]
        graph.output.append(helper.make_tensor_value_info("detections", onnx.TensorProto.FLOAT, [1, 5, 3549]))
    else:
        nodes += [helper.make_node("Mul", ["v_wh", "v_half"], ["v_halfwh"]),
                  helper.make_node("Sub", ["v_cxcy", "v_halfwh"], ["v_xy0"]),
                  helper.make_node("Add", ["v_cxcy", "v_halfwh"], ["v_xy1"]),
                  helper.make_node("Concat", ["v_xy0", "v_xy1"], ["v_corners"], axis=2),
                  helper.make_node("Div", ["v_corners", "v_side"], ["boxes"]),
                  helper.make_node("Mul", ["v_obj", "v_cls"], ["v_score"]),
                  helper.make_node("Sub", ["v_one", "v_score"], ["v_background"]),
                  helper.make_node("Concat", ["v_background", "v_score"], ["scores"], axis=2)]
        graph.output.append(helper.make_tensor_value_info("boxes", onnx.TensorProto.FLOAT, [1, 3549, 4]))
        graph.output.append(helper.make_tensor_value_info("scores", onnx.TensorProto.FLOAT, [1, 3549, 2]))
    graph.node.extend(nodes)
    graph.initializer.extend(inits)
    onnx.checker.check_model(model)
    return model


def main() -> None:
    if not SOURCE.exists():
        sys.exit(f"{SOURCE.relative_to(ROOT)} is missing: run Scripts/fetch_models.py first")
    OUT.mkdir(parents=True, exist_ok=True)
    for layout in ("yolov5", "yolov8", "boxes-scores"):
        target = OUT / f"{layout}.onnx"
        if target.exists() and target.stat().st_mtime >= SOURCE.stat().st_mtime and target.stat().st_mtime >= Path(__file__).stat().st_mtime:
            continue
        onnx.save(variant(layout), str(target))
        print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
