#!/usr/bin/env python3
"""`vigil score segmentation` and `vigil score ocr` against the references they are checked
against, at data-set scale.

Usage: python3 Benchmarks/segmentation_ocr.py [--images 60] [--lines 100000] [--repeat 3]
                                              [--vigil .build/release/vigil]

Segmentation: camera-size masks (2048 × 1024, Cityscapes' size, 19 classes, 2% ignored pixels,
10% of predicted pixels wrong), written once as 8-bit PNGs under .build-bench/segmentation-N/.
The reference is mmsegmentation's IoUMetric arithmetic in vectorised numpy with Pillow decoding
(mmsegmentation itself needs torch, which cannot be installed here): per image, np.bincount of
intersections, predictions and truth over the pixels whose truth is not 255, summed; IoU,
nan-means. Both run in fresh processes, point estimates only (`--bootstrap 0`).

OCR: N text lines with seeded misreadings (Scripts/reference_ocr.py's generator), scored by
jiwer 4.0 (`jiwer.cer` and `jiwer.wer` on the lists) and by `vigil score ocr`.

Prints best-of-`--repeat` wall times, the ratios (reference ÷ Vigil) and the numbers both sides
computed. Run it with a Python that has numpy, Pillow and jiwer (`.build-venv/bin/python`,
which `make test`'s setup makes, has all three).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def masks(folder: Path, images: int):
    """Seeded masks, written once (reused while the folder holds them all)."""
    if len(list((folder / "pred").glob("*.png"))) == images:
        return
    rng = np.random.default_rng(2026)
    for sub in ("gt", "pred"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for i in range(images):
        blocks = rng.integers(0, 19, size=(1024 // 64, 2048 // 64)).astype(np.uint8)
        truth = np.kron(blocks, np.ones((64, 64), np.uint8))
        truth[rng.random(truth.shape) < 0.02] = 255
        pred = truth.copy()
        wrong = rng.random(truth.shape) < 0.1
        pred[wrong] = rng.integers(0, 19, size=int(wrong.sum()))
        pred[pred == 255] = 0
        Image.fromarray(truth, "L").save(folder / "gt" / f"{i:04d}.png")
        Image.fromarray(pred, "L").save(folder / "pred" / f"{i:04d}.png")


def numpy_miou(folder: Path, classes: int = 19):
    intersect = np.zeros(classes, np.int64)
    predicted = np.zeros(classes, np.int64)
    truth = np.zeros(classes, np.int64)
    for path in sorted((folder / "gt").glob("*.png")):
        t = np.array(Image.open(path))
        p = np.array(Image.open(folder / "pred" / path.name))
        valid = t != 255
        t, p = t[valid].astype(np.int64), p[valid].astype(np.int64)
        intersect += np.bincount(t[t == p], minlength=classes)[:classes]
        predicted += np.bincount(p, minlength=classes)[:classes]
        truth += np.bincount(t, minlength=classes)[:classes]
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = intersect / (predicted + truth - intersect)
    return {"miou": float(np.nanmean(iou)), "pixel_accuracy": float(intersect.sum() / truth.sum())}


def best(repeat, run):
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = run()
        times.append(time.perf_counter() - start)
    return min(times), value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=60)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--vigil", default=str(ROOT / ".build/release/vigil"))
    args = parser.parse_args()
    vigil = args.vigil

    folder = ROOT / f".build-bench/segmentation-{args.images}"
    masks(folder, args.images)

    def vigil_segmentation():
        out = subprocess.run([vigil, "score", "segmentation", "--gt", str(folder / "gt"), "--predictions", str(folder / "pred"),
                              "--num-classes", "19", "--bootstrap", "0", "--json"], check=True, capture_output=True, text=True)
        return json.loads(out.stdout)

    v_time, v = best(args.repeat, vigil_segmentation)
    r_time, r = best(args.repeat, lambda: numpy_miou(folder))
    print(f"segmentation: {args.images} masks of 2048×1024, 19 classes")
    print(f"  vigil score segmentation  {v_time:7.2f} s   mIoU {v['miou']:.12f}  pixel accuracy {v['pixel_accuracy']:.12f}")
    print(f"  numpy + Pillow reference  {r_time:7.2f} s   mIoU {r['miou']:.12f}  pixel accuracy {r['pixel_accuracy']:.12f}")
    print(f"  ratio reference / vigil   {r_time / v_time:7.2f}×   |ΔmIoU| {abs(v['miou'] - r['miou']):.1e}")

    spec = importlib.util.spec_from_file_location("reference_ocr", ROOT / "Scripts/reference_ocr.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    import jiwer

    rng = random.Random(11)
    refs = [generator.line(rng) for _ in range(args.lines)]
    hyps = [generator.misread(rng, ref) for ref in refs]
    ocr = ROOT / f".build-bench/ocr-{args.lines}"
    ocr.mkdir(parents=True, exist_ok=True)
    for name, texts in (("labels.jsonl", refs), ("predictions.jsonl", hyps)):
        with open(ocr / name, "w", encoding="utf-8") as f:
            for i, text in enumerate(texts):
                f.write(json.dumps({"id": f"l{i}", "text": text}, ensure_ascii=False) + "\n")

    def vigil_ocr():
        out = subprocess.run([vigil, "score", "ocr", "--labels", str(ocr / "labels.jsonl"), "--predictions", str(ocr / "predictions.jsonl"),
                              "--bootstrap", "0", "--json"], check=True, capture_output=True, text=True)
        return json.loads(out.stdout)

    def jiwer_ocr():
        # Read the same files, as Vigil does.
        read = lambda name: [json.loads(line)["text"] for line in open(ocr / name, encoding="utf-8")]
        r, h = read("labels.jsonl"), read("predictions.jsonl")
        return {"cer": jiwer.cer(r, h), "wer": jiwer.wer(r, h)}

    v_time, v = best(args.repeat, vigil_ocr)
    r_time, r = best(args.repeat, jiwer_ocr)
    print(f"ocr: {args.lines} text lines")
    print(f"  vigil score ocr           {v_time:7.2f} s   CER {v['cer']:.12f}  WER {v['wer']:.12f}")
    print(f"  jiwer {importlib.metadata.version('jiwer'):<19} {r_time:7.2f} s   CER {r['cer']:.12f}  WER {r['wer']:.12f}")
    print(f"  ratio jiwer / vigil       {r_time / v_time:7.2f}×   |ΔCER| {abs(v['cer'] - r['cer']):.1e}  |ΔWER| {abs(v['wer'] - r['wer']):.1e}")


if __name__ == "__main__":
    import importlib.metadata
    sys.exit(main())
