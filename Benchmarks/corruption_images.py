#!/usr/bin/env python3
"""Builds the image set of Benchmarks/corruptions.py: crops of real photographs, as PNG.

Usage: .build-bench/venv/bin/python Benchmarks/corruption_images.py [--small 200] [--large 10]
           [--out FOLDER]

The photographs are OpenCV's sample pictures from Debian's opencv-doc package, fetched the way
Scripts/digits_source.py fetches digits.png (`apt-get download` + `dpkg -x`, nothing installed).
Writes `--small` colour crops of 224x224 (square crops of a side drawn between 224 px and the
photo's shorter side, at a drawn position, downscaled with INTER_AREA) and `--large` crops of
640x480 (4:3 crops of at least 640x480 from the photos that are that large), all from one
seeded generator, so the set is the same on every run with the same package and OpenCV.
The PNGs go to OUT/images/ (small_000.png …, large_00.png …); OUT/manifest.json records each
crop and the sha256 of every source photo. An existing OUT whose manifest matches is reused
(the cache in .build-bench/); the photos themselves are kept in OUT/../opencv-doc-photos/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "Scripts"))
import digits_source  # noqa: E402  (locates or downloads opencv-doc's examples/data folder)

FORMAT = "vigil-corruption-images/1"
SEED = 20240611
# Real colour photographs among opencv-doc 4.6.0's examples/data (synthetic drawings, logos,
# grey pictures and the painting left out), with their sha256 in that package.
PHOTOS = {
    "fruits.jpg": "9c031d80a1c52da5eca790db896baffec6a7e52bf786cdb7bbfca5c7f880e6a1",
    "baboon.jpg": "1a1dd18d78eec44420af3b0b7f08ee3d41c982916cae3ce203d7ff35d754cc0f",
    "building.jpg": "742a1baad62ac82e91e718e77eedf7e85c2eddc4badfb8c87c6cbc86c45a8b07",
    "home.jpg": "23b8cf46a1965d0ec33459b875aed43187802834db49e0daa9fa2cc842e9d8d2",
    "butterfly.jpg": "34a99716b78ded10eae87b4880de739d3e68cc7dd1a96812bb28f469d5eeaea8",
    "messi5.jpg": "1d570e49654e84c7a943918537bd9e5e1ef82920152e147c834006e235be97c9",
    "orange.jpg": "152c20d2f380ac985de25e474e1a5f06ed34b932191342099b8272a63a15a079",
    "apple.jpg": "e86879de3d9a807dedc742a8f464f39e6b74bbb531a1fba3583155d94997d1cd",
    "squirrel_cls.jpg": "20bb6e8ae96918a36c9886b6d48e54eedeb3948591e1485c206bc1dc60c8dc8b",
    "aloeL.jpg": "cce5736808efe80d9f04b118dbb978c344d4345672b332718c3e039a3eeb8eee",
    "leuvenA.jpg": "b2977cdbd9fb3f94dadd6f76cf586d145676deb8a22b5f0f42149d21c058c09f",
    "graf1.png": "1504b769303c7bde00fa578eeaad3c68e02aceabeb1242e556f1f8d19e4bdea5",
    "rubberwhale1.png": "eb312435369dac9efcc92f7e098edbd9ed8d7e6dfede8b3b4d8e3702cd80b796",
    "smarties.png": "ad3f751c053fdcf432687c1bc0e56a61a9119d2bb2ae29365f8aa6534fc77417",
    "board.jpg": "4c9a24ba67138ad5486d550f586cc5dd1161be112f1c1bea336d6c550cdf255f",
    "left.jpg": "fb314330c3eb0a81651c682803e73b348898157267fbc37c4c2c07d1b3a8e321",
    "aero1.jpg": "d9a69191f6e3642ea361bc3c62e677b2f40fe6534b78da540f4155e0734b59ef",
    "aero3.jpg": "1c407146f8762b3b14a7953ff9bc4c01ed64c467d7277122e769bf7e816017a4",
    "ela_original.jpg": "b55798b35e2dcb24675f0865a2442d0e4887eeb6aff322ecb1968d936cc23e7f",
    "stuff.jpg": "21cd00afbdd0727f445dd91c0a09633e6345ed5b05a3d2355453a1f3c314c6c5",
    "chicky_512.png": "4d2cf040de084fd3f34d5e3f96f1251faaa4787c1ac3b548fec5809a0d01854e",
}
SMALL = (224, 224)  # width, height
LARGE = (640, 480)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_photos(data: Path) -> dict[str, np.ndarray]:
    """The photos as BGR uint8 arrays; warns when one is not the packaged version."""
    photos = {}
    for name, digest in PHOTOS.items():
        path = data / name
        if not path.exists():
            raise SystemExit(f"{path} is missing: is this opencv-doc {digits_source.PACKAGE_VERSION}?")
        actual = sha256(path)
        if actual != digest:
            print(f"warning: {name} differs from opencv-doc {digits_source.PACKAGE_VERSION}'s "
                  f"(sha256 {actual[:12]}…): the image set is not the reference one", file=sys.stderr)
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise SystemExit(f"cannot decode {path}")
        photos[name] = image
    return photos


def plan(sizes: dict[str, tuple[int, int]], small: int, large: int) -> list[dict]:
    """Deterministic crops: [{file, source, x, y, width, height, size}] from `sizes` (w, h)."""
    rng = np.random.default_rng(SEED)
    names = list(PHOTOS)
    big = [n for n in names if sizes[n][0] >= LARGE[0] and sizes[n][1] >= LARGE[1]]
    crops = []
    for i in range(small):
        name = names[i % len(names)]
        w, h = sizes[name]
        side = int(rng.integers(SMALL[0], min(w, h) + 1))
        x, y = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
        crops.append({"file": f"small_{i:03d}.png", "source": name, "x": x, "y": y, "width": side,
                      "height": side, "size": list(SMALL)})
    for i in range(large):
        name = big[i % len(big)]
        w, h = sizes[name]
        width = int(rng.integers(LARGE[0], min(w, h * 4 // 3) + 1))
        height = width * 3 // 4
        x, y = int(rng.integers(0, w - width + 1)), int(rng.integers(0, h - height + 1))
        crops.append({"file": f"large_{i:02d}.png", "source": name, "x": x, "y": y, "width": width,
                      "height": height, "size": list(LARGE)})
    return crops


def build(out: Path, small: int = 200, large: int = 10, quiet: bool = False) -> list[Path]:
    """Writes (or reuses) the image set in `out`/images; returns the PNG paths, small ones first."""
    manifest_path = out / "manifest.json"
    images = out / "images"
    expected = {"format": FORMAT, "seed": SEED, "small": small, "large": large,
                "package": f"{digits_source.PACKAGE} {digits_source.PACKAGE_VERSION}",
                "opencv": cv2.__version__}
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        files = [images / crop["file"] for crop in manifest.get("crops", [])]
        if {k: manifest.get(k) for k in expected} == expected and all(f.exists() for f in files):
            return files

    cache = out.parent / "opencv-doc-photos"
    if not all((cache / name).exists() for name in PHOTOS):
        with tempfile.TemporaryDirectory(prefix="vigil-photos-") as tmp:
            os.chmod(tmp, 0o755)  # apt's _apt user must be able to write here
            data = digits_source.locate_digits_png(Path(tmp)).parent
            cache.mkdir(parents=True, exist_ok=True)
            for name in PHOTOS:
                if (data / name).exists():
                    shutil.copyfile(data / name, cache / name)
    photos = read_photos(cache)
    sources = {name: sha256(cache / name) for name in PHOTOS}
    crops = plan({n: (im.shape[1], im.shape[0]) for n, im in photos.items()}, small, large)

    if out.exists():
        shutil.rmtree(out)
    images.mkdir(parents=True)
    for crop in crops:
        region = photos[crop["source"]][crop["y"]:crop["y"] + crop["height"], crop["x"]:crop["x"] + crop["width"]]
        image = cv2.resize(region, tuple(crop["size"]), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(images / crop["file"]), image, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    manifest_path.write_text(json.dumps({**expected, "sources": sources, "crops": crops}, indent=1) + "\n")
    if not quiet:
        print(f"wrote {small} images of {SMALL[0]}x{SMALL[1]} and {large} of {LARGE[0]}x{LARGE[1]} to {images}")
    return [images / crop["file"] for crop in crops]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=200, help="224x224 crops")
    parser.add_argument("--large", type=int, default=10, help="640x480 crops")
    parser.add_argument("--out", type=Path, default=None,
                        help="default: .build-bench/corruption-images-<small>-<large>")
    args = parser.parse_args()
    out = args.out or ROOT / ".build-bench" / f"corruption-images-{args.small}-{args.large}"
    files = build(out, args.small, args.large)
    print(f"{len(files)} images in {files[0].parent}")


if __name__ == "__main__":
    main()
