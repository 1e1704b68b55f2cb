#!/usr/bin/env python3
"""Writes the reference values Vigil's Swift tests compare against (Tests/VigilTests/Fixtures).

  onnx_reference.json            for both demo models and 6 golden-set images: the input
                                 tensor computed with numpy (OpenCV's bilinear convention) and
                                 the logits onnxruntime computes from it.
  einsum.onnx, not_onnx.onnx      models OpenCV 4.6 cannot load (an operator it lacks; not ONNX).
  nan_logits.onnx                 a model OpenCV loads whose outputs are all NaN.
  dynamic_flatten.onnx            input 1×1×H×W (H, W dynamic) flattened into a 784×10 MatMul:
                                  OpenCV's shape check fails for any size but 28×28.
  images/grey16.png, images/rgba.png   48x48 images Vigil refuses (16-bit; 4 channels).

Usage: python3 Scripts/make_test_fixtures.py    (needs numpy, pillow, onnx, onnxruntime)
The metrics engine's references are written by Scripts/make_metric_fixtures.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "VigilTests" / "Fixtures"


# MARK: - ONNX reference outputs

def resize_linear(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """cv::resize INTER_LINEAR on float32 input: half-pixel centres, edge pixels replicated."""
    h, w = image.shape

    def axis(out: int, size: int):
        src = (np.arange(out) + 0.5) * (size / out) - 0.5
        i0 = np.floor(src).astype(int)
        frac = src - i0
        frac[i0 < 0] = 0
        i0 = np.clip(i0, 0, size - 1)
        i1 = np.clip(i0 + 1, 0, size - 1)
        return i0, i1, frac

    y0, y1, fy = axis(height, h)
    x0, x1, fx = axis(width, w)
    top = image[y0][:, x0] * (1 - fx) + image[y0][:, x1] * fx
    bottom = image[y1][:, x0] * (1 - fx) + image[y1][:, x1] * fx
    return (top * (1 - fy)[:, None] + bottom * fy[:, None]).astype(np.float32)


def onnx_reference() -> dict:
    manifest = json.loads((ROOT / "GoldenSets/digits/manifest.json").read_text())
    samples = manifest["samples"][::167][:6]
    models = {
        "mnist-cnn": ("Models/mnist-cnn/mnist_cnn.onnx", 28, 0.1307, 0.3081),
        "digits-mlp": ("Models/digits-mlp/digits_mlp.onnx", 20, 0.0, 1.0),
    }
    out = {}
    for name, (path, side, mean, std) in models.items():
        session = onnxruntime.InferenceSession(str(ROOT / path), providers=["CPUExecutionProvider"])
        entries = []
        for sample in samples:
            pixels = np.array(Image.open(ROOT / "GoldenSets/digits" / sample["path"])).astype(np.float32)
            resized = pixels if pixels.shape == (side, side) else resize_linear(pixels, side, side)
            tensor = ((resized.astype(np.float64) * (1 / 255) - mean) / std).astype(np.float32)
            logits = session.run(None, {"input": tensor[None, None]})[0][0]
            entries.append({"sample": sample["id"], "path": sample["path"],
                            "input": tensor.reshape(-1).tolist(), "logits": logits.tolist()})
        out[name] = {"model": path, "side": side, "samples": entries}
    return out


def unloadable_models() -> None:
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["input"], ["flat"], axis=1),
         helper.make_node("Einsum", ["flat", "w"], ["logits"], equation="ij,jk->ik")],
        "einsum", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        [numpy_helper.from_array(np.full((784, 10), 0.01, np.float32), "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, str(OUT / "einsum.onnx"))
    (OUT / "not_onnx.onnx").write_text("This is a text file with an .onnx extension, not a model.\n")


def nan_model() -> None:
    """A model OpenCV loads whose every output is NaN: log(0 · x − 1)."""
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["input"], ["flat"], axis=1),
         helper.make_node("Slice", ["flat", "starts", "ends", "axes"], ["ten"]),
         helper.make_node("Mul", ["ten", "zero"], ["zeros"]),
         helper.make_node("Add", ["zeros", "minus_one"], ["negative"]),
         helper.make_node("Log", ["negative"], ["logits"])],
        "nan_logits", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
        [numpy_helper.from_array(np.array([0], np.int64), "starts"), numpy_helper.from_array(np.array([10], np.int64), "ends"),
         numpy_helper.from_array(np.array([1], np.int64), "axes"), numpy_helper.from_array(np.array(0, np.float32), "zero"),
         numpy_helper.from_array(np.array(-1, np.float32), "minus_one")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, str(OUT / "nan_logits.onnx"))


def unreadable_images() -> None:
    folder = OUT / "images"
    folder.mkdir(exist_ok=True)
    ramp = np.add.outer(np.arange(48), np.arange(48))
    Image.fromarray((ramp * 600).astype(np.uint16)).save(folder / "grey16.png")
    rgba = np.stack([ramp * 2, ramp, 255 - ramp, np.full_like(ramp, 200)], axis=-1).astype(np.uint8)
    Image.fromarray(rgba, "RGBA").save(folder / "rgba.png")


def dynamic_flatten_model() -> None:
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["input"], ["flat"], axis=1), helper.make_node("MatMul", ["flat", "w"], ["logits"])],
        "dynamic_flatten", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, "height", "width"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        [numpy_helper.from_array(np.full((784, 10), 0.01, np.float32), "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(OUT / "dynamic_flatten.onnx"))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "onnx_reference.json").write_text(json.dumps(onnx_reference()) + "\n")
    unloadable_models()
    nan_model()
    dynamic_flatten_model()
    unreadable_images()
    print(f"wrote fixtures to {OUT}")


if __name__ == "__main__":
    main()
