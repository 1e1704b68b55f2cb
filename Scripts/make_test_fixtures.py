#!/usr/bin/env python3
"""Writes the reference values Vigil's Swift tests compare against (Tests/VigilTests/Fixtures).

  classification_reference.json  seeded cases with scikit-learn's precision/recall/F1/support,
                                 confusion matrix and accuracy, plus numpy references for ECE
                                 (torchmetrics' definition, 1.0 in the last bin), Brier, FPR/FNR
                                 and latency percentiles (numpy.percentile, linear).
  onnx_reference.json            for both demo models and 6 golden-set images: the input
                                 tensor computed with numpy (OpenCV's bilinear convention) and
                                 the logits onnxruntime computes from it.
  einsum.onnx, not_onnx.onnx      models OpenCV 4.6 cannot load (an operator it lacks; not ONNX).

Usage: python3 Scripts/make_test_fixtures.py    (needs numpy, pillow, onnx, onnxruntime, scikit-learn)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper
from PIL import Image
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "VigilTests" / "Fixtures"


# MARK: - Classification metrics

def linspace_float32(count: int) -> np.ndarray:
    """torch.linspace(0, 1, count) in float32 (first half from 0 up, second half from 1 down)."""
    step = np.float32(1) / np.float32(count - 1)
    return np.array([np.float32(i) * step if i < count // 2 else np.float32(1) - step * np.float32(count - 1 - i)
                     for i in range(count)], dtype=np.float32)


def ece_reference(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> dict:
    """Top-label ECE as torchmetrics defines it, except that a confidence of exactly 1.0 is put
    into the last bin (torchmetrics' bucketize gives it an extra bin of its own)."""
    conf = probs.max(axis=1).astype(np.float32)
    pred = probs.argmax(axis=1)
    correct = (pred == labels).astype(np.float64)
    edges = linspace_float32(bins + 1)
    index = np.searchsorted(edges, conf, side="right") - 1
    index = np.clip(index, 0, bins - 1)
    ece = 0.0
    out_bins = []
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        if n:
            c = float(np.sum(conf[mask].astype(np.float64)) / n)
            a = float(correct[mask].mean())
            ece += n / len(labels) * abs(a - c)
            out_bins.append({"count": n, "confidence": c, "accuracy": a})
        else:
            out_bins.append({"count": 0, "confidence": None, "accuracy": None})
    return {"ece": ece, "bins": out_bins, "edges": [float(e) for e in edges]}


def classification_case(name: str, probs: np.ndarray, labels: np.ndarray, latencies: np.ndarray) -> dict:
    k = probs.shape[1]
    probs = probs.astype(np.float32)
    pred = probs.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, pred, labels=list(range(k)), zero_division=0)
    cm = confusion_matrix(labels, pred, labels=list(range(k)))
    n = len(labels)
    fpr, fnr = [], []
    for c in range(k):
        tp = cm[c, c]
        fn = cm[c].sum() - tp
        fp = cm[:, c].sum() - tp
        tn = n - tp - fn - fp
        fpr.append(None if fp + tn == 0 else float(fp / (fp + tn)))
        fnr.append(None if fn + tp == 0 else float(fn / (fn + tp)))
    onehot = np.eye(k)[labels]
    brier = float(np.mean(np.sum((probs.astype(np.float64) - onehot) ** 2, axis=1)))
    return {
        "name": name,
        "classes": [f"c{i}" for i in range(k)],
        "labels": labels.tolist(),
        "probabilities": probs.tolist(),
        "latencies_ms": latencies.tolist(),
        "accuracy": float(accuracy_score(labels, pred)),
        "precision": precision.tolist(), "recall": recall.tolist(), "f1": f1.tolist(),
        "support": support.tolist(),
        "macro_f1": float(np.mean(f1)),
        "confusion": cm.tolist(),
        "fpr": fpr, "fnr": fnr,
        "brier": brier,
        "calibration": ece_reference(probs, labels),
        "latency_p50_ms": float(np.percentile(latencies, 50)),
        "latency_p95_ms": float(np.percentile(latencies, 95)),
    }


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def classification_cases() -> list[dict]:
    rng = np.random.default_rng(3510)
    cases = []
    # Ordinary: 5 classes, 400 samples, a model that is right about 70% of the time.
    labels = rng.integers(0, 5, 400)
    logits = rng.normal(0, 1.5, (400, 5))
    logits[np.arange(400), labels] += rng.normal(1.5, 1.0, 400)
    cases.append(classification_case("five-classes", softmax(logits), labels, rng.gamma(2.0, 0.5, 400)))
    # A class absent from the labels (c3) and one never predicted; confidences of exactly 1.0.
    labels = rng.choice([0, 1, 2], 120)
    probs = softmax(rng.normal(0, 2, (120, 4)))
    probs[:10] = 0
    probs[np.arange(10), labels[:10]] = 1.0
    probs[10:15] = 0
    probs[np.arange(10, 15), (labels[10:15] + 1) % 3] = 1.0
    cases.append(classification_case("absent-class-and-certainty", probs, labels, rng.uniform(0.1, 3.0, 120)))
    # Perfect predictions.
    labels = rng.integers(0, 3, 30)
    probs = np.full((30, 3), 0.05)
    probs[np.arange(30), labels] = 0.9
    cases.append(classification_case("perfect", probs, labels, np.linspace(1, 2, 30)))
    return cases


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


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "classification_reference.json").write_text(json.dumps(classification_cases()) + "\n")
    (OUT / "onnx_reference.json").write_text(json.dumps(onnx_reference()) + "\n")
    unloadable_models()
    print(f"wrote fixtures to {OUT}")


if __name__ == "__main__":
    main()
