#!/usr/bin/env python3
"""Writes reference values for Vigil's metrics engine (Tests/VigilTests/Fixtures/metrics/).

References: scikit-learn (precision/recall/F1 with zero_division=nan, confusion matrix, ROC AUC,
average precision, top-k accuracy, log loss), pycocotools (COCOeval bbox), SciPy (binomial test
for McNemar), and small numpy references written here for what no library defines the same
way (calibration errors following torchmetrics' binning, the bootstrap). Each reference is
documented where it is defined.

Usage: python3 Scripts/make_metric_fixtures.py
Needs: numpy, scipy, scikit-learn, pycocotools (Scripts/requirements.txt).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from scipy.stats import binomtest
from sklearn.metrics import (average_precision_score, confusion_matrix, log_loss, precision_recall_fscore_support,
                             roc_auc_score, top_k_accuracy_score)

OUT = Path(__file__).resolve().parent.parent / "Tests" / "VigilTests" / "Fixtures" / "metrics"
MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


# MARK: - The bootstrap's generator (the same algorithm as Sources/Vigil/Statistics/Bootstrap.swift)

def mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & MASK


class Xoshiro256:
    """xoshiro256** seeded with four SplitMix64 outputs; Lemire's method for bounded draws."""

    def __init__(self, seed: int):
        self.s = []
        x = seed
        for _ in range(4):
            x = (x + GOLDEN) & MASK
            self.s.append(mix(x))

    def next(self) -> int:
        s = self.s
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def below(self, bound: int) -> int:
        product = self.next() * bound
        if (product & MASK) < bound:
            threshold = ((1 << 64) - bound) % bound
            while (product & MASK) < threshold:
                product = self.next() * bound
        return product >> 64


def bootstrap_weights(seed: int, replicate: int, n: int) -> np.ndarray:
    generator = Xoshiro256(mix((seed + replicate * GOLDEN) & MASK))
    counts = np.zeros(n, dtype=np.int64)
    for _ in range(n):
        counts[generator.below(n)] += 1
    return counts


def percentile_interval(values, confidence: float):
    values = np.array([v for v in values if v is not None and np.isfinite(v)])
    if len(values) == 0:
        return None
    lower, upper = np.percentile(values, [(1 - confidence) / 2 * 100, (1 + confidence) / 2 * 100])
    return {"lower": float(lower), "upper": float(upper), "replicates": int(len(values))}


def bootstrap_p_value(deltas):
    d = np.array([v for v in deltas if v is not None and np.isfinite(v)])
    if len(d) == 0:
        return None
    below, above, r = np.sum(d <= 0), np.sum(d >= 0), len(d)
    return float(min(1.0, 2 * min((1 + below) / (1 + r), (1 + above) / (1 + r))))


# MARK: - Classification references

def edges_float32(count: int) -> np.ndarray:
    """torch.linspace(0, 1, count) in float32 (torchmetrics' bin edges)."""
    step = np.float32(1) / np.float32(count - 1)
    return np.array([np.float32(i) * step if i < count // 2 else np.float32(1) - step * np.float32(count - 1 - i)
                     for i in range(count)], dtype=np.float32).astype(np.float64)


def bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Last edge <= value; 1.0 (the trap of torchmetrics issue #3510) goes into the last bin."""
    return np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)


