"""Seeded segmentation masks and a numpy implementation of the metrics' definition.

    reference_segmentation.py OUT_DIR [--seed N] [--images N] [--classes N]

Writes OUT_DIR/gt/*.png and OUT_DIR/pred/*.png (8-bit greyscale class indices, 255 = ignore in
truth; some in a subfolder) and OUT_DIR/expected.json, computed as mmsegmentation's IoUMetric
and Cityscapes define them: per class the intersection, predicted and truth pixel counts summed
over all images (truth 255 left out); IoU and Dice per class (NaN where the class is in neither),
their nan-means, pixel accuracy = sum(intersection) / sum(truth), frequency-weighted IoU.
Some classes never appear, some only in predictions, images differ in size.
"""
import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--classes", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    out = Path(args.out)
    k = args.classes
    intersect = np.zeros(k, np.int64)
    area_pred = np.zeros(k, np.int64)
    area_label = np.zeros(k, np.int64)
    names = []
    for i in range(args.images):
        h, w = int(rng.integers(5, 40)), int(rng.integers(5, 40))
        # Truth from classes 0..k-3 (k-2 appears only in predictions, k-1 nowhere), with blobs.
        truth = rng.integers(0, k - 2, size=(h, w)).astype(np.uint8)
        truth[rng.random((h, w)) < 0.1] = 255
        pred = truth.copy()
        noise = rng.random((h, w)) < 0.3
        pred[noise] = rng.integers(0, k - 1, size=int(noise.sum()))
        pred[pred == 255] = rng.integers(0, k - 1)
        name = f"img-{i:02d}.png" if i % 4 else f"sub/img-{i:02d}.png"
        names.append(name)
        for folder, mask in (("gt", truth), ("pred", pred)):
            path = out / folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(mask, mode="L").save(path)
        valid = truth != 255
        t, p = truth[valid].astype(np.int64), pred[valid].astype(np.int64)
        intersect += np.bincount(t[t == p], minlength=k)[:k]
        area_pred += np.bincount(p, minlength=k)[:k]
        area_label += np.bincount(t, minlength=k)[:k]
    union = area_pred + area_label - intersect
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = intersect / union
        dice = 2 * intersect / (area_pred + area_label)
    freq = area_label / area_label.sum()
    expected = {
        "miou": float(np.nanmean(iou)),
        "mean_dice": float(np.nanmean(dice)),
        "pixel_accuracy": float(intersect.sum() / area_label.sum()),
        "fw_iou": float(np.nansum(freq * iou)),
        "n": args.images,
        "per_class": [{"class": c, "iou": None if np.isnan(iou[c]) else float(iou[c]),
                       "dice": None if np.isnan(dice[c]) else float(dice[c]), "support": int(area_label[c])} for c in range(k)],
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=1))


if __name__ == "__main__":
    main()
