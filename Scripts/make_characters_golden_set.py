#!/usr/bin/env python3
"""Builds GoldenSets/characters: character detection on rendered captcha-like text, with exact
boxes, for the YOLOX character detector of PyPI's ddddocr (Models/ddddocr-det).

    python3 Scripts/make_characters_golden_set.py [--out GoldenSets/characters]   (numpy, pillow)

40 images of 240–480 × 120–240 pixels, each with 3–7 characters (Latin letters and digits
without look-alikes, and common Chinese characters) drawn left to right with Pillow's FreeType
renderer in fonts from Debian packages (DejaVu Sans, WenQuanYi Micro Hei), in dark random
colours at 26–64 px, on light backgrounds with soft noise and, on half of them, a few thin
random lines. Each character is rendered on its own layer first: its box is the bounding
rectangle of its inked pixels (alpha > 0), so boxes are exact by construction (JPEG, quality
92, softens the edges by a pixel at most). Characters never overlap. Everything random comes
from one seeded generator.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent))
from package_sources import Workdir, debian_file, sha256_file  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261130
IMAGES = 40
LATIN = "ABCDEFGHJKLMNPQRSTUVWXYZabdefghkmnpqrty23456789"
CJK = "你好世界中国天地人山水火木金土日月明星云雨风花草书学生"
FONTS = {
    "latin": ("fonts-dejavu-core", "2.37-6", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
              "abdc775b21b1bc470d50c97e790d276f2054b7504e56e5bd3e64f48d68582322"),
    "latin-bold": ("fonts-dejavu-core", "2.37-6", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
                   "0d977336a6d5fba34eab8e3199eb218327161b5143749f802982c2bc34df0c96"),
    "cjk": ("fonts-wqy-microhei", "0.2.0-beta-3.1", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
            "2420e8078af796b19a3f6ef13de527a1a91c1e7171eea115926c614ced1009b3"),
}


def background(rng: np.random.Generator, width: int, height: int, lines: bool) -> Image.Image:
    base = rng.integers(200, 256, size=3)
    noise = rng.normal(0, 6, size=(height, width, 3))
    ramp = np.linspace(-10, 10, width)[None, :, None] * rng.choice([-1, 1])
    pixels = np.clip(base[None, None, :] + noise + ramp, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    if lines:
        draw = ImageDraw.Draw(image)
        for _ in range(int(rng.integers(2, 5))):
            points = [(int(rng.integers(0, width)), int(rng.integers(0, height))) for _ in range(2)]
            colour = tuple(int(v) for v in rng.integers(90, 200, size=3))
            draw.line(points, fill=colour, width=1)
    return image


def glyph(char: str, font: ImageFont.FreeTypeFont, colour: tuple[int, int, int]) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The character on its own transparent layer, and its inked box within the layer."""
    left, top, right, bottom = font.getbbox(char)
    layer = Image.new("RGBA", (right + 4, bottom + 4), (0, 0, 0, 0))
    ImageDraw.Draw(layer).text((2, 2), char, font=font, fill=colour + (255,))
    alpha = np.array(layer)[..., 3]
    rows, cols = np.nonzero(alpha)
    return layer, (int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "GoldenSets" / "characters")
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    with Workdir() as work:
        fonts = {name: str(debian_file(package, version, path, digest, work))
                 for name, (package, version, path, digest) in FONTS.items()}
        images = args.out / "images"
        if images.exists():
            shutil.rmtree(images)
        images.mkdir(parents=True)
        samples = []
        for n in range(IMAGES):
            width, height = int(rng.choice([240, 320, 400, 480])), int(rng.choice([120, 160, 200, 240]))
            script = ["latin", "cjk", "mixed"][n % 3]
            lines = n % 2 == 1
            image = background(rng, width, height, lines)
            objects = []
            x = int(rng.integers(4, 20))
            for _ in range(int(rng.integers(3, 8))):
                use_cjk = script == "cjk" or (script == "mixed" and rng.random() < 0.5)
                char = str(rng.choice(list(CJK if use_cjk else LATIN)))
                font_name = "cjk" if use_cjk else ("latin-bold" if rng.random() < 0.5 else "latin")
                font = ImageFont.truetype(fonts[font_name], int(rng.integers(26, 65)))
                colour = tuple(int(v) for v in rng.integers(0, 110, size=3))
                layer, (l, t, r, b) = glyph(char, font, colour)
                w, h = r - l, b - t
                if x + w + 4 > width or h + 8 > height:
                    break
                y = int(rng.integers(4, height - h - 4))
                image.paste(layer, (x - l, y - t), layer)
                objects.append({"class": "character", "box": [x, y, w, h],
                                "tags": {"script": "cjk" if use_cjk else "latin", "char": char}})
                x += w + int(rng.integers(6, 24))
            sample_id = f"text-{n:02d}"
            path = f"images/{sample_id}.jpg"
            image.save(args.out / path, quality=92)
            samples.append({"id": sample_id, "path": path, "sha256": sha256_file(args.out / path), "width": width,
                            "height": height, "objects": objects,
                            "tags": {"script": script, "lines": "yes" if lines else "no"}})
    manifest = {
        "format": "vigil-golden-set/1", "name": "characters", "version": "1.0.0", "task": "detection",
        "description": "Rendered captcha-like text, one box per character (inked pixels), for ddddocr's "
                       "YOLOX character detector; see PROVENANCE.md",
        "classes": ["character"], "samples": samples,
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}: {len(samples)} images, {sum(len(s['objects']) for s in samples)} characters")


if __name__ == "__main__":
    main()
