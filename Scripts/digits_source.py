"""The source of Vigil's bundled digits: OpenCV's digits.png from Debian's opencv-doc package.

digits.png is 2000x1000 px: 50 rows x 100 columns of 20x20 handwritten digits, 500 per
class, class = row // 5. Vigil splits the 5000 cells once, deterministically:

* the golden set: for each class, the 100 cells whose key
  sha256("vigil-digits-v1:{row}:{col}") sorts first (1000 images, 100 per class);
* training: the other 4000 cells, used only to train the demo candidate model.

Both the golden-set script and the model script import this module, so the two can never
disagree about which cells are held out.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

PACKAGE = "opencv-doc"
PACKAGE_VERSION = "4.6.0+dfsg-12"
INSTALLED_PATH = Path("/usr/share/doc/opencv-doc/examples/data/digits.png")
DIGITS_SHA256 = "60c917758ef97cc090f35cd8e293e4de691ef942847da0ff80dedab33d57c662"
GOLDEN_PER_CLASS = 100
ROWS, COLS, CELL = 50, 100, 20


def locate_digits_png(workdir: Path) -> Path:
    """Returns digits.png from the installed package, or unpacks it from a downloaded .deb.

    `apt-get download` + `dpkg -x` avoids installing opencv-doc's 270 MB.
    """
    if INSTALLED_PATH.exists():
        return INSTALLED_PATH
    subprocess.run(["apt-get", "download", PACKAGE], cwd=workdir, check=True)
    debs = sorted(workdir.glob(f"{PACKAGE}_*.deb"))
    if not debs:
        raise SystemExit(f"apt-get download {PACKAGE} produced no .deb in {workdir}")
    subprocess.run(["dpkg", "-x", str(debs[-1]), str(workdir / "root")], check=True)
    path = workdir / "root" / INSTALLED_PATH.relative_to("/")
    if not path.exists():
        raise SystemExit(f"{debs[-1].name} does not contain {INSTALLED_PATH}")
    return path


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_cells(path: Path) -> np.ndarray:
    """Returns the 5000 cells as uint8 array [row, col, 20, 20]."""
    digest = sha256_file(path)
    if digest != DIGITS_SHA256:
        raise SystemExit(f"{path}: sha256 {digest} is not the digits.png of {PACKAGE} {PACKAGE_VERSION}")
    image = np.array(Image.open(path))
    if image.shape != (ROWS * CELL, COLS * CELL) or image.dtype != np.uint8:
        raise SystemExit(f"{path}: expected a 1000x2000 8-bit grey image, got {image.shape} {image.dtype}")
    return image.reshape(ROWS, CELL, COLS, CELL).transpose(0, 2, 1, 3)


def label_of(row: int) -> int:
    return row // 5


def split_key(row: int, col: int) -> str:
    return hashlib.sha256(f"vigil-digits-v1:{row}:{col}".encode()).hexdigest()


def golden_cells() -> set[tuple[int, int]]:
    """The (row, col) cells held out for the golden set: 100 per class."""
    chosen: set[tuple[int, int]] = set()
    for digit in range(10):
        cells = [(r, c) for r in range(digit * 5, digit * 5 + 5) for c in range(COLS)]
        cells.sort(key=lambda rc: split_key(*rc))
        chosen.update(cells[:GOLDEN_PER_CLASS])
    return chosen


def training_set(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All cells not in the golden set, as (images [N, 20, 20] uint8, labels [N])."""
    held_out = golden_cells()
    keep = [(r, c) for r in range(ROWS) for c in range(COLS) if (r, c) not in held_out]
    images = np.stack([cells[r, c] for r, c in keep])
    labels = np.array([label_of(r) for r, _ in keep])
    return images, labels


class DigitsSource:
    """Context manager yielding the path of digits.png (downloading it when needed)."""

    def __enter__(self) -> Path:
        self._tmp = tempfile.TemporaryDirectory(prefix="vigil-digits-")
        os.chmod(self._tmp.name, 0o755)  # apt's _apt user must be able to write here
        return locate_digits_png(Path(self._tmp.name))

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self._tmp.name, ignore_errors=True)