def calibration_reference(probs: np.ndarray, labels: np.ndarray, bins: int) -> dict:
    """Top-label ECE / MCE / RMSCE (torchmetrics' l1 / max / l2 norms), adaptive ECE (equal-mass
    bins: samples sorted by (confidence, correct), numpy.array_split sizes), classwise ECE (mean
    over classes of the ECE of p(class) against the class indicator), Brier, and NLL (sklearn's
    log_loss: probabilities clipped to [eps, 1 - eps])."""
    n, k = probs.shape
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(np.float64)
    edges = edges_float32(bins + 1)
    index = bin_index(conf, edges)
    ece, squared, mce, out_bins = 0.0, 0.0, 0.0, []
    for b in range(bins):
        mask = index == b
        count = int(mask.sum())
        if count:
            c, a = conf[mask].mean(), correct[mask].mean()
            ece += count / n * abs(a - c)
            squared += count / n * (a - c) ** 2
            mce = max(mce, abs(a - c))
            out_bins.append({"count": count, "confidence": float(c), "accuracy": float(a)})
        else:
            out_bins.append({"count": 0, "confidence": None, "accuracy": None})
    order = np.lexsort((correct, conf))
    adaptive = 0.0
    for group in np.array_split(order, bins):
        if len(group):
            adaptive += len(group) / n * abs(correct[group].mean() - conf[group].mean())
    classwise = 0.0
    for c in range(k):
        p = probs[:, c]
        idx = bin_index(p, edges)
        positive = (labels == c).astype(np.float64)
        e = 0.0
        for b in range(bins):
            mask = idx == b
            if mask.any():
                e += mask.sum() / n * abs(positive[mask].mean() - p[mask].mean())
        classwise += e / k
    onehot = np.eye(k)[labels]
    return {
        "ece": float(ece), "mce": float(mce), "rmsce": float(np.sqrt(squared)), "adaptive_ece": float(adaptive),
        "classwise_ece": float(classwise), "brier": float(np.mean(np.sum((probs - onehot) ** 2, axis=1))),
        "nll": float(log_loss(labels, probs, labels=list(range(k)))), "bins": out_bins, "edges": edges.tolist(),
    }


def nan_to_none(values):
    return [None if (v is None or (isinstance(v, float) and np.isnan(v))) else float(v) for v in values]


def classification_reference(probs: np.ndarray, labels: np.ndarray, threshold: float | None, bins: int = 15) -> dict:
    n, k = probs.shape
    pred = probs.argmax(axis=1)
    p, r, f, support = precision_recall_fscore_support(labels, pred, labels=list(range(k)), zero_division=np.nan)
    macro = precision_recall_fscore_support(labels, pred, labels=list(range(k)), zero_division=np.nan, average="macro")
    weighted = precision_recall_fscore_support(labels, pred, labels=list(range(k)), zero_division=np.nan, average="weighted")
    cm = confusion_matrix(labels, pred, labels=list(range(k)))
    fpr, fnr, auc, ap = [], [], [], []
    for c in range(k):
        actual = labels == c
        positive = probs[:, c] >= threshold if threshold is not None else pred == c
        tp, fp = int(np.sum(actual & positive)), int(np.sum(~actual & positive))
        fn, tn = int(np.sum(actual & ~positive)), int(np.sum(~actual & ~positive))
        fpr.append(None if fp + tn == 0 else fp / (fp + tn))
        fnr.append(None if fn + tp == 0 else fn / (fn + tp))
        both = 0 < actual.sum() < n
        auc.append(float(roc_auc_score(actual, probs[:, c])) if both else None)
        ap.append(float(average_precision_score(actual, probs[:, c])) if actual.any() else None)
    result = {
        "n": n, "accuracy": float(np.mean(pred == labels)),
        "macro": dict(zip(["precision", "recall", "f1"], nan_to_none(macro[:3]))),
        "weighted": dict(zip(["precision", "recall", "f1"], nan_to_none(weighted[:3]))),
        "precision": nan_to_none(p), "recall": nan_to_none(r), "f1": nan_to_none(f), "support": support.tolist(),
        "fpr": fpr, "fnr": fnr, "roc_auc": auc, "average_precision": ap, "confusion_matrix": cm.tolist(),
        "calibration": calibration_reference(probs, labels, bins), "threshold": threshold,
    }
    if k >= 5:
        result["top5_accuracy"] = float(top_k_accuracy_score(labels, probs, k=5, labels=list(range(k))))
    return result


def headline(probs: np.ndarray, labels: np.ndarray) -> dict:
    ref = classification_reference(probs, labels, None)
    values = {"accuracy": ref["accuracy"], "macro_f1": ref["macro"]["f1"], "ece": ref["calibration"]["ece"],
              "brier": ref["calibration"]["brier"], "nll": ref["calibration"]["nll"]}
    if "top5_accuracy" in ref:
        values["top5_accuracy"] = ref["top5_accuracy"]
    return values


