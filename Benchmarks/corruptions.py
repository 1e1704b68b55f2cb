#!/usr/bin/env python3
"""`vigil corrupt` against imagecorruptions 1.1.2 (the ImageNet-C reference) on crops of real photos.

Usage: .build-bench/venv/bin/python Benchmarks/corruptions.py [--quick] [--small 200] [--large 10]
           [--reference-sample 20] [--corruptions NAME,…] [--severities 1,2,3,4,5] [--seed 0]
           [--vigil .build/release/vigil] [--skip-vigil] [--json .build-bench/corruptions-results.json]

Runs with the pinned environment of Benchmarks/requirements-corruptions.txt (`make bench` creates
it in .build-bench/venv): imagecorruptions 1.1.2 needs scikit-image < 0.20, numpy < 2 and
pkg_resources. The image set (Benchmarks/corruption_images.py: 200 crops of 224x224 and 10 of
640x480 from opencv-doc's photographs; --quick: 20 + 2) is built once and cached in .build-bench/.

For each of the 19 corruptions and each severity:
* the reference: `imagecorruptions.corrupt(rgb, severity, corruption_name)` in this process, one
  thread, np.random.seed(--seed) first, over the images decoded beforehand (decoding not timed).
  glass_blur takes seconds per image there, so it is timed on --reference-sample images (in the
  proportions of the set's two sizes) and its time per image is extrapolated to the whole set;
  the table marks it;
* Vigil: one `vigil corrupt FOLDER --scenario NAME --severity S --seed N -o OUT --json` process
  over the whole folder (all cores): its wall time measured here around the process (start,
  PNG decode and encode included) and the transform_seconds it reports (time inside the
  corruption, summed over its workers, so comparable with the one-thread reference).
Prints per corruption (the five severities summed) seconds per image and the ratios, then the
total over all corruptions, next to the issue's targets (overall ≥ 10×, glass_blur ≥ 50×).
Fidelity: for the deterministic corruptions, the mean absolute difference between Vigil's PNG and
the reference's output for the same input (RGB, grey levels, all pixels and channels; target
≤ 2), the largest difference and the share of pixels where some channel differs by more than 2.
The random ones cannot match pixel for pixel: for them the mean absolute change from the clean
image, Vigil's next to the reference's, shows whether the strength is comparable.
Everything also goes to the --json file. Times are wall-clock on a shared machine.
"""

from __future__ import annotations

import os

# The reference runs single-threaded: pin the numerical libraries before numpy is imported.
# Vigil gets the environment as it was.
VIGIL_ENV = dict(os.environ)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
try:
    import cv2
    import numpy as np
except ImportError as _error:
    sys.exit(f"{_error}: run this with .build-bench/venv/bin/python "
             f"(`make bench` creates it from Benchmarks/requirements-corruptions.txt)")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import corruption_images  # noqa: E402

CORRUPTIONS = ["gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur", "motion_blur",
               "zoom_blur", "snow", "frost", "fog", "brightness", "contrast", "elastic_transform", "pixelate",
               "jpeg_compression", "speckle_noise", "gaussian_blur", "spatter", "saturate"]
DETERMINISTIC = {"brightness", "contrast", "jpeg_compression", "pixelate", "defocus_blur", "zoom_blur",
                 "gaussian_blur", "saturate"}
SLOW = {"glass_blur"}  # timed on --reference-sample images
TARGET_OVERALL, TARGET_GLASS, TARGET_MAD = 10.0, 50.0, 2.0


def load_rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)  # BGR
    if image is None:
        sys.exit(f"cannot read {path}")
    return np.ascontiguousarray(image[..., ::-1])


def sample(shapes: list[tuple[int, ...]], k: int) -> list[int]:
    """Indices of k images (0: all) keeping the set's mix of sizes, at least one of each size."""
    if k <= 0 or k >= len(shapes):
        return list(range(len(shapes)))
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, shape in enumerate(shapes):
        groups.setdefault(shape, []).append(i)
    chosen = []
    for members in groups.values():
        chosen += members[:min(len(members), max(1, round(k * len(members) / len(shapes))))]
    return sorted(chosen)


