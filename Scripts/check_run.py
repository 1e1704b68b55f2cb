#!/usr/bin/env python3
"""Recomputes a stored run's metrics from its per-sample outcomes with numpy, independently of
Vigil's Swift code, and compares them with the metrics Vigil stored.

Usage: python3 Scripts/check_run.py [--store .vigil/history.sqlite] [--run RUN_ID]
       (default: the newest complete run). Needs numpy; detection runs also pycocotools (see
       Scripts/check_detection_run.py, which checks them).

Every classification metric Vigil stores is recomputed here, as Sources/Vigil/Metrics/METRICS.md defines it:
  accuracy, top-5 accuracy; per class precision/recall/F1, FPR, FNR (undefined -> NULL, left out
  of macro averages), ROC AUC, average precision; ECE/MCE/RMSCE with 15 bins whose edges are
  torch.linspace(0, 1, 16) in float32 (1.0 in the last bin), adaptive and classwise ECE, Brier,
  NLL; latency percentiles (numpy.percentile, linear) and throughput = n / sum(latency).
Exit status: 0 every value matches (|difference| <= 1e-9), 1 some value differs, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

TOLERANCE = 1e-9


def edges_float32(count: int) -> np.ndarray:
    step = np.float32(1) / np.float32(count - 1)
    return np.array([np.float32(i) * step if i < count // 2 else np.float32(1) - step * np.float32(count - 1 - i)
                     for i in range(count)], dtype=np.float32)


def auc_ap(scores: np.ndarray, positive: np.ndarray) -> tuple[float | None, float | None]:
    """ROC AUC as the Mann-Whitney statistic (ties count one half) and average precision as the
    step integral over distinct thresholds (scikit-learn's definitions)."""
    p, n = int(positive.sum()), int((~positive).sum())
    auc = None
    if p and n:
        order = np.argsort(scores, kind="mergesort")
        s, pos = scores[order], positive[order]
        ranks = np.empty(len(s))
        i = 0
        while i < len(s):
            j = i
            while j < len(s) and s[j] == s[i]:
                j += 1
            ranks[i:j] = (i + j + 1) / 2   # average 1-based rank of the tie group
            i = j
        auc = (ranks[pos].sum() - p * (p + 1) / 2) / (p * n)
    ap = None
    if p:
        order = np.argsort(-scores, kind="mergesort")
        s, pos = scores[order], positive[order]
        tp = fp = 0
        ap = 0.0
        i = 0
        while i < len(s):
            j = i
            while j < len(s) and s[j] == s[i]:
                j += 1
            group_tp = int(pos[i:j].sum())
            tp += group_tp
            fp += (j - i) - group_tp
            ap += group_tp / p * tp / (tp + fp)
            i = j
    return auc, ap


def metrics(labels: np.ndarray, probs: np.ndarray, latencies: np.ndarray, classes: int,
            names: list[str] | None = None) -> dict[tuple[str, str], float | None]:
    """Per-class values are keyed by class name (`names`, default the indices as text)."""
    names = names or [str(c) for c in range(classes)]
    probs = probs.astype(np.float64)
    n = len(labels)
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    correct = pred == labels
    out: dict[tuple[str, str], float | None] = {("accuracy", ""): float(correct.mean())}
    if classes >= 5:
        # scikit-learn's top-k order: ties towards the higher class index.
        p_label = probs[np.arange(n), labels]
        higher = (probs > p_label[:, None]) | ((probs == p_label[:, None]) & (np.arange(classes)[None, :] > labels[:, None]))
        out[("top5_accuracy", "")] = float(np.mean(higher.sum(axis=1) < 5))
    per = {"precision": [], "recall": [], "f1": []}
    support = []
    for c in range(classes):
        tp = int(np.sum((pred == c) & (labels == c)))
        fp = int(np.sum((pred == c) & (labels != c)))
        fn = int(np.sum((pred != c) & (labels == c)))
        tn = n - tp - fp - fn
        values = {"precision": tp / (tp + fp) if tp + fp else None, "recall": tp / (tp + fn) if tp + fn else None,
                  "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None}
        for key, value in values.items():
            out[(key, names[c])] = value
            per[key].append(value)
        support.append(tp + fn)
        out[("fpr", names[c])] = fp / (fp + tn) if fp + tn else None
        out[("fnr", names[c])] = fn / (fn + tp) if fn + tp else None
        auc, ap = auc_ap(probs[:, c], labels == c)
        out[("roc_auc", names[c])] = auc
        out[("average_precision", names[c])] = ap
    for key in per:   # undefined classes are left out of averages (zero_division=nan)
        defined = [v for v in per[key] if v is not None]
        out[("macro_" + key if key != "f1" else "macro_f1", "")] = float(np.mean(defined)) if defined else None
    f1 = [(v, s) for v, s in zip(per["f1"], support) if v is not None]
    out[("weighted_f1", "")] = sum(v * s for v, s in f1) / sum(s for _, s in f1) if sum(s for _, s in f1) else None
    edges = edges_float32(16)
    index = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, 14)
    ece = squared = mce = 0.0
    for b in range(15):
        mask = index == b
        if mask.any():
            gap = abs(correct[mask].mean() - conf[mask].mean())
            ece += mask.sum() / n * gap
            squared += mask.sum() / n * gap * gap
            mce = max(mce, gap)
    out[("ece", "")], out[("mce", "")], out[("rmsce", "")] = float(ece), float(mce), float(np.sqrt(squared))
    order = np.lexsort((correct, conf))
    out[("adaptive_ece", "")] = float(sum(len(g) / n * abs(correct[g].mean() - conf[g].mean())
                                          for g in np.array_split(order, 15) if len(g)))
    classwise = 0.0
    for c in range(classes):
        idx = np.clip(np.searchsorted(edges, probs[:, c], side="right") - 1, 0, 14)
        for b in range(15):
            mask = idx == b
            if mask.any():
                classwise += mask.sum() / n * abs((labels[mask] == c).mean() - probs[mask, c].mean()) / classes
    out[("classwise_ece", "")] = float(classwise)
    onehot = np.eye(classes)[labels]
    out[("brier", "")] = float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))
    eps = np.finfo(np.float64).eps
    out[("nll", "")] = float(np.mean(-np.log(np.clip(probs[np.arange(n), labels], eps, 1 - eps))))
    out[("latency_p50_ms", "")] = float(np.percentile(latencies, 50))
    out[("latency_p95_ms", "")] = float(np.percentile(latencies, 95))
    out[("throughput_ips", "")] = float(n / (latencies.sum() / 1000))
    return out


