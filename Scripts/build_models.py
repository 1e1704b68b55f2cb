#!/usr/bin/env python3
"""Rebuilds the two demo models in Models/ (ONNX + model spec), without PyTorch.

  mnist-cnn  (baseline)  ccexam 1.0.0's trained MNIST CNN (PyPI, MIT), weights read from
                         ccexam/weights/mnist.pth and written out as an ONNX graph.
  digits-mlp (candidate) a 400-512-10 perceptron trained here with scikit-learn on the 4000
                         digits.png cells that are not in the golden set, with shift and
                         low-light augmentation, exported to ONNX.

Usage: python3 Scripts/build_models.py [--only mnist-cnn|digits-mlp]
Needs: numpy, pillow, onnx, scikit-learn (Scripts/requirements.txt); pip download for ccexam;
apt-get download for opencv-doc (see digits_source.py).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import pickle
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
import digits_source as src  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "Models"
CCEXAM_WHEEL = "ccexam-1.0.0-py3-none-any.whl"
CCEXAM_SHA256 = "9444f15096c0f8a28599705c8624cc68a9021ca625a32528f30bc8ba34bedc5d"
OPSET = 13
CLASSES = [str(d) for d in range(10)]


# MARK: - Reading a PyTorch checkpoint without PyTorch

class _Storage:
    def __init__(self, dtype: np.dtype, data: bytes):
        self.dtype, self.data = dtype, data


_STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64,
                   "HalfStorage": np.float16, "LongStorage": np.int64, "IntStorage": np.int32}


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
    flat = np.frombuffer(storage.data, dtype=storage.dtype)
    item = flat.dtype.itemsize
    return np.lib.stride_tricks.as_strided(
        flat[offset:], shape=tuple(size), strides=tuple(s * item for s in stride)).copy()


def load_state_dict(path: Path) -> "collections.OrderedDict[str, np.ndarray]":
    """Reads a torch.save()d state_dict: a zip with data.pkl (the pickle) and data/<key> (raw
    little-endian storages). Only the globals a plain state_dict uses are allowed."""
    with zipfile.ZipFile(path) as archive:
        root = archive.namelist()[0].split("/")[0]
        if archive.read(f"{root}/byteorder").strip() != b"little":
            raise SystemExit(f"{path}: only little-endian checkpoints are supported")

        class Unpickler(pickle.Unpickler):
            def find_class(self, module, name):
                if (module, name) == ("collections", "OrderedDict"):
                    return collections.OrderedDict
                if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                    return _rebuild_tensor_v2
                if module == "torch" and name in _STORAGE_DTYPES:
                    return name
                raise pickle.UnpicklingError(f"{path}: unexpected global {module}.{name}")

            def persistent_load(self, pid):
                kind, storage_type, key, _location, _numel = pid
                if kind != "storage":
                    raise pickle.UnpicklingError(f"{path}: unexpected persistent id {kind}")
                return _Storage(_STORAGE_DTYPES[storage_type], archive.read(f"{root}/data/{key}"))

        with archive.open(f"{root}/data.pkl") as handle:
            return Unpickler(handle).load()


def fetch_ccexam(workdir: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                    "ccexam==1.0.0", "-d", str(workdir)], check=True)
    wheel = workdir / CCEXAM_WHEEL
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != CCEXAM_SHA256:
        raise SystemExit(f"{wheel.name}: sha256 {digest}, expected {CCEXAM_SHA256}")
    with zipfile.ZipFile(wheel) as archive:
        archive.extract("ccexam/weights/mnist.pth", workdir)
    return workdir / "ccexam/weights/mnist.pth"


# MARK: - ONNX graphs

def save_model(graph: onnx.GraphProto, path: Path, doc: str) -> None:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="vigil/Scripts/build_models.py", doc_string=doc)
    model.ir_version = 7  # readable by OpenCV 4.6's importer
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def mnist_cnn_graph(sd) -> onnx.GraphProto:
    """ccexam DigitCNN: Conv3x3(32,pad1)-ReLU-MaxPool2-Conv3x3(64,pad1)-ReLU-MaxPool2-FC128-ReLU-FC10."""
    init = [numpy_helper.from_array(sd[k].astype(np.float32), k.replace(".", "_")) for k in sd]
    name = lambda k: k.replace(".", "_")  # noqa: E731
    nodes = [
        helper.make_node("Conv", ["input", name("features.0.weight"), name("features.0.bias")], ["c1"],
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", name("features.3.weight"), name("features.3.bias")], ["c2"],
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p2"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", name("classifier.0.weight"), name("classifier.0.bias")], ["h"],
                         transB=1),
        helper.make_node("Relu", ["h"], ["hr"]),
        helper.make_node("Gemm", ["hr", name("classifier.2.weight"), name("classifier.2.bias")], ["logits"],
                         transB=1),
    ]
    return helper.make_graph(
        nodes, "mnist_cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
        init)


def mlp_graph(weights, biases, side: int) -> onnx.GraphProto:
    init, nodes, current = [], [helper.make_node("Flatten", ["input"], ["x0"], axis=1)], "x0"
    for i, (w, b) in enumerate(zip(weights, biases)):
        # Weights stored as [out, in] with transB=1: OpenCV 4.6's Gemm importer requires that form.
        init += [numpy_helper.from_array(np.ascontiguousarray(w.T).astype(np.float32), f"w{i}"),
                 numpy_helper.from_array(b.astype(np.float32), f"b{i}")]
        last = i == len(weights) - 1
        out = "logits" if last else f"h{i}"
        nodes.append(helper.make_node("Gemm", [current, f"w{i}", f"b{i}"], [out], transB=1))
        if not last:
            nodes.append(helper.make_node("Relu", [out], [f"x{i + 1}"]))
            current = f"x{i + 1}"
    return helper.make_graph(
        nodes, "digits_mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, side, side])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(biases[-1])])],
        init)


# MARK: - Candidate training

def low_light_augment(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Training-time augmentation written for this script (not Vigil's scenario code): exposure
    0.05-1 on linear sRGB, Poisson photo-electrons (full well 150-1000), read noise 0-5 e-."""
    linear = np.where(images / 255.0 <= 0.04045, images / 255.0 / 12.92,
                      ((images / 255.0 + 0.055) / 1.055) ** 2.4)
    n = len(images)
    exposure = rng.uniform(0.05, 1.0, (n, 1, 1))
    well = rng.uniform(150, 1000, (n, 1, 1))
    electrons = rng.poisson(linear * exposure * well) + rng.normal(0, 1, images.shape) * rng.uniform(0, 5, (n, 1, 1))
    signal = np.clip(electrons / well, 0, 1)
    encoded = np.where(signal <= 0.0031308, 12.92 * signal, 1.055 * signal ** (1 / 2.4) - 0.055)
    return np.round(encoded * 255).astype(np.uint8)


