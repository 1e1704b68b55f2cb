#!/usr/bin/env python3
"""`vigil score classification` (with 1000 bootstrap replicates) against a numpy/scikit-learn
equivalent on 100 000 samples.

Usage: python3 Benchmarks/classification.py [--samples 100000] [--classes 10] [--replicates 1000]
                                            [--vigil .build/release/vigil]

The equivalent computes the same point metrics with scikit-learn (precision/recall/F1, ROC AUC
and average precision per class, log loss) and numpy (top-5 accuracy, calibration errors,
Brier), and bootstraps the headline metrics (accuracy, top-5, macro F1, ECE, Brier, NLL) with
vectorised numpy: resampled indices, np.bincount weights, weighted sums. Both read the same JSON
Lines files. Prints wall times, their ratio, the largest difference between the point
estimates, and the interval widths side by side (different generators, so they agree only
statistically).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, log_loss, precision_recall_fscore_support, roc_auc_score

ROOT = Path(__file__).resolve().parent.parent


def edges():
    step = np.float32(1) / np.float32(15)
    return np.array([np.float32(i) * step if i < 8 else np.float32(1) - step * np.float32(15 - i) for i in range(16)],
                    dtype=np.float32).astype(np.float64)


def headline(labels, probs, weights, pred, conf, top5, edge):
    """Weighted headline metrics (weights = how often each sample was drawn)."""
    n = weights.sum()
    correct = pred == labels
    k = probs.shape[1]
    accuracy = np.dot(weights, correct) / n
    tp = np.bincount(labels, weights * correct, minlength=k)
    support = np.bincount(labels, weights, minlength=k)
    predicted = np.bincount(pred, weights, minlength=k)
    denominator = support + predicted
    f1 = np.where(denominator > 0, 2 * tp / np.where(denominator > 0, denominator, 1), np.nan)
    index = np.clip(np.searchsorted(edge, conf, side="right") - 1, 0, 14)
    count = np.bincount(index, weights, minlength=15)
    accuracy_bin = np.bincount(index, weights * correct, minlength=15)
    confidence_bin = np.bincount(index, weights * conf, minlength=15)
    mask = count > 0
    ece = np.sum(np.abs(accuracy_bin[mask] - confidence_bin[mask])) / n
    onehot = np.zeros_like(probs)
    onehot[np.arange(len(labels)), labels] = 1
    brier = np.dot(weights, ((probs - onehot) ** 2).sum(axis=1)) / n
    eps = np.finfo(np.float64).eps
    nll = np.dot(weights, -np.log(np.clip(probs[np.arange(len(labels)), labels], eps, 1 - eps))) / n
    return {"accuracy": accuracy, "top5_accuracy": np.dot(weights, top5) / n, "macro_f1": np.nanmean(f1),
            "ece": ece, "brier": brier, "nll": nll}


def equivalent(labels_path: Path, predictions_path: Path, replicates: int) -> tuple[dict, dict]:
    label_rows = [json.loads(line) for line in labels_path.read_text().splitlines()]
    prediction_rows = {row["id"]: row["probs"] for row in map(json.loads, predictions_path.read_text().splitlines())}
    labels = np.array([row["label"] for row in label_rows])
    probs = np.array([prediction_rows[row["id"]] for row in label_rows])
    n, k = probs.shape
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    p_label = probs[np.arange(n), labels]
    top5 = ((probs > p_label[:, None]) | ((probs == p_label[:, None]) & (np.arange(k) > labels[:, None]))).sum(axis=1) < 5
    precision, recall, f1, _ = precision_recall_fscore_support(labels, pred, labels=list(range(k)), zero_division=np.nan)
    point = headline(labels, probs, np.ones(n), pred, conf, top5, edges())
    point["log_loss"] = log_loss(labels, probs, labels=list(range(k)))
    point["roc_auc"] = [roc_auc_score(labels == c, probs[:, c]) for c in range(k)]
    point["average_precision"] = [average_precision_score(labels == c, probs[:, c]) for c in range(k)]
    rng = np.random.default_rng(0)
    draws = {key: [] for key in ["accuracy", "top5_accuracy", "macro_f1", "ece", "brier", "nll"]}
    edge = edges()
    for _ in range(replicates):
        weights = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
        for key, value in headline(labels, probs, weights, pred, conf, top5, edge).items():
            draws[key].append(value)
    intervals = {key: np.percentile(values, [2.5, 97.5]) for key, values in draws.items()}
    return point, intervals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--vigil", default=str(ROOT / ".build/release/vigil"))
    args = parser.parse_args()
    if not Path(args.vigil).exists():
        sys.exit(f"{args.vigil} not found: run `make build` first")

    rng = np.random.default_rng(7)
    labels = rng.integers(0, args.classes, args.samples)
    logits = rng.normal(0, 1.5, (args.samples, args.classes))
    logits[np.arange(args.samples), labels] += rng.normal(2.0, 1.0, args.samples)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        labels_path, predictions_path = Path(tmp) / "labels.jsonl", Path(tmp) / "preds.jsonl"
        labels_path.write_text("".join(json.dumps({"id": f"s{i}", "label": int(y)}) + "\n" for i, y in enumerate(labels)))
        predictions_path.write_text("".join(json.dumps({"id": f"s{i}", "probs": p.tolist()}) + "\n" for i, p in enumerate(probs)))

        start = time.perf_counter()
        out = subprocess.run([args.vigil, "score", "classification", "--labels", str(labels_path), "--predictions",
                              str(predictions_path), "--bootstrap", str(args.replicates), "--json"],
                             check=True, capture_output=True, text=True).stdout
        vigil_seconds = time.perf_counter() - start
        vigil = json.loads(out)

        start = time.perf_counter()
        point, intervals = equivalent(labels_path, predictions_path, args.replicates)
        numpy_seconds = time.perf_counter() - start

    ours = {"accuracy": vigil["accuracy"], "top5_accuracy": vigil["top5_accuracy"], "macro_f1": vigil["macro"]["f1"],
            "ece": vigil["calibration"]["ece"], "brier": vigil["calibration"]["brier"], "nll": vigil["calibration"]["nll"]}
    difference = max(abs(ours[key] - point[key]) for key in ours)
    difference = max(difference, abs(vigil["calibration"]["nll"] - point["log_loss"]),
                     max(abs(c["roc_auc"] - a) for c, a in zip(vigil["per_class"], point["roc_auc"])),
                     max(abs(c["average_precision"] - a) for c, a in zip(vigil["per_class"], point["average_precision"])))
    print(f"{args.samples} samples, {args.classes} classes, {args.replicates} bootstrap replicates")
    print(f"{'tool':<14}{'wall s':>9}{'vs Vigil':>10}")
    print(f"{'vigil':<14}{vigil_seconds:>9.2f}{1:>9.1f}×")
    print(f"{'numpy/sklearn':<14}{numpy_seconds:>9.2f}{numpy_seconds / vigil_seconds:>9.1f}×")
    print(f"largest difference of point estimates (headline, ROC AUC, AP, log loss): {difference:.1e}")
    print(f"{'95% interval width':<20}{'Vigil':>12}{'numpy':>12}")
    for key in ours:
        width = vigil["intervals"][key]["upper"] - vigil["intervals"][key]["lower"]
        print(f"{key:<20}{width:>12.5f}{intervals[key][1] - intervals[key][0]:>12.5f}")


if __name__ == "__main__":
    main()