def describe_sample(shapes: list[tuple[int, ...]], indices: list[int]) -> str:
    parts = []
    for shape in dict.fromkeys(shapes):
        total = sum(1 for s in shapes if s == shape)
        timed = sum(1 for i in indices if shapes[i] == shape)
        parts.append(f"{timed} of {total} {shape[1]}×{shape[0]}")
    return " and ".join(parts)


class Difference:
    """Accumulates |a − b| over images: mean over all values, max, pixels with a channel off by > 2."""

    def __init__(self) -> None:
        self.total = 0
        self.values = 0
        self.largest = 0
        self.pixels_over = 0
        self.pixels = 0

    def add(self, a: np.ndarray, b: np.ndarray) -> None:
        if a.shape != b.shape:
            sys.exit(f"shapes differ: {a.shape} vs {b.shape}")
        d = np.abs(a.astype(np.int16) - b.astype(np.int16))
        self.total += int(d.sum(dtype=np.int64))
        self.values += d.size
        self.largest = max(self.largest, int(d.max()))
        self.pixels_over += int((d.max(axis=2) > 2).sum())
        self.pixels += d.shape[0] * d.shape[1]

    def mean(self) -> float:
        return self.total / self.values

    def as_json(self) -> dict:
        return {"mean_abs": self.mean(), "max_abs": self.largest, "share_pixels_over_2": self.pixels_over / self.pixels}


def run_reference(corrupt, name: str, severity: int, images: list[np.ndarray], indices: list[int],
                  seed: int) -> tuple[dict[int, float], dict[int, np.ndarray]]:
    """Seconds spent in corrupt() on each of images[indices], and the outputs."""
    np.random.seed(seed)
    seconds = {}
    outputs = {}
    for i in indices:
        start = time.perf_counter()
        outputs[i] = corrupt(images[i], severity=severity, corruption_name=name)
        seconds[i] = time.perf_counter() - start
    return seconds, outputs


def extrapolate(seconds: dict[int, float], shapes: list[tuple[int, ...]]) -> float:
    """Time for the whole set: per size, the mean time of the timed images times the number of images."""
    total = 0.0
    for shape in dict.fromkeys(shapes):
        timed = [t for i, t in seconds.items() if shapes[i] == shape]
        total += sum(timed) / len(timed) * sum(1 for s in shapes if s == shape)
    return total


def run_vigil(vigil: str, name: str, severity: int, seed: int, folder: Path, out: Path) -> tuple[float, dict]:
    out.mkdir(parents=True, exist_ok=True)
    command = [vigil, "corrupt", str(folder), "--scenario", name, "--severity", str(severity), "--seed", str(seed),
               "-o", str(out), "--json"]
    start = time.perf_counter()
    process = subprocess.run(command, capture_output=True, text=True, env=VIGIL_ENV)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        sys.exit(f"`{' '.join(command)}` failed (exit {process.returncode}): {process.stderr.strip()}")
    try:
        report = json.loads(process.stdout)
    except json.JSONDecodeError:
        sys.exit(f"`{' '.join(command)}` printed no JSON object: {process.stdout[:300]!r}")
    return wall, report


def check_vigil(vigil: str) -> str:
    """Vigil's version; exits when the binary is missing or has no folder `corrupt … --json`."""
    if not Path(vigil).exists():
        sys.exit(f"{vigil} not found: run `make build` first (or pass --skip-vigil for the reference alone)")
    usage = subprocess.run([vigil, "corrupt", "--help"], capture_output=True, text=True).stdout
    if "--json" not in usage:
        sys.exit(f"{vigil} has no `corrupt … --json` (folder input, timing report): rebuild it with `make build`, "
                 f"or pass --skip-vigil for the reference alone")
    version = subprocess.run([vigil, "--version"], capture_output=True, text=True)
    return version.stdout.strip() if version.returncode == 0 else "unknown"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or not b:
        return "—"
    return f"{a / b:.0f}×" if a / b >= 100 else f"{a / b:.1f}×" if a / b >= 1 else f"{a / b:.2f}×"