def shift_augment(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.empty_like(images)
    for i, image in enumerate(images):
        dy, dx = rng.integers(-1, 2, 2)
        out[i] = np.roll(np.roll(image, dy, 0), dx, 1)
    return out


def train_digits_mlp(cells: np.ndarray):
    from sklearn.neural_network import MLPClassifier

    images, labels = src.training_set(cells)
    rng = np.random.default_rng(20261125)
    batches = [images, shift_augment(images, rng)] + [low_light_augment(images, rng) for _ in range(3)]
    x = np.concatenate(batches).reshape(-1, 400).astype(np.float32) / 255.0
    y = np.tile(labels, len(batches))
    model = MLPClassifier(hidden_layer_sizes=(512,), alpha=1e-3, max_iter=80, random_state=0)
    model.fit(x, y)
    return model


# MARK: - Model specs

def write_spec(folder: Path, onnx_name: str, text: str) -> None:
    digest = hashlib.sha256((folder / onnx_name).read_bytes()).hexdigest()
    (folder / "model.yaml").write_text(text.replace("@SHA256@", digest))
    print(f"{folder.name}: {onnx_name} sha256 {digest}")


MNIST_SPEC = """\
# Baseline: ccexam 1.0.0's MNIST CNN (see PROVENANCE.md). Written by Scripts/build_models.py.
name: mnist-cnn
task: classification
format: onnx
file: mnist_cnn.onnx
sha256: @SHA256@
input:
  width: 28
  height: 28
  layout: nchw
  color: gray
  # digits.png cells are MNIST digits scaled to 20x20, so stretching back to 28x28 restores
  # the geometry the network was trained on.
  resize: stretch
  interpolation: linear
  scale: 0.00392156862745098    # 1/255
  mean: [0.1307]
  std: [0.3081]
output:
  kind: logits
classes: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
"""

MLP_SPEC = """\
# Candidate: a perceptron trained on the digits.png cells outside the golden set, with low-light
# augmentation (see PROVENANCE.md). Written by Scripts/build_models.py.
name: digits-mlp
task: classification
format: onnx
file: digits_mlp.onnx
sha256: @SHA256@
input:
  width: 20
  height: 20
  layout: nchw
  color: gray
  resize: stretch
  interpolation: linear
  scale: 0.00392156862745098    # 1/255
  mean: [0]
  std: [1]
output:
  kind: logits
classes: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["mnist-cnn", "digits-mlp"])
    args = parser.parse_args()

    if args.only in (None, "mnist-cnn"):
        with tempfile.TemporaryDirectory() as tmp:
            sd = load_state_dict(fetch_ccexam(Path(tmp)))
        folder = MODELS / "mnist-cnn"
        save_model(mnist_cnn_graph(sd), folder / "mnist_cnn.onnx",
                   "ccexam 1.0.0 MNISTNet (weights/mnist.pth), converted without PyTorch")
        write_spec(folder, "mnist_cnn.onnx", MNIST_SPEC)

    if args.only in (None, "digits-mlp"):
        with src.DigitsSource() as digits_png:
            cells = src.load_cells(digits_png)
        model = train_digits_mlp(cells)
        folder = MODELS / "digits-mlp"
        save_model(mlp_graph(model.coefs_, model.intercepts_, 20), folder / "digits_mlp.onnx",
                   "400-512-10 MLP trained on digits.png cells outside Vigil's golden set")
        write_spec(folder, "digits_mlp.onnx", MLP_SPEC)


if __name__ == "__main__":
    main()
