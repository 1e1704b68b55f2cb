#!/usr/bin/env python3
"""Writes the detection references Vigil's Swift tests compare against
(Tests/VigilTests/Fixtures/detection/).

  cascades.json   OpenCV's own cascade detections, through its Python binding, for both bundled
                  cascades on four faces golden-set images: grey conversion, equalizeHist,
                  detectMultiScale2(scaleFactor 1.1, minNeighbors 1, minSize 24) boxes and
                  their neighbour counts, which Vigil's cascade backend must reproduce exactly.

Usage: /usr/bin/python3 Scripts/make_detection_fixtures.py
       (Debian's python3-opencv, OpenCV 4.6: the same library Vigil links.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "VigilTests" / "Fixtures" / "detection"
IMAGES = ["solvay-1927", "composite-07", "composite-23", "composite-41"]
CASCADES = {
    "haar-frontalface": "Models/haar-frontalface/haarcascade_frontalface_default.xml",
    "lbp-frontalface": "Models/lbp-frontalface/lbpcascade_frontalface.xml",
}


def cascades() -> dict:
    manifest = json.loads((ROOT / "GoldenSets/faces/manifest.json").read_text())
    samples = {s["id"]: s for s in manifest["samples"]}
    out = {"opencv": cv2.__version__, "scale_factor": 1.1, "min_neighbors": 1, "min_size": 24, "models": {}}
    for name, path in CASCADES.items():
        classifier = cv2.CascadeClassifier(str(ROOT / path))
        entries = []
        for sample_id in IMAGES:
            image = cv2.imread(str(ROOT / "GoldenSets/faces" / samples[sample_id]["path"]), cv2.IMREAD_UNCHANGED)
            grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
            boxes, neighbours = classifier.detectMultiScale2(cv2.equalizeHist(grey), scaleFactor=1.1, minNeighbors=1,
                                                             minSize=(24, 24))
            entries.append({"sample": sample_id,
                            "boxes": [[int(v) for v in box] for box in boxes],
                            "neighbours": [int(n) for n in neighbours]})
        out["models"][name] = entries
    return out


def main() -> None:
    if not cv2.__version__.startswith("4.6."):
        sys.exit(f"run with Debian's python3-opencv (OpenCV 4.6); this cv2 is {cv2.__version__}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "cascades.json").write_text(json.dumps(cascades(), indent=1) + "\n")
    print(f"wrote {OUT / 'cascades.json'}")


if __name__ == "__main__":
    main()