def say(text: str) -> None:
    print(textwrap.fill(text, width=100, break_on_hyphens=False))


def number(value: float | None, digits: int = 4) -> str:
    return f"{value:.{digits}f}" if value is not None else "—"


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return ""
    return "met" if value >= target else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 + 2 images, glass_blur's reference on 5 + 1")
    parser.add_argument("--small", type=int, help="224×224 images (default 200; --quick: 20)")
    parser.add_argument("--large", type=int, help="640×480 images (default 10; --quick: 2)")
    parser.add_argument("--reference-sample", type=int, metavar="K",
                        help=f"time the reference of {', '.join(sorted(SLOW))} on K images and extrapolate "
                             "(default 20; --quick: 5; 0: all)")
    parser.add_argument("--corruptions", default=",".join(CORRUPTIONS), help="comma-separated subset")
    parser.add_argument("--severities", default="1,2,3,4,5")
    parser.add_argument("--seed", type=int, default=0, help="np.random.seed for the reference, --seed for Vigil")
    parser.add_argument("--vigil", default=str(ROOT / ".build/release/vigil"))
    parser.add_argument("--skip-vigil", action="store_true", help="time the reference alone")
    parser.add_argument("--json", type=Path, default=ROOT / ".build-bench/corruptions-results.json",
                        help="where the full results go")
    args = parser.parse_args()
    small = args.small if args.small is not None else (20 if args.quick else 200)
    large = args.large if args.large is not None else (2 if args.quick else 10)
    reference_sample = args.reference_sample if args.reference_sample is not None else (5 if args.quick else 20)
    names = [n.strip() for n in args.corruptions.split(",") if n.strip()]
    unknown = [n for n in names if n not in CORRUPTIONS]
    if unknown:
        sys.exit(f"unknown corruptions: {', '.join(unknown)} (known: {', '.join(CORRUPTIONS)})")
    severities = [int(s) for s in args.severities.split(",")]
    if any(s not in range(1, 6) for s in severities):
        sys.exit("severities are 1…5")

    try:
        import imagecorruptions
    except ImportError as error:
        sys.exit(f"cannot import imagecorruptions ({error}): run this with .build-bench/venv/bin/python "
                 f"(`make bench` creates it from Benchmarks/requirements-corruptions.txt)")
    import scipy
    import skimage
    import PIL
    warnings.filterwarnings("ignore", category=FutureWarning)  # skimage: `multichannel` is deprecated
    cv2.setNumThreads(1)
    vigil_version = None if args.skip_vigil else check_vigil(args.vigil)

    set_folder = ROOT / ".build-bench" / f"corruption-images-{small}-{large}"
    files = corruption_images.build(set_folder, small, large)
    folder = files[0].parent
    images = [load_rgb(f) for f in files]
    shapes = [im.shape for im in images]
    everything = list(range(len(images)))
    sampled = sample(shapes, reference_sample)

    versions = {"imagecorruptions": importlib.metadata.version("imagecorruptions"), "numpy": np.__version__,
                "scipy": scipy.__version__, "scikit-image": skimage.__version__, "opencv-python": cv2.__version__,
                "Pillow": PIL.__version__, "python": sys.version.split()[0], "vigil": vigil_version}
    cpus = os.cpu_count()
    results: dict = {"versions": versions, "cpus": cpus, "seed": args.seed, "image_folder": str(folder),
                     "images": {"total": len(images), "224x224": small, "640x480": large},
                     "reference_sample": {name: {"images": len(sampled), "of": describe_sample(shapes, sampled)}
                                          for name in names if name in SLOW and len(sampled) < len(images)},
                     "targets": {"overall": TARGET_OVERALL, "glass_blur": TARGET_GLASS, "fidelity_mad": TARGET_MAD},
                     "corruptions": {}}

    with tempfile.TemporaryDirectory(prefix="vigil-corrupt-", dir=ROOT / ".build-bench") as tmp:
        for name in names:
            indices = sampled if name in SLOW else everything
            print(f"  {name} …", file=sys.stderr, flush=True)
            imagecorruptions.corrupt(images[0], severity=1, corruption_name=name)  # warm-up (lazy imports), not timed
            rows = []
            for severity in severities:
                seconds, outputs = run_reference(imagecorruptions.corrupt, name, severity, images, indices, args.seed)
                reference_change = Difference()
                for i in indices:
                    reference_change.add(outputs[i], images[i])
                row: dict = {"severity": severity,
                             "reference": {"seconds_timed": sum(seconds.values()), "images_timed": len(indices),
                                           "seconds": extrapolate(seconds, shapes),
                                           "change_from_clean": reference_change.mean()}}
                if vigil_version is not None:
                    out = Path(tmp) / f"{name}-{severity}"
                    wall, report = run_vigil(args.vigil, name, severity, args.seed, folder, out)
                    if report.get("images") != len(images) or not isinstance(report.get("transform_seconds"), (int, float)):
                        sys.exit(f"vigil corrupt {name}: expected {{\"images\": {len(images)}, \"transform_seconds\": …}}, "
                                 f"got {report}")
                    vigil_change, fidelity = Difference(), Difference()
                    for i, path in enumerate(files):
                        produced = out / path.relative_to(folder)
                        if not produced.exists():
                            sys.exit(f"vigil corrupt {name} wrote no {produced} "
                                     f"(it wrote {', '.join(sorted(p.name for p in out.iterdir())[:5])}, …)")
                        image = load_rgb(produced)
                        vigil_change.add(image, images[i])
                        if name in DETERMINISTIC:
                            fidelity.add(image, outputs[i])
                    shutil.rmtree(out)
                    row["vigil"] = {"wall_seconds": wall, "transform_seconds": report["transform_seconds"],
                                    "reported_wall_seconds": report.get("wall_seconds"), "workers": report.get("workers"),
                                    "change_from_clean": vigil_change.mean()}
                    if name in DETERMINISTIC:
                        row["fidelity"] = fidelity.as_json()
                rows.append(row)
                del outputs
            entry = summarize(rows)
            entry.update({"deterministic": name in DETERMINISTIC, "reference_extrapolated": len(indices) < len(images),
                          "severities": rows})
            results["corruptions"][name] = entry
            print(f"  {name}: reference {sum(r['reference']['seconds_timed'] for r in rows):.1f} s"
                  + (f" on {len(indices)} images" if len(indices) < len(images) else "")
                  + (f", Vigil {sum(r['vigil']['wall_seconds'] for r in rows):.1f} s" if vigil_version else ""),
                  file=sys.stderr, flush=True)

    totals = {key: sum(entry[key] for entry in results["corruptions"].values()) if vigil_version or key == "reference"
              else None for key in ("reference", "vigil_wall", "vigil_transform")}
    results["totals"] = {"reference_seconds": totals["reference"], "vigil_wall_seconds": totals["vigil_wall"],
                         "vigil_transform_seconds": totals["vigil_transform"]}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1) + "\n")
    report_text(results, names, severities, shapes, sampled)
    print(f"\nfull results: {args.json}")


