#!/usr/bin/env python3
"""`vigil score detection` against pycocotools, faster-coco-eval and hotcoco on the same COCO-like data.

Usage: python3 Benchmarks/detection.py [--images 5000] [--vigil .build/release/vigil] [--skip-pycocotools] [--repeat 3]

Generates data with Benchmarks/coco_data.py (80 classes, ~7 ground-truth boxes and 100
detections per image), runs each tool on it in a fresh process (loading both JSON files,
evaluating, summarizing; hotcoco's and faster-coco-eval's times include starting Python and
importing them, Vigil's its own process start), checks that the 12 summary numbers agree, and
prints the best wall time of --repeat runs and the ratios. Then runs Vigil on 1/4, 1/2 and all of the images and prints its peak memory per
detection, to show that memory grows linearly with the number of detections.
Times are wall-clock on a shared machine: repeat runs differ by some percent.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEYS = ["map", "map50", "map75", "map_small", "map_medium", "map_large", "ar1", "ar10", "ar100", "ar_small", "ar_medium", "ar_large"]

PEER = """
import contextlib, io, json, sys, time
start = time.time()
if sys.argv[1] == "pycocotools":
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
elif sys.argv[1] == "hotcoco":
    from hotcoco import COCO, COCOeval
else:
    from faster_coco_eval import COCO, COCOeval_faster as COCOeval
with contextlib.redirect_stdout(io.StringIO()):
    gt = COCO(sys.argv[2]); dt = gt.loadRes(sys.argv[3])
    e = COCOeval(gt, dt, "bbox"); e.evaluate(); e.accumulate(); e.summarize()
print(json.dumps([float(s) for s in e.stats]))
"""


def generate(folder: Path, images: int) -> int:
    """Writes the data with coco_data.py in a child process (so this process stays small: a
    forked child's peak memory counts the parent's pages) and returns the detection count."""
    out = subprocess.run([sys.executable, str(ROOT / "Benchmarks/coco_data.py"), str(folder), "--images", str(images)],
                         check=True, capture_output=True, text=True).stdout
    return int(out.split(" detections")[0].rsplit(" ", 1)[-1])


def peak_memory(command: list[str]) -> tuple[float, str, int]:
    """Runs a command; returns (wall seconds, stdout, peak resident memory in KiB)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = process.stdout.read()
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        sys.exit(f"{command[0]} failed: {err.decode().strip()}")
    return elapsed, out.decode(), usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--vigil", default=str(ROOT / ".build/release/vigil"))
    parser.add_argument("--skip-pycocotools", action="store_true", help="it takes minutes")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; the best is shown (pycocotools runs once)")
    args = parser.parse_args()
    if not Path(args.vigil).exists():
        sys.exit(f"{args.vigil} not found: run `make build` first")

    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        data = Path(tmp)
        detections = generate(data, args.images)
        gt, dt = str(data / "gt.json"), str(data / "dt.json")

        results = {}
        # Best of --repeat runs per tool, the tools taking turns so that a noisy moment on the
        # shared machine does not fall on one tool only.
        commands = {"vigil": [args.vigil, "score", "detection", "--gt", gt, "--predictions", dt, "--bootstrap", "0", "--json"]}
        for peer in ["hotcoco", "faster-coco-eval"] + ([] if args.skip_pycocotools else ["pycocotools"]):
            commands[peer] = [sys.executable, "-c", PEER, peer, gt, dt]
        for round in range(args.repeat):
            for tool, command in commands.items():
                if tool == "pycocotools" and round > 0:
                    continue  # minutes per run; once is enough to show the order of magnitude
                seconds, out, _ = peak_memory(command)
                stats = [json.loads(out)[k] for k in KEYS] if tool == "vigil" else json.loads(out)
                if tool not in results or seconds < results[tool][0]:
                    results[tool] = (seconds, stats)
        print(f"\n{args.images} images, {detections} detections, 80 categories")
        print(f"best of {args.repeat} runs per tool (pycocotools: 1)")
        print(f"{'tool':<18}{'wall s':>9}{'vs Vigil':>10}   max |stat − Vigil's|")
        for tool, (seconds, stats) in results.items():
            difference = max(abs(a - b) for a, b in zip(stats, results["vigil"][1]))
            ratio = seconds / results["vigil"][0]
            print(f"{tool:<18}{seconds:>9.2f}{ratio:>9.1f}×   {difference:.1e}")
        print("(ratio > 1: the tool takes that many times as long as Vigil)")

        print("\nVigil's peak memory as the number of detections grows:")
        points = []
        for fraction in (4, 2, 1):
            part = data / f"part{fraction}"
            count = generate(part, args.images // fraction)
            _, _, memory = peak_memory([args.vigil, "score", "detection", "--gt", str(part / "gt.json"),
                                        "--predictions", str(part / "dt.json"), "--bootstrap", "0", "--json"])
            points.append((count, memory * 1024))
            print(f"  {count:>8} detections: {memory / 1024:7.0f} MiB peak")
        (n0, m0), (n1, m1), (n2, m2) = points
        print(f"  growth: {(m1 - m0) / (n1 - n0):.0f} then {(m2 - m1) / (n2 - n1):.0f} bytes per added detection "
              f"(linear: the two should be close)")


if __name__ == "__main__":
    main()