def compare_with_store(db: sqlite3.Connection, run: str, scenario: str, role: str, expected: dict, reference: str,
                       mismatches: list[str]) -> int:
    """Compares recomputed values, keyed (metric, class), with the stored ones; appends a line
    per difference (undefined must be NULL, defined within TOLERANCE) and returns how many were
    compared."""
    stored = {(m, c): v for m, c, v in db.execute(
        "SELECT metric, class, value FROM scenario_metrics WHERE run_id = ? AND scenario = ? AND role = ?",
        (run, scenario, role))}
    for key, value in expected.items():
        got = stored.get(key, "absent")
        if value is None or got is None:
            if value is not got:
                mismatches.append(f"{scenario} {role} {key}: {reference} {value}, Vigil {got}")
        elif got == "absent" or abs(got - value) > TOLERANCE:
            mismatches.append(f"{scenario} {role} {key}: {reference} {value!r}, Vigil {got!r}")
    return len(expected)


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
    result = json.loads(db.execute("SELECT result_json FROM runs WHERE id = ?", (run,)).fetchone()[0])
    if result["golden_set"].get("task") == "detection":
        import check_detection_run
        return check_detection_run.check(db, run, result)

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
            probs = np.stack([np.frombuffer(r[5], dtype="<f4") for r in data]).astype(np.float64)
            latencies = np.array([r[4] for r in data])
            # The stored per-sample columns must agree with the stored probabilities.
            if not (np.array_equal(probs.argmax(axis=1), [r[1] for r in data])
                    and np.allclose(probs.max(axis=1), [r[2] for r in data], rtol=0, atol=1e-7)
                    and np.array_equal(probs.argmax(axis=1) == labels, [bool(r[3]) for r in data])):
                mismatches.append(f"{scenario} {role}: predicted/confidence/correct columns disagree with probabilities")
            expected = metrics(labels, probs, latencies, probs.shape[1], result["golden_set"]["classes"])
            checked += compare_with_store(db, run, scenario, role, expected, "numpy", mismatches)
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
