#!/usr/bin/env bash
# Installs what Vigil needs on Debian 12 and prepares the build environment.
# Safe to run repeatedly: it installs only what is missing. Used by `make demo` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libopencv-dev libcairo2-dev libsqlite3-dev libssl-dev pkg-config fonts-dejavu-core git)
# Scripts/check_run.py (run by `make test`) needs numpy; Debian's package serves /usr/bin/python3.
if ! python3 -c "import numpy" >/dev/null 2>&1; then packages+=(python3 python3-numpy); fi
# Scripts/fetch_models.py downloads a wheel with pip; check_run.py installs pycocotools with it.
if ! python3 -m pip --version >/dev/null 2>&1; then packages+=(python3-pip); fi
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "setup: Swift is not on PATH. Install Swift 6 (Vigil is tested with 6.3.1) from https://swift.org/install and run this again." >&2
    exit 2
fi

# OpenCV's pkg-config file names every OpenCV module (60 libraries, 380 shared objects with
# their dependencies), so a binary linked through it spends 0.3 s just loading them. Vigil uses
# five modules; this file, found first through PKG_CONFIG_PATH (set by the Makefile), links only
# those. Builds without it (plain `swift build`) work the same, only start slower.
mkdir -p .build-pkgconfig
cat > .build-pkgconfig/opencv4.pc <<PC
Name: OpenCV
Description: the OpenCV modules Vigil uses (written by Scripts/setup.sh)
Version: $(pkg-config --modversion opencv4)
Cflags: $(pkg-config --cflags opencv4)
Libs: -lopencv_dnn -lopencv_objdetect -lopencv_imgcodecs -lopencv_imgproc -lopencv_core
PC

# The Makefile runs Scripts/check_run.py with this python3 (or Debian's when it lacks numpy);
# detection runs are checked with pycocotools, from PyPI.
python=python3
python3 -c "import numpy" >/dev/null 2>&1 || python=/usr/bin/python3
if ! $python -c "import pycocotools" >/dev/null 2>&1; then
    echo "setup: installing pycocotools (pip) for Scripts/check_run.py"
    $python -m pip install --quiet pycocotools==2.0.11 2>/dev/null \
        || $python -m pip install --quiet --break-system-packages pycocotools==2.0.11
fi

# Models too large for git, fetched from PyPI and checked against their sha256.
python3 Scripts/fetch_models.py
