#!/usr/bin/env python3
"""Generates COCO-like detection data for benchmarks: ground truth and a results file.

Usage: python3 Benchmarks/coco_data.py OUT_DIR [--images 5000] [--classes 80] [--gt 7] [--dets 100] [--seed 0]

Per image: a Poisson(--gt) number of ground-truth boxes of random classes and sizes (small,
medium and large in COCO's sense, some crowd regions), and --dets detections: for most ground
truth boxes a jittered copy (a true positive at some IoU), duplicates, and random boxes, with
random scores, some tied. Written as OUT_DIR/gt.json (COCO annotations) and OUT_DIR/dt.json
(COCO results).
"""

import argparse
import json
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--classes", type=int, default=80)
    parser.add_argument("--gt", type=float, default=7)
    parser.add_argument("--dets", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)

    images, annotations, results = [], [], []
    ann_id = 1
    for image_id in range(1, args.images + 1):
        width, height = int(rng.integers(320, 641)), int(rng.integers(240, 481))
        images.append({"id": image_id, "width": width, "height": height, "file_name": f"{image_id:06d}.jpg"})
        boxes = []
        for _ in range(rng.poisson(args.gt)):
            side = float(np.exp(rng.uniform(np.log(8), np.log(300))))
            w = min(width - 1.0, side * rng.uniform(0.5, 1.5))
            h = min(height - 1.0, side * rng.uniform(0.5, 1.5))
            x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
            category = int(rng.integers(1, args.classes + 1))
            crowd = int(rng.random() < 0.02)
            box = [round(x, 2), round(y, 2), round(w, 2), round(h, 2)]
            annotations.append({"id": ann_id, "image_id": image_id, "category_id": category, "bbox": box,
                                "area": round(w * h * rng.uniform(0.6, 1.0), 2), "iscrowd": crowd})
            ann_id += 1
            boxes.append((box, category))
        dets = []
        for box, category in boxes:
            if rng.random() < 0.8:
                copies = 1 + int(rng.random() < 0.15)
                for _ in range(copies):
                    x, y, w, h = box
                    jitter = rng.normal(0, 0.08, 4) * [w, h, w, h]
                    dets.append(([round(x + jitter[0], 2), round(y + jitter[1], 2), round(max(1.0, w + jitter[2]), 2),
                                  round(max(1.0, h + jitter[3]), 2)], category if rng.random() < 0.9 else int(rng.integers(1, args.classes + 1))))
        while len(dets) < args.dets:
            w, h = float(rng.uniform(4, 250)), float(rng.uniform(4, 250))
            dets.append(([round(float(rng.uniform(0, width - 1)), 2), round(float(rng.uniform(0, height - 1)), 2), round(w, 2), round(h, 2)],
                         int(rng.integers(1, args.classes + 1))))
        for box, category in dets[: args.dets]:
            score = round(float(rng.beta(2, 5)), 3)  # 3 decimals: many tied scores
            results.append({"image_id": image_id, "category_id": category, "bbox": box, "score": score})
    categories = [{"id": c, "name": f"class{c}", "supercategory": "thing"} for c in range(1, args.classes + 1)]
    (args.out / "gt.json").write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    (args.out / "dt.json").write_text(json.dumps(results))
    print(f"{args.out}: {len(images)} images, {len(annotations)} ground-truth boxes, {len(results)} detections")


if __name__ == "__main__":
    main()