def classification_case(name, probs, labels, threshold=None, bootstrap=None, seed=7):
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels)
    case = {"name": name, "labels": labels.tolist(), "probabilities": probs.tolist(),
            "expected": classification_reference(probs, labels, threshold)}
    if bootstrap:
        replicates = []
        for r in range(bootstrap):
            idx = np.repeat(np.arange(len(labels)), bootstrap_weights(seed, r, len(labels)))
            replicates.append(headline(probs[idx], labels[idx]))
        keys = replicates[0].keys()
        case["bootstrap"] = {"replicates": bootstrap, "seed": seed, "confidence": 0.95,
                             "first_weights": bootstrap_weights(seed, 0, len(labels)).tolist(),
                             "intervals": {key: percentile_interval([rep[key] for rep in replicates], 0.95) for key in keys}}
    return case


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def classification_cases() -> list:
    rng = np.random.default_rng(3510)
    cases = []
    labels = rng.integers(0, 6, 240)
    logits = rng.normal(0, 1.5, (240, 6))
    logits[np.arange(240), labels] += rng.normal(1.2, 1.0, 240)
    cases.append(classification_case("six-classes", softmax(logits), labels, bootstrap=200))
    cases.append(classification_case("six-classes-threshold", softmax(logits), labels, threshold=0.3))
    # A class absent from the labels (c3), confidences of exactly 1 and 0, tied scores.
    labels = rng.choice([0, 1, 2], 90)
    probs = np.round(softmax(rng.normal(0, 2, (90, 4))), 2)
    probs[:, 3] = 0
    probs /= probs.sum(axis=1, keepdims=True)
    probs[:8] = 0
    probs[np.arange(8), labels[:8]] = 1.0
    probs[8:12] = 0
    probs[np.arange(8, 12), (labels[8:12] + 1) % 3] = 1.0
    cases.append(classification_case("absent-class-ties-and-certainty", probs, labels, bootstrap=100))
    # Perfect and certain.
    labels = rng.integers(0, 3, 25)
    cases.append(classification_case("perfect", np.eye(3)[labels], labels))
    # Every score tied (uniform predictions): argmax and top-5 tie rules decide everything.
    labels = rng.integers(0, 5, 40)
    cases.append(classification_case("uniform", np.full((40, 5), 0.2), labels))
    # A single sample.
    cases.append(classification_case("single-sample", [[0.3, 0.7]], [1]))
    return cases


def paired_case() -> dict:
    """Two models on the same samples: McNemar and paired-bootstrap deltas of headline metrics."""
    rng = np.random.default_rng(42)
    n, k = 150, 4
    labels = rng.integers(0, k, n)
    base = rng.normal(0, 1.4, (n, k))
    base[np.arange(n), labels] += 1.6
    cand = base + rng.normal(0, 0.9, (n, k))
    cand[np.arange(n), labels] += 0.3
    a, b = softmax(base), softmax(cand)
    seed, replicates = 11, 200
    deltas = {key: [] for key in ["accuracy", "macro_f1", "ece", "brier", "nll"]}
    for r in range(replicates):
        idx = np.repeat(np.arange(n), bootstrap_weights(seed, r, n))
        ha, hb = headline(a[idx], labels[idx]), headline(b[idx], labels[idx])
        for key in deltas:
            deltas[key].append(hb[key] - ha[key])
    ra, rb = a.argmax(1) == labels, b.argmax(1) == labels
    only_a, only_b = int(np.sum(ra & ~rb)), int(np.sum(rb & ~ra))
    pa, pb = headline(a, labels), headline(b, labels)
    return {
        "labels": labels.tolist(), "baseline": a.tolist(), "candidate": b.tolist(), "seed": seed, "replicates": replicates,
        "deltas": {key: {"baseline": pa[key], "candidate": pb[key], "delta": pb[key] - pa[key],
                         "interval": percentile_interval(deltas[key], 0.95), "p_value": bootstrap_p_value(deltas[key])}
                   for key in deltas},
        "mcnemar": {"only_baseline": only_a, "only_candidate": only_b,
                    "p_value": float(binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue) if only_a + only_b else 1.0},
    }


