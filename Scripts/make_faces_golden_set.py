#!/usr/bin/env python3
"""Builds GoldenSets/faces: a face-detection golden set from real images, with exact boxes.

Run with Debian's Python (`/usr/bin/python3`: numpy and python3-opencv, OpenCV 4.6):

    /usr/bin/python3 Scripts/make_faces_golden_set.py [--out GoldenSets/faces]

Two parts (see GoldenSets/faces/PROVENANCE.md for sources, licences and how the boxes were
made):

* `solvay-1927`: the 1927 Solvay conference photograph from Debian's visp-images-data, with
  the face boxes ViSP keeps for its face-detection test, less one box that is not a face
  (`detection_0`, on the balustrade); each of the 29 remaining boxes was checked by eye.
* 60 composites of 640×480: real photographs from Debian's opencv-doc as backgrounds (17
  photographs without faces, resized to cover 640×480 and centre-cropped), with 0–5 real face
  crops from scikit-image's `lfw_subset.npy` (Labeled Faces in the Wild, 25×25 grey) pasted at
  32–112 pixels, and 0–2 of its non-face crops as distractors. Boxes are where the crops were
  pasted, so they are exact by construction. A 2-pixel feathered edge blends each crop into
  the background (hard edges alone trigger cascade detections).

Everything random comes from one seeded generator, so the set is rebuilt byte for byte with
the same package versions.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from package_sources import Workdir, debian_file, sha256_file, wheel_member  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261129
COMPOSITES = 60
EMPTY = 6            # composites without faces: they measure false positives per image
SIZE = (640, 480)
FACE_SIDES = [32, 40, 48, 56, 64, 80, 96, 112]
# lfw_subset's non-faces that show parts of faces (an eye, a mouth) are not used as distractors.
NONFACES_WITH_FACE_PARTS = {125, 126, 130, 180}

OPENCV_DOC = ("opencv-doc", "4.6.0+dfsg-12")
BACKGROUNDS = {
    "aero1.jpg": "d9a69191f6e3642ea361bc3c62e677b2f40fe6534b78da540f4155e0734b59ef",
    "aero3.jpg": "1c407146f8762b3b14a7953ff9bc4c01ed64c467d7277122e769bf7e816017a4",
    "board.jpg": "4c9a24ba67138ad5486d550f586cc5dd1161be112f1c1bea336d6c550cdf255f",
    "building.jpg": "742a1baad62ac82e91e718e77eedf7e85c2eddc4badfb8c87c6cbc86c45a8b07",
    "butterfly.jpg": "34a99716b78ded10eae87b4880de739d3e68cc7dd1a96812bb28f469d5eeaea8",
    "fruits.jpg": "9c031d80a1c52da5eca790db896baffec6a7e52bf786cdb7bbfca5c7f880e6a1",
    "home.jpg": "23b8cf46a1965d0ec33459b875aed43187802834db49e0daa9fa2cc842e9d8d2",
    "leuvenA.jpg": "b2977cdbd9fb3f94dadd6f76cf586d145676deb8a22b5f0f42149d21c058c09f",
    "leuvenB.jpg": "5bb41a60038a2baa5d8ea0eaba55e6e3050d721b254cf79d8d8998d7e49d664a",
    "orange.jpg": "152c20d2f380ac985de25e474e1a5f06ed34b932191342099b8272a63a15a079",
    "stuff.jpg": "21cd00afbdd0727f445dd91c0a09633e6345ed5b05a3d2355453a1f3c314c6c5",
    "left.jpg": "fb314330c3eb0a81651c682803e73b348898157267fbc37c4c2c07d1b3a8e321",
    "right.jpg": "20972954be263a99194d1373d9a5cd8d2dc92acf69b55470b6951f3b3475017f",
    "squirrel_cls.jpg": "20bb6e8ae96918a36c9886b6d48e54eedeb3948591e1485c206bc1dc60c8dc8b",
    "ela_original.jpg": "b55798b35e2dcb24675f0865a2442d0e4887eeb6aff322ecb1968d936cc23e7f",
    "rubberwhale1.png": "eb312435369dac9efcc92f7e098edbd9ed8d7e6dfede8b3b4d8e3702cd80b796",
    "smarties.png": "ad3f751c053fdcf432687c1bc0e56a61a9119d2bb2ae29365f8aa6534fc77417",
}

SCIKIT_IMAGE = ("scikit-image", "0.26.0")
LFW_MEMBER = "skimage/data/lfw_subset.npy"
LFW_SHA256 = "9560ec2f5edfac01973f63a8a99d00053fecd11e21877e18038fbe500f8e872c"

VISP = ("visp-images-data", "3.5.0-1")
SOLVAY_PATH = "/usr/share/visp-images-data/ViSP-images/faces/1280px-Solvay_conference_1927.png"
SOLVAY_SHA256 = "4380268f5593c999d0396110344be831445e807e6d044bde9ea49ec58c11a9ef"
SOLVAY_BOXES_PATH = "/usr/share/visp-images-data/ViSP-images/faces/ground_truth_detection.txt"
SOLVAY_BOXES_SHA256 = "fab3d0a5b0f8077afdaf143a7771c33459ba6e468661ec4f9ff79a20f79775ad"
NOT_A_FACE = {"detection_0"}  # a box on the stone balustrade at the left, no face in it


def size_tag(side: float) -> str:
    return "small" if side < 48 else "medium" if side <= 80 else "large"


def solvay_boxes(path: Path) -> list[dict]:
    """ViSP's file: per box an id, then four corners as `i j` (row, column), read by ViSP's
    testFaceDetection.cpp with vpImagePoint::set_ij."""
    tokens = path.read_text().split()
    boxes = []
    for k in range(0, len(tokens), 9):
        name = tokens[k]
        corners = [(float(tokens[k + 1 + 2 * c]), float(tokens[k + 2 + 2 * c])) for c in range(4)]
        rows = [r for r, _ in corners]
        cols = [c for _, c in corners]
        if name in NOT_A_FACE:
            continue
        x, y, w, h = min(cols), min(rows), max(cols) - min(cols), max(rows) - min(rows)
        boxes.append({"class": "face", "box": [x, y, w, h], "tags": {"size": size_tag(w), "source_id": name}})
    boxes.sort(key=lambda o: (o["box"][1], o["box"][0]))
    return boxes


def cover(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scales to cover width×height (area interpolation when shrinking), then cuts the centre."""
    scale = max(width / image.shape[1], height / image.shape[0])
    w, h = max(width, round(image.shape[1] * scale)), max(height, round(image.shape[0] * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (w, h), interpolation=interpolation)
    x0, y0 = (w - width) // 2, (h - height) // 2
    return resized[y0:y0 + height, x0:x0 + width].copy()


def feathered_paste(canvas: np.ndarray, crop: np.ndarray, x: int, y: int) -> None:
    """Pastes a grey crop at (x, y), its outer 2 pixels blended linearly into the background."""
    side = crop.shape[0]
    ramp = np.minimum(np.arange(side), np.arange(side)[::-1]).astype(np.float64)
    weight = np.clip((np.minimum.outer(ramp, ramp) + 1) / 3.0, 0, 1)[..., None]
    region = canvas[y:y + side, x:x + side].astype(np.float64)
    blended = weight * crop[..., None].astype(np.float64) + (1 - weight) * region
    canvas[y:y + side, x:x + side] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def place(rng: np.random.Generator, sides: list[int], taken: list[tuple[int, int, int]]) -> list[tuple[int, int, int]] | None:
    """Non-overlapping square positions (with a margin of a quarter side) inside the image."""
    placed = []
    for side in sides:
        for _ in range(200):
            x = int(rng.integers(4, SIZE[0] - side - 4))
            y = int(rng.integers(4, SIZE[1] - side - 4))
            margin = side // 4
            if all(x + side + margin <= ox or ox + os_ + margin <= x or y + side + margin <= oy or oy + os_ + margin <= y
                   for ox, oy, os_ in taken + placed):
                placed.append((x, y, side))
                break
        else:
            return None
    return placed


def composites(out: Path, lfw: np.ndarray, photos: dict[str, np.ndarray], rng: np.random.Generator) -> list[dict]:
    faces = [np.clip(np.rint(lfw[i] * 255), 0, 255).astype(np.uint8) for i in range(100)]
    nonfaces = [np.clip(np.rint(lfw[i] * 255), 0, 255).astype(np.uint8) for i in range(100, 200)
                if i not in NONFACES_WITH_FACE_PARTS]
    face_order = list(rng.permutation(len(faces)))
    names = list(photos)
    samples = []
    for n in range(COMPOSITES):
        background_name = names[n % len(names)]
        canvas = cover(photos[background_name], *SIZE)
        count = 0 if n < EMPTY else int(rng.integers(1, 6))
        distractors = int(rng.integers(0, 3))
        face_sides = [int(rng.choice(FACE_SIDES)) for _ in range(count)]
        distractor_sides = [int(rng.choice(FACE_SIDES)) for _ in range(distractors)]
        spots = place(rng, face_sides + distractor_sides, [])
        if spots is None:
            sys.exit(f"composite {n}: could not place {count} faces and {distractors} distractors")
        objects = []
        for k, (x, y, side) in enumerate(spots):
            if k < count:
                if not face_order:
                    face_order = list(rng.permutation(len(faces)))
                crop = faces[face_order.pop()]
            else:
                crop = nonfaces[int(rng.integers(0, len(nonfaces)))]
            feathered_paste(canvas, cv2.resize(crop, (side, side), interpolation=cv2.INTER_LINEAR), x, y)
            if k < count:
                objects.append({"class": "face", "box": [x, y, side, side], "tags": {"size": size_tag(side)}})
        objects.sort(key=lambda o: (o["box"][1], o["box"][0]))
        sample_id = f"composite-{n:02d}"
        path = f"images/{sample_id}.jpg"
        ok, encoded = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 92])
        if not ok:
            sys.exit(f"cannot encode {path}")
        (out / path).write_bytes(encoded.tobytes())
        crowd = "none" if count == 0 else "single" if count == 1 else "group"
        samples.append({"id": sample_id, "path": path, "sha256": sha256_file(out / path), "width": SIZE[0],
                        "height": SIZE[1], "objects": objects,
                        "tags": {"source": "composite", "background": Path(background_name).stem,
                                 "faces": crowd, "distractors": str(distractors)}})
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "GoldenSets" / "faces")
    args = parser.parse_args()
    if not cv2.__version__.startswith("4.6."):
        sys.exit(f"run with Debian's python3-opencv (OpenCV 4.6); this cv2 is {cv2.__version__}")
    rng = np.random.default_rng(SEED)
    with Workdir() as work:
        lfw = np.load(io.BytesIO(wheel_member(*SCIKIT_IMAGE, LFW_MEMBER, LFW_SHA256, work)))
        if lfw.shape != (200, 25, 25):
            sys.exit(f"lfw_subset.npy has shape {lfw.shape}, expected (200, 25, 25)")
        photos = {}
        for name, digest in BACKGROUNDS.items():
            path = debian_file(*OPENCV_DOC, f"/usr/share/doc/opencv-doc/examples/data/{name}", digest, work)
            photos[name] = cv2.imread(str(path), cv2.IMREAD_COLOR)
        solvay = debian_file(*VISP, SOLVAY_PATH, SOLVAY_SHA256, work)
        solvay_truth = debian_file(*VISP, SOLVAY_BOXES_PATH, SOLVAY_BOXES_SHA256, work)

        images = args.out / "images"
        if images.exists():
            shutil.rmtree(images)
        images.mkdir(parents=True)
        shutil.copyfile(solvay, images / "solvay-1927.png")
        height, width = cv2.imread(str(images / "solvay-1927.png"), cv2.IMREAD_UNCHANGED).shape[:2]
        samples = [{"id": "solvay-1927", "path": "images/solvay-1927.png", "sha256": SOLVAY_SHA256,
                    "width": width, "height": height, "objects": solvay_boxes(solvay_truth),
                    "tags": {"source": "photograph", "background": "solvay", "faces": "group", "distractors": "0"}}]
        samples += composites(args.out, lfw, photos, rng)

    manifest = {
        "format": "vigil-golden-set/1",
        "name": "faces",
        "version": "1.0.0",
        "task": "detection",
        "description": "Face detection: the 1927 Solvay conference photograph (29 faces) and 60 composites of real "
                       "LFW face crops on real photographs, boxes exact by construction; see PROVENANCE.md",
        "classes": ["face"],
        "samples": samples,
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    objects = sum(len(s["objects"]) for s in samples)
    print(f"wrote {args.out}: {len(samples)} images, {objects} faces")


if __name__ == "__main__":
    main()
