"""Recomputes a stored detection run's metrics independently of Vigil's Swift code: COCO metrics
with pycocotools (COCOeval, bbox), the operating point (TP / FP / FN per class, recall,
precision, FNR, image FPR, false positives per image) with a plain Python greedy matcher, and
latency with numpy. Ground truth comes from the golden set's manifest, detections from the
store's `detection_boxes` table. Used by Scripts/check_run.py for detection runs.
"""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
from pathlib import Path

import numpy as np

from check_run import TOLERANCE, compare_with_store


def iou(d: list[float], g: list[float], crowd: bool) -> float:
    """pycocotools' IoU: over the detection's area when the ground truth is a crowd region."""
    w = min(d[0] + d[2], g[0] + g[2]) - max(d[0], g[0])
    h = min(d[1] + d[3], g[1] + g[3]) - max(d[1], g[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = d[2] * d[3] if crowd else d[2] * d[3] + g[2] * g[3] - inter
    return inter / union


def match_image(truth: list[tuple[int, list[float], bool]], dets: list[tuple[int, list[float], float]],
                threshold: float, score_threshold: float, classes: int) -> dict:
    """Greedy matching per class: detections by score (ties in file order) take the unmatched
    non-crowd box of highest IoU >= threshold, else a crowd box (then they are ignored)."""
    tp = [0] * classes
    fp = [0] * classes
    fn = [0] * classes
    has_truth = [False] * classes
    has_det = [False] * classes
    statuses = ["below_threshold"] * len(dets)
    for k in range(classes):
        gt = [i for i, t in enumerate(truth) if t[0] == k]
        gt.sort(key=lambda i: truth[i][2])  # non-crowd first (stable)
        has_truth[k] = bool(gt)
        kept = sorted((i for i, d in enumerate(dets) if d[0] == k and d[2] >= score_threshold),
                      key=lambda i: -dets[i][2])
        taken = set()
        for i in kept:
            has_det[k] = True
            best, chosen = min(threshold, 1 - 1e-10), None
            for g in gt:
                crowd = truth[g][2]
                if g in taken and not crowd:
                    continue
                if chosen is not None and not truth[chosen][2] and crowd:
                    break
                value = iou(dets[i][1], truth[g][1], crowd)
                if value < best:
                    continue
                best, chosen = value, g
            if chosen is None:
                fp[k] += 1
                statuses[i] = "fp"
            elif truth[chosen][2]:
                statuses[i] = "ignored"
            else:
                tp[k] += 1
                taken.add(chosen)
                statuses[i] = "tp"
        fn[k] = sum(1 for g in gt if not truth[g][2] and g not in taken)
    return {"tp": tp, "fp": fp, "fn": fn, "has_truth": has_truth, "has_det": has_det, "statuses": statuses}


def coco_metrics(truth: list[list[tuple[int, list[float], bool]]], dets: list[list[tuple[int, list[float], float]]],
                 classes: list[str]) -> dict:
    """pycocotools' 12 stats and per-category AP / AP50 (area all, 100 detections)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, annotations, results = [], [], []
    for i, (objects, found) in enumerate(zip(truth, dets)):
        images.append({"id": i + 1})
        for k, box, crowd in objects:
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "category_id": k + 1, "bbox": box,
                                "area": box[2] * box[3], "iscrowd": int(crowd)})
        for k, box, score in found:
            results.append({"image_id": i + 1, "category_id": k + 1, "bbox": box, "score": score})
    if not results:
        return {}
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {"images": images, "annotations": annotations,
                      "categories": [{"id": k + 1, "name": n} for k, n in enumerate(classes)]}
        gt.createIndex()
        dt = gt.loadRes(results)
        evaluation = COCOeval(gt, dt, "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    stats = evaluation.stats
    out = {("map", ""): stats[0], ("map50", ""): stats[1], ("map75", ""): stats[2], ("ar100", ""): stats[8]}
    precision = evaluation.eval["precision"]  # [T, R, K, A, M]
    for k, name in enumerate(classes):
        for key, t in (("ap", slice(None)), ("ap50", 0)):
            values = precision[t, :, k, 0, 2]
            defined = values[values > -1]
            out[(key, name)] = float(np.mean(defined)) if defined.size else None
    return {key: (None if value is not None and value < 0 else value) for key, value in out.items()}


def percentile_summary(latencies: list[float | None]) -> dict:
    if not latencies or any(v is None for v in latencies):
        return {("latency_p50_ms", ""): None, ("latency_p95_ms", ""): None, ("throughput_ips", ""): None}
    values = np.array(latencies, dtype=np.float64)
    total = float(np.sum(np.sort(values)))
    return {("latency_p50_ms", ""): float(np.percentile(values, 50)), ("latency_p95_ms", ""): float(np.percentile(values, 95)),
            ("throughput_ips", ""): (len(values) / (total / 1000)) if total > 0 else None}


def check(db: sqlite3.Connection, run: str, result: dict) -> int:
    golden = result["golden_set"]
    classes = golden["classes"]
    manifest = json.loads((Path(golden["path"]) / "manifest.json").read_text())
    samples = {s["id"]: s for s in manifest["samples"]}
    point = result["operating_point"]
    checked, mismatches, rows = 0, [], []
    scenarios = [s["scenario"] for s in result["scenarios"]]
    for scenario in scenarios:
        summary = {}
        for role in ("baseline", "candidate"):
            threshold = point[f"{role}_score_threshold"]
            images = db.execute("""SELECT sample_index, sample_id, true_positives, false_positives, misses, latency_ms
                                   FROM detection_outcomes WHERE run_id = ? AND scenario = ? AND role = ? ORDER BY sample_index""",
                                (run, scenario, role)).fetchall()
            boxes: dict[int, list] = {}
            for index, k, x, y, w, h, score, status in db.execute(
                    """SELECT sample_index, class_index, x, y, width, height, score, status FROM detection_boxes
                       WHERE run_id = ? AND scenario = ? AND role = ? AND kind = 'detection' ORDER BY sample_index, box_index""",
                    (run, scenario, role)):
                boxes.setdefault(index, []).append(((k, [x, y, w, h], score), status))
            truth = [[(classes.index(o["class"]), [float(v) for v in o["box"]], bool(o.get("iscrowd", False)))
                      for o in samples[sample_id]["objects"]] for _, sample_id, *_ in images]
            dets = [[d for d, _ in boxes.get(index, [])] for index, *_ in images]
            expected = coco_metrics(truth, dets, classes)
            totals = {name: [0] * len(classes) for name in ("tp", "fp", "fn")}
            negatives, fp_images = [0] * len(classes), [0] * len(classes)
            for i, (index, sample_id, tp, fp, misses, _) in enumerate(images):
                m = match_image(truth[i], dets[i], point["iou"], threshold, len(classes))
                if (sum(m["tp"]), sum(m["fp"]), sum(m["fn"])) != (tp, fp, misses):
                    mismatches.append(f"{scenario} {role} {sample_id}: stored TP/FP/misses {(tp, fp, misses)}, "
                                      f"recomputed {(sum(m['tp']), sum(m['fp']), sum(m['fn']))}")
                if m["statuses"] != [status for _, status in boxes.get(index, [])]:
                    mismatches.append(f"{scenario} {role} {sample_id}: stored box statuses differ from the recomputed ones")
                for name in totals:
                    totals[name] = [a + b for a, b in zip(totals[name], m[name])]
                for k in range(len(classes)):
                    if not m["has_truth"][k]:
                        negatives[k] += 1
                        fp_images[k] += m["has_det"][k]
            for k, name in enumerate(classes):
                tp, fp, fn = totals["tp"][k], totals["fp"][k], totals["fn"][k]
                expected[("precision", name)] = tp / (tp + fp) if tp + fp else None
                expected[("recall", name)] = tp / (tp + fn) if tp + fn else None
                expected[("fnr", name)] = fn / (tp + fn) if tp + fn else None
                expected[("image_fpr", name)] = fp_images[k] / negatives[k] if negatives[k] else None
            expected[("fp_per_image", "")] = sum(totals["fp"]) / len(images) if images else None
            expected.update(percentile_summary([r[5] for r in images]))
            checked += compare_with_store(db, run, scenario, role, expected, "reference", mismatches)
            summary[role] = (expected.get(("map50", "")), expected.get(("recall", classes[0])), expected[("fp_per_image", "")])
        rows.append((scenario, summary))

    print(f"run {run}: detection metrics recomputed with pycocotools and a Python matcher from the stored boxes")
    print(f"{'scenario':<24}{'map50 b':>9}{'map50 c':>9}{'recall b':>10}{'recall c':>10}{'FP/img b':>10}{'FP/img c':>10}")
    def show(v):
        return "      —" if v is None else f"{v:7.4f}"
    for scenario, s in rows:
        b, c = s["baseline"], s["candidate"]
        print(f"{scenario:<24}{show(b[0]):>9}{show(c[0]):>9}{show(b[1]):>10}{show(c[1]):>10}{show(b[2]):>10}{show(c[2]):>10}")
    if mismatches:
        print(f"{len(mismatches)} of {checked} checks differ:")
        for line in mismatches[:30]:
            print("  " + line)
        return 1
    print(f"all {checked} stored detection metric values match the reference (tolerance {TOLERANCE}), "
          f"and every stored box status and per-image count matches")
    return 0