def mcnemar_cases() -> list:
    return [{"b": b, "c": c, "p_value": float(binomtest(min(b, c), b + c, 0.5).pvalue) if b + c else 1.0}
            for b, c in [(0, 0), (1, 0), (5, 5), (3, 9), (12, 30), (100, 140), (0, 25), (480, 530)]]


# MARK: - Detection references (pycocotools)

def coco_eval(gt: dict, results: list):
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        if results:
            coco_dt = coco_gt.loadRes(copy.deepcopy(results))
        else:  # loadRes cannot take an empty list; an empty results set is still well defined
            coco_dt = COCO()
            coco_dt.dataset = {"images": gt["images"], "categories": gt["categories"], "annotations": []}
            coco_dt.createIndex()
        e = COCOeval(coco_gt, coco_dt, "bbox")
        e.evaluate()
        e.accumulate()
        e.summarize()
    return e


def per_class_ap(e) -> list:
    out = []
    for k in range(len(e.params.catIds)):
        s = e.eval["precision"][:, :, k, 0, 2]
        s50 = e.eval["precision"][0, :, k, 0, 2]
        out.append({"category_id": int(e.params.catIds[k]),
                    "ap": float(s[s > -1].mean()) if (s > -1).any() else None,
                    "ap50": float(s50[s50 > -1].mean()) if (s50 > -1).any() else None})
    return out


def operating_point(gt: dict, results: list, iou: float, score: float) -> list:
    """TP / FP / FN per category at one IoU threshold and a score threshold, from pycocotools'
    own matching (iouThrs=[iou], area all, no detection cap), and the image-level FPR."""
    kept = [r for r in results if r["score"] >= score]
    counts = {c["id"]: {"tp": 0, "fp": 0, "fn": 0} for c in gt["categories"]}
    if kept:
        with contextlib.redirect_stdout(io.StringIO()):
            coco_gt = COCO()
            coco_gt.dataset = copy.deepcopy(gt)
            coco_gt.createIndex()
            e = COCOeval(coco_gt, coco_gt.loadRes(copy.deepcopy(kept)), "bbox")
            e.params.iouThrs = np.array([iou])
            e.params.areaRng = [[0, 1e10]]
            e.params.areaRngLbl = ["all"]
            e.params.maxDets = [10 ** 9]
            e.evaluate()
        for ev in e.evalImgs:
            if ev is None:
                continue
            c = counts[ev["category_id"]]
            matched, ignored = ev["dtMatches"][0] > 0, ev["dtIgnore"][0] > 0
            c["tp"] += int(np.sum(matched & ~ignored))
            c["fp"] += int(np.sum(~matched & ~ignored))
            c["fn"] += int(np.sum(ev["gtIgnore"] == 0)) - int(np.sum(matched & ~ignored))
    else:
        for a in gt["annotations"]:
            if not a.get("iscrowd", 0):
                counts[a["category_id"]]["fn"] += 1
    images = [i["id"] for i in gt["images"]]
    out = []
    for c in sorted(gt["categories"], key=lambda c: c["id"]):
        with_truth = {a["image_id"] for a in gt["annotations"] if a["category_id"] == c["id"]}
        with_detection = {r["image_id"] for r in kept if r["category_id"] == c["id"]}
        negatives = [i for i in images if i not in with_truth]
        out.append({"category_id": c["id"], **counts[c["id"]], "negative_images": len(negatives),
                    "false_positive_images": len([i for i in negatives if i in with_detection])})
    return out