def summarize(rows: list[dict]) -> dict:
    """The corruption's totals over its severities, in seconds."""
    entry = {"reference": sum(r["reference"]["seconds"] for r in rows)}
    if rows and "vigil" in rows[0]:
        entry["vigil_wall"] = sum(r["vigil"]["wall_seconds"] for r in rows)
        entry["vigil_transform"] = sum(r["vigil"]["transform_seconds"] for r in rows)
    else:
        entry["vigil_wall"] = entry["vigil_transform"] = None
    return entry


def report_text(results: dict, names: list[str], severities: list[int], shapes: list, sampled: list[int]) -> None:
    versions = results["versions"]
    count = results["images"]["total"]
    have_vigil = versions["vigil"] is not None
    workers = {r["vigil"].get("workers") for e in results["corruptions"].values() for r in e["severities"] if "vigil" in r}
    print(f"\nimagecorruptions {versions['imagecorruptions']} (numpy {versions['numpy']}, scipy {versions['scipy']}, "
          f"scikit-image {versions['scikit-image']}, OpenCV {versions['opencv-python']}, Pillow {versions['Pillow']}, "
          f"Python {versions['python']})")
    print(f"vigil {versions['vigil']}" if have_vigil else "vigil: not run (--skip-vigil)")
    print(f"{count} images ({results['images']['224x224']} of 224×224, {results['images']['640x480']} of 640×480), "
          f"severities {','.join(map(str, severities))}, seed {results['seed']}, {results['cpus']} CPUs")
    if have_vigil:
        say(f"Vigil runs on all cores (workers: {', '.join(str(w) for w in sorted(workers, key=str))}), the reference "
              f"in one thread: 'wall' compares elapsed times, 'per core' compares the reference with the time Vigil "
              f"spent inside the corruptions summed over its workers (no start-up, no PNG decode or encode).")

    summed = "severity " + str(severities[0]) if len(severities) == 1 else \
        f"the {len(severities)} severities summed" if len(severities) == 5 else f"severities {','.join(map(str, severities))} summed"
    print(f"\nseconds per image ({summed}); ratios: reference / Vigil")
    print(f"{'corruption':<20}{'reference':>11}{'Vigil wall':>12}{'Vigil per core':>16}{'wall ratio':>12}{'per-core ratio':>16}")
    for name in names:
        e = results["corruptions"][name]
        wall = e["vigil_wall"] / count if e["vigil_wall"] is not None else None
        core = e["vigil_transform"] / count if e["vigil_transform"] is not None else None
        mark = "*" if e["reference_extrapolated"] else ""
        print(f"{name + mark:<20}{number(e['reference'] / count):>11}{number(wall):>12}{number(core):>16}"
              f"{ratio(e['reference'], e['vigil_wall']):>12}{ratio(e['reference'], e['vigil_transform']):>16}")
    t = results["totals"]
    wall = t["vigil_wall_seconds"] / count if t["vigil_wall_seconds"] is not None else None
    core = t["vigil_transform_seconds"] / count if t["vigil_transform_seconds"] is not None else None
    print("-" * 87)
    print(f"{'overall':<20}{number(t['reference_seconds'] / count):>11}{number(wall):>12}{number(core):>16}"
          f"{ratio(t['reference_seconds'], t['vigil_wall_seconds']):>12}"
          f"{ratio(t['reference_seconds'], t['vigil_transform_seconds']):>16}")
    print(f"{'total seconds':<20}{t['reference_seconds']:>11.1f}{number(t['vigil_wall_seconds'], 1):>12}"
          f"{number(t['vigil_transform_seconds'], 1):>16}")
    if any(results["corruptions"][n]["reference_extrapolated"] for n in names):
        say(f"* reference timed on {len(sampled)} images ({describe_sample(shapes, sampled)}) per severity and "
              f"extrapolated per image size to all {count}: its seconds are an estimate")
    if have_vigil:
        print("(ratio > 1: the reference takes that many times as long as Vigil)")

    if not have_vigil:
        print()
        say(f"targets (from the issue): overall ≥ {TARGET_OVERALL:.0f}×, glass_blur ≥ {TARGET_GLASS:.0f}×, "
              f"fidelity MAD ≤ {TARGET_MAD:g}: not measured without Vigil")
    else:
        print(f"\ntargets (from the issue){'':<8}{'wall ratio':>12}{'per-core ratio':>16}")
        report_targets(results, t)

    deterministic = [n for n in names if n in DETERMINISTIC]
    if deterministic and have_vigil:
        report_fidelity(results, deterministic)
    random = [n for n in names if n not in DETERMINISTIC]
    if random:
        report_strength(results, random, severities)


