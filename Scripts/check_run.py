#!/usr/bin/env python3
"""Recomputes a stored run's metrics from its per-sample outcomes with numpy, independently of
Vigil's Swift code, and compares them with the metrics Vigil stored.

Usage: python3 Scripts/check_run.py [--store .vigil/history.sqlite] [--run RUN_ID]
       (default: the newest complete run). Needs numpy only.

Definitions recomputed here (see Sources/Vigil/Metrics/Metric.swift for Vigil's):
  accuracy; per class precision/recall/F1 (0 when undefined), FPR = FP/(FP+TN), FNR = FN/(FN+TP)
  (undefined -> NULL); macro F1; ECE with 15 bins whose edges are torch.linspace(0, 1, 16) in
  float32, a confidence of 1.0 in the last bin; Brier = mean sum_k (p_k - y_k)^2; latency
  percentiles with numpy.percentile (linear); throughput = n / sum(latency) in images/s.
Exit status: 0 every value matches (|difference| <= 1e-9), 1 some value differs, 2 bad input.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys

import numpy as np

TOLERANCE = 1e-9


def edges_float32(count: int) -> np.ndarray:
    step = np.float32(1) / np.float32(count - 1)
    return np.array([np.float32(i) * step if i < count // 2 else np.float32(1) - step * np.float32(count - 1 - i)
                     for i in range(count)], dtype=np.float32)


def metrics(labels: np.ndarray, probs: np.ndarray, latencies: np.ndarray, classes: int) -> dict[tuple[str, str], float | None]:
    n = len(labels)
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    correct = pred == labels
    out: dict[tuple[str, str], float | None] = {("accuracy", ""): float(correct.mean())}
    f1s = []
    for c in range(classes):
        tp = int(np.sum((pred == c) & (labels == c)))
        fp = int(np.sum((pred == c) & (labels != c)))
        fn = int(np.sum((pred != c) & (labels == c)))
        tn = n - tp - fp - fn
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
        f1s.append(f1)
        out[("precision", str(c))] = precision
        out[("recall", str(c))] = recall
        out[("f1", str(c))] = f1
        out[("fpr", str(c))] = fp / (fp + tn) if fp + tn else None
        out[("fnr", str(c))] = fn / (fn + tp) if fn + tp else None
    out[("macro_f1", "")] = float(np.mean(f1s))
    edges = edges_float32(16)
    index = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, 14)
    ece = 0.0
    for b in range(15):
        mask = index == b
        if mask.any():
            ece += mask.sum() / n * abs(correct[mask].mean() - conf[mask].astype(np.float64).mean())
    out[("ece", "")] = float(ece)
    onehot = np.eye(classes)[labels]
    out[("brier", "")] = float(np.mean(np.sum((probs.astype(np.float64) - onehot) ** 2, axis=1)))
    out[("latency_p50_ms", "")] = float(np.percentile(latencies, 50))
    out[("latency_p95_ms", "")] = float(np.percentile(latencies, 95))
    out[("throughput_ips", "")] = float(n / (latencies.sum() / 1000))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=".vigil/history.sqlite")
    parser.add_argument("--run")
    args = parser.parse_args()
    try:
        db = sqlite3.connect(f"file:{args.store}?mode=ro", uri=True)
    except sqlite3.OperationalError as error:
        print(f"{args.store}: {error}", file=sys.stderr)
        return 2
    run = args.run or (db.execute("SELECT id FROM runs WHERE status = 'complete' ORDER BY started_at DESC LIMIT 1").fetchone() or [None])[0]
    if run is None:
        print(f"{args.store}: no complete run", file=sys.stderr)
        return 2

    checked, mismatches = 0, []
    rows = []
    scenarios = [r[0] for r in db.execute("SELECT DISTINCT scenario FROM outcomes WHERE run_id = ? ORDER BY rowid", (run,))]
    for scenario in scenarios:
        accuracy = {}
        for role in ("baseline", "candidate"):
            data = db.execute("""SELECT label, predicted, confidence, correct, latency_ms, probabilities FROM outcomes
                                 WHERE run_id = ? AND scenario = ? AND role = ? ORDER BY sample_index""",
                              (run, scenario, role)).fetchall()
            labels = np.array([r[0] for r in data])
            probs = np.stack([np.frombuffer(r[5], dtype="<f4") for r in data])
            latencies = np.array([r[4] for r in data])
            # The stored per-sample columns must agree with the stored probabilities.
            if not (np.array_equal(probs.argmax(axis=1), [r[1] for r in data])
                    and np.allclose(probs.max(axis=1), [r[2] for r in data], rtol=0, atol=1e-7)
                    and np.array_equal(probs.argmax(axis=1) == labels, [bool(r[3]) for r in data])):
                mismatches.append(f"{scenario} {role}: predicted/confidence/correct columns disagree with probabilities")
            expected = metrics(labels, probs, latencies, probs.shape[1])
            stored = {(m, c): v for m, c, v in db.execute(
                "SELECT metric, class, value FROM scenario_metrics WHERE run_id = ? AND scenario = ? AND role = ?",
                (run, scenario, role))}
            for key, value in expected.items():
                checked += 1
                got = stored.get(key, "absent")
                if value is None or got is None:
                    if value is not got:
                        mismatches.append(f"{scenario} {role} {key}: numpy {value}, Vigil {got}")
                elif got == "absent" or abs(got - value) > TOLERANCE:
                    mismatches.append(f"{scenario} {role} {key}: numpy {value!r}, Vigil {got!r}")
            accuracy[role] = expected[("accuracy", "")]
            accuracy[role + "_ece"] = expected[("ece", "")]
        rows.append((scenario, accuracy["baseline"], accuracy["candidate"], accuracy["baseline_ece"], accuracy["candidate_ece"]))

    print(f"run {run}: metrics recomputed with numpy from the stored outcomes")
    print(f"{'scenario':<15}{'baseline acc':>14}{'candidate acc':>15}{'delta (pp)':>12}{'baseline ECE':>14}{'candidate ECE':>15}")
    for scenario, b, c, be, ce in rows:
        print(f"{scenario:<15}{b:>14.4f}{c:>15.4f}{(c - b) * 100:>+12.2f}{be:>14.5f}{ce:>15.5f}")
    if mismatches:
        print(f"{len(mismatches)} of {checked} values differ:")
        for line in mismatches[:30]:
            print("  " + line)
        return 1
    print(f"all {checked} stored metric values match numpy (tolerance {TOLERANCE})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