def detection_case(name: str, gt: dict, results: list, iou=0.5, score=0.3, bootstrap=0, seed=5) -> dict:
    e = coco_eval(gt, results)
    case = {"name": name, "gt": gt, "results": results, "stats": [float(s) for s in e.stats], "per_class": per_class_ap(e),
            "recall": e.eval["recall"].reshape(-1).tolist(), "iou": iou, "score_threshold": score,
            "operating_point": operating_point(gt, results, iou, score)}
    if bootstrap:
        # A replicate evaluates the drawn images as distinct images, the copies of an image
        # adjacent in image order: exactly pycocotools on a data set where copy c of image i gets
        # id i * 1000 + c.
        images = sorted(i["id"] for i in gt["images"])
        maps = []
        for r in range(bootstrap):
            w = bootstrap_weights(seed, r, len(images))
            g2 = {"images": [], "annotations": [], "categories": gt["categories"]}
            r2 = []
            next_ann = 1
            for image, copies in zip(images, w):
                for c in range(copies):
                    new = image * 1000 + c
                    g2["images"].append({"id": new})
                    for a in gt["annotations"]:
                        if a["image_id"] == image:
                            g2["annotations"].append({**a, "id": next_ann, "image_id": new})
                            next_ann += 1
                    r2 += [{**d, "image_id": new} for d in results if d["image_id"] == image]
            e2 = coco_eval(g2, r2)
            s = e2.eval["precision"][:, :, :, 0, 2]
            s50 = e2.eval["precision"][0, :, :, 0, 2]
            maps.append({"map": float(s[s > -1].mean()) if (s > -1).any() else None,
                         "map50": float(s50[s50 > -1].mean()) if (s50 > -1).any() else None})
        case["bootstrap"] = {"replicates": bootstrap, "seed": seed, "first": maps[:5],
                             "map": percentile_interval([m["map"] for m in maps], 0.95),
                             "map50": percentile_interval([m["map50"] for m in maps], 0.95)}
    return case


def random_detection_data(rng, images=24, categories=5, extra_category=True):
    gt = {"images": [{"id": i, "width": 200, "height": 150} for i in range(1, images + 1)], "annotations": [],
          "categories": [{"id": c, "name": f"cat{c}"} for c in range(1, categories + 1 + int(extra_category))]}
    results = []
    ann = 1
    for image in range(1, images + 1):
        if image % 7 == 0:   # images with no ground truth at all
            count = 0
        else:
            count = int(rng.integers(1, 6))
        boxes = []
        for _ in range(count):
            side = float(np.exp(rng.uniform(np.log(10), np.log(140))))
            w, h = round(side * rng.uniform(0.6, 1.4), 1), round(side * rng.uniform(0.6, 1.4), 1)
            x, y = round(float(rng.uniform(0, 200 - min(w, 199))), 1), round(float(rng.uniform(0, 150 - min(h, 149))), 1)
            category = int(rng.integers(1, categories + 1))
            crowd = int(rng.random() < 0.1)
            gt["annotations"].append({"id": ann, "image_id": image, "category_id": category, "bbox": [x, y, w, h],
                                      "area": round(w * h * float(rng.uniform(0.5, 1.0)), 1), "iscrowd": crowd})
            ann += 1
            boxes.append(([x, y, w, h], category))
        for box, category in boxes:
            for _ in range(1 + int(rng.random() < 0.3)):   # duplicates
                j = rng.normal(0, 0.12, 4) * [box[2], box[3], box[2], box[3]]
                results.append({"image_id": image, "category_id": category if rng.random() < 0.85 else int(rng.integers(1, categories + 1)),
                                "bbox": [round(box[0] + j[0], 1), round(box[1] + j[1], 1), round(max(1.0, box[2] + j[2]), 1),
                                         round(max(1.0, box[3] + j[3]), 1)],
                                "score": round(float(rng.uniform(0.2, 1.0)), 1)})   # one decimal: many ties
        for _ in range(int(rng.integers(0, 4))):
            results.append({"image_id": image, "category_id": int(rng.integers(1, categories + 2 if extra_category else categories + 1)),
                            "bbox": [round(float(rng.uniform(0, 180)), 1), round(float(rng.uniform(0, 130)), 1),
                                     round(float(rng.uniform(3, 60)), 1), round(float(rng.uniform(3, 60)), 1)],
                            "score": round(float(rng.uniform(0, 0.8)), 1)})
    return gt, results