def report_targets(results: dict, t: dict) -> None:
    lines = [("overall", f"≥ {TARGET_OVERALL:.0f}×", t["reference_seconds"], t["vigil_wall_seconds"],
              t["vigil_transform_seconds"], TARGET_OVERALL)]
    if "glass_blur" in results["corruptions"]:
        g = results["corruptions"]["glass_blur"]
        lines.append(("glass_blur", f"≥ {TARGET_GLASS:.0f}×", g["reference"], g["vigil_wall"], g["vigil_transform"],
                      TARGET_GLASS))
    for label, target, ref, wall_s, core_s, goal in lines:
        a = ref / wall_s if wall_s else None
        b = ref / core_s if core_s else None
        print(f"  {label:<12}{target:<18}{ratio(ref, wall_s):>12}{ratio(ref, core_s):>16}   "
              f"wall: {verdict(a, goal)}, per core: {verdict(b, goal)}")


def report_fidelity(results: dict, deterministic: list[str]) -> None:
    print()
    say(f"fidelity, deterministic corruptions: Vigil's PNG vs the reference's output (RGB, grey levels; "
        f"target MAD ≤ {TARGET_MAD:g})")
    print(f"{'corruption':<20}{'sev':>4}{'MAD':>8}{'max':>6}{'px > 2':>9}{'ref |Δ clean|':>15}   MAD ≤ {TARGET_MAD:g}")
    met = total = 0
    worst = None
    for name in deterministic:
        for r in results["corruptions"][name]["severities"]:
            f = r["fidelity"]
            ok = f["mean_abs"] <= TARGET_MAD
            met += ok
            total += 1
            if worst is None or f["mean_abs"] > worst[2]:
                worst = (name, r["severity"], f["mean_abs"])
            print(f"{name:<20}{r['severity']:>4}{f['mean_abs']:>8.3f}{f['max_abs']:>6}"
                  f"{100 * f['share_pixels_over_2']:>8.2f}%{r['reference']['change_from_clean']:>15.2f}   "
                  f"{'yes' if ok else 'NO'}")
    if total:
        print(f"MAD ≤ {TARGET_MAD:g} in {met} of {total} (corruption, severity) pairs; largest: {worst[0]} "
              f"severity {worst[1]}, {worst[2]:.3f}")
    say("(px > 2: share of pixels where some channel differs by more than 2; ref |Δ clean|: the reference's mean "
        "absolute change from the clean image, for scale)")


def report_strength(results: dict, random: list[str], severities: list[int]) -> None:
    print()
    say("strength, random corruptions (they cannot match pixel for pixel): mean absolute change from the clean "
        "image, grey levels, Vigil / reference")
    print(f"{'corruption':<20}" + "".join(f"{'severity ' + str(s):>15}" for s in severities))
    for name in random:
        cells = []
        for r in results["corruptions"][name]["severities"]:
            ours = f"{r['vigil']['change_from_clean']:.1f}" if "vigil" in r else "—"
            cells.append(f"{ours} / {r['reference']['change_from_clean']:.1f}")
        mark = "*" if results["corruptions"][name]["reference_extrapolated"] else ""
        print(f"{name + mark:<20}" + "".join(f"{c:>15}" for c in cells))
    if any(results["corruptions"][n]["reference_extrapolated"] for n in random):
        print("* the reference's change measured on the timed images only")


if __name__ == "__main__":
    main()
