#!/usr/bin/env python3
"""What the HTML report costs next to the run it reports on, on real photographs: the
orientation suite (52 photographs of 640×480 to 1280×960, a served baseline and a local
candidate, 8 scenarios) and the faces suite (61 photographs, two cascades, 16 scenarios).

    Scripts/with_model_server.sh python3 Benchmarks/report.py [--repeat 2] [--suites orientation,faces]

Each suite runs `--repeat` times with a fresh store (nothing reused) and a fresh report folder;
`vigil run` prints "Took T s (run R s, report W s)", and the report's share of the run (W / R)
counts, best of the repeats (target: at most 10 %). Also prints the report folder's size and
picture count. The orientation suite needs the model server (VIGIL_KSERVE_URL), which
`Scripts/with_model_server.sh` starts and stops.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOK = re.compile(r"^Took ([0-9.]+) s \(run ([0-9.]+) s, report ([0-9.]+) s\)$", re.MULTILINE)


def run(vigil: str, suite: str, folder: Path, index: int) -> tuple[float, float, float, Path]:
    store, reports = folder / f"store-{index}.sqlite", folder / f"reports-{index}"
    done = subprocess.run([vigil, "run", suite, "--store", str(store), "--reports", str(reports), "--no-reuse"],
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode > 1:
        sys.exit(f"vigil run {suite} failed: {done.stderr.strip()}")
    match = TOOK.search(done.stdout)
    if match is None:
        sys.exit(f"vigil run {suite}: no 'Took … (run …, report …)' line in its output")
    total, run_seconds, report_seconds = (float(group) for group in match.groups())
    return total, run_seconds, report_seconds, next(reports.iterdir())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--suites", default="orientation,faces")
    parser.add_argument("--vigil", default=str(ROOT / ".build/release/vigil"))
    args = parser.parse_args()
    suites = [name.strip() for name in args.suites.split(",") if name.strip()]
    if "orientation" in suites and not os.environ.get("VIGIL_KSERVE_URL"):
        sys.exit("the orientation suite needs the model server: run this through Scripts/with_model_server.sh")
    print(f"{'suite':<12} {'run s':>7} {'report s':>9} {'share':>7} {'whole command s':>16}  report folder")
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="vigil-report-bench-") as temporary:
        folder = Path(temporary)
        for name in suites:
            results = []
            for index in range(args.repeat):
                total, run_seconds, report_seconds, report = run(args.vigil, f"Suites/{name}.yaml", folder, len(results) + 100 * suites.index(name))
                files = [path for path in report.rglob("*") if path.is_file()]
                size = sum(path.stat().st_size for path in files) / 1e6
                share = report_seconds / run_seconds
                results.append(share)
                print(f"{name:<12} {run_seconds:>7.1f} {report_seconds:>9.2f} {share:>6.1%} {total:>16.1f}  "
                      f"{len(files)} files, {size:.0f} MB", flush=True)
            best = min(results)
            verdicts.append(f"{name}: report {best:.1%} of the run (best of {len(results)}; target ≤ 10%)"
                            + ("" if best <= 0.10 else " — NOT MET"))
    print()
    for line in verdicts:
        print(line)


if __name__ == "__main__":
    main()