def detection_cases() -> list:
    rng = np.random.default_rng(2024)
    cases = []
    gt, results = random_detection_data(rng)
    cases.append(detection_case("mixed", gt, results, bootstrap=60))
    cases.append(detection_case("mixed-strict", gt, results, iou=0.75, score=0.6))
    perfect = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
               for a in gt["annotations"]]
    cases.append(detection_case("perfect", gt, perfect))
    cases.append(detection_case("no-detections", gt, []))
    # More than 100 detections on one image: the per-image cap and maxDets 1/10 matter.
    many = [{"image_id": 1, "category_id": 1, "bbox": [float(i % 50), float(i // 50), 20.0, 20.0],
             "score": round(1 - i / 300, 4)} for i in range(130)]
    small = {"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 1, "name": "a"}],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [3.0, 1.0, 20.0, 20.0], "area": 400.0, "iscrowd": 0},
                             {"id": 2, "image_id": 1, "category_id": 1, "bbox": [30.0, 2.0, 20.0, 20.0], "area": 400.0, "iscrowd": 0},
                             {"id": 3, "image_id": 2, "category_id": 1, "bbox": [0.0, 0.0, 50.0, 50.0], "area": 2500.0, "iscrowd": 1}]}
    cases.append(detection_case("over-100-per-image", small, many + [{"image_id": 2, "category_id": 1, "bbox": [5.0, 5.0, 10.0, 10.0], "score": 0.9}]))
    # A single image, a single box.
    single = {"images": [{"id": 7}], "categories": [{"id": 3, "name": "face"}],
              "annotations": [{"id": 1, "image_id": 7, "category_id": 3, "bbox": [10.0, 10.0, 40.0, 40.0], "area": 1600.0, "iscrowd": 0}]}
    cases.append(detection_case("single", single, [{"image_id": 7, "category_id": 3, "bbox": [12.0, 9.0, 40.0, 42.0], "score": 0.8}]))
    # Annotation id 0: pycocotools reads "matched to id 0" as unmatched. Vigil's expected values
    # come from the same data with ids shifted by one; pycocotools' own (differing) numbers are
    # kept to show the difference.
    zero = {"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 1, "name": "a"}],
            "annotations": [{"id": 0, "image_id": 1, "category_id": 1, "bbox": [10.0, 10.0, 30.0, 30.0], "area": 900.0, "iscrowd": 0},
                            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [60.0, 10.0, 30.0, 30.0], "area": 900.0, "iscrowd": 0},
                            {"id": 2, "image_id": 2, "category_id": 1, "bbox": [5.0, 5.0, 50.0, 40.0], "area": 2000.0, "iscrowd": 0}]}
    found = [{"image_id": 1, "category_id": 1, "bbox": [10.0, 11.0, 30.0, 30.0], "score": 0.9},
             {"image_id": 1, "category_id": 1, "bbox": [61.0, 10.0, 30.0, 30.0], "score": 0.8},
             {"image_id": 2, "category_id": 1, "bbox": [6.0, 5.0, 50.0, 40.0], "score": 0.7},
             {"image_id": 2, "category_id": 1, "bbox": [100.0, 80.0, 20.0, 20.0], "score": 0.6}]
    shifted_gt = copy.deepcopy(zero)
    for a in shifted_gt["annotations"]:
        a["id"] += 1
    shifted = detection_case("annotation-id-0", shifted_gt, found)
    shifted["gt"] = zero
    shifted["pycocotools_stats"] = [float(s) for s in coco_eval(zero, found).stats]
    cases.append(shifted)
    return cases


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "classification.json").write_text(json.dumps(classification_cases()) + "\n")
    (OUT / "paired.json").write_text(json.dumps(paired_case()) + "\n")
    (OUT / "mcnemar.json").write_text(json.dumps(mcnemar_cases()) + "\n")
    (OUT / "detection.json").write_text(json.dumps(detection_cases()) + "\n")
    print(f"wrote fixtures to {OUT}")


if __name__ == "__main__":
    main()
