"""Open Inference Protocol infer, binary tensor data against JSON, side by side.

A 784-128-10 network (stored once, seed 1) and a 1000x784 FP64 input (seed 2): each
round sends the same samples to POST /v2/models/{name}/infer as
  - binary: Inference-Header-Content-Length, the input raw (6.27 MB), the output
    asked for raw (binary_data_output);
  - json:   the input as flat `data` (Python's shortest round-trip text, ~15 MB), the
    output as `data`;
alternating the two so that both see the same machine load. The request bodies are
made once, before timing; a request's time is from sending it to having read the
whole answer on a kept-alive connection (http.client), so it is the server's work
(read, parse or copy, compute, format or copy) and the transfer, not the client's
encoding. Both answers are checked against each other (bitwise) before timing.

  python Benchmarks/inference.py --base http://127.0.0.1:PORT [--rounds 20]
"""
import argparse
import http.client
import json
import statistics
import struct
import time
import urllib.parse

import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    url = urllib.parse.urlparse(args.base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=300)

    def request(method, path, body=b"", headers=None):
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()

    network = {"inputs": 784, "layers": [{"units": 128, "activation": "relu"},
                                         {"units": 10, "activation": "softmax"}], "seed": 1}
    status, _, body = request("PUT", "/networks/bench-mnist", json.dumps(network).encode())
    assert status == 201, body
    samples = np.random.default_rng(2).random((1000, 784))

    header = json.dumps({"inputs": [{"name": "input", "datatype": "FP64", "shape": [1000, 784],
                                     "parameters": {"binary_data_size": samples.nbytes}}],
                         "parameters": {"binary_data_output": True}}).encode()
    binary_body = header + samples.astype("<f8").tobytes()
    binary_headers = {"Inference-Header-Content-Length": str(len(header)),
                      "Content-Type": "application/octet-stream"}
    json_body = json.dumps({"inputs": [{"name": "input", "datatype": "FP64", "shape": [1000, 784],
                                        "data": samples.ravel().tolist()}]}).encode()
    json_headers = {"Content-Type": "application/json"}
    path = "/v2/models/bench-mnist/infer"

    def binary():
        status, headers, body = request("POST", path, binary_body, binary_headers)
        assert status == 200, body[:300]
        return headers, body

    def plain():
        status, headers, body = request("POST", path, json_body, json_headers)
        assert status == 200, body[:300]
        return headers, body

    headers, body = binary()
    length = int({k.lower(): v for k, v in headers.items()}["inference-header-content-length"])
    from_binary = np.frombuffer(body[length:], dtype="<f8")
    from_json = np.array(json.loads(plain()[1])["outputs"][0]["data"], dtype=np.float64)
    assert from_binary.shape == (10000,) and np.array_equal(from_binary.view(np.uint64), from_json.view(np.uint64))

    for _ in range(args.warmup):
        binary(), plain()
    times = {"binary": [], "json": []}
    for _ in range(args.rounds):
        for name, call in (("binary", binary), ("json", plain)):
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    print(f"request bodies: binary {len(binary_body) / 1e6:.2f} MB, json {len(json_body) / 1e6:.2f} MB; "
          f"answers: binary {len(body)} B, json {len(plain()[1])} B")
    print(f"{'':8} {'median ms':>10} {'p10 ms':>8} {'p90 ms':>8} {'req/s':>7}")
    for name, values in times.items():
        ms = sorted(v * 1000 for v in values)
        median = statistics.median(ms)
        print(f"{name:8} {median:10.1f} {ms[len(ms) // 10]:8.1f} {ms[(len(ms) * 9) // 10]:8.1f} {1000 / median:7.1f}")
    ratio = statistics.median(times["json"]) / statistics.median(times["binary"])
    print(f"binary is {ratio:.1f}x faster than json per request ({args.rounds} rounds, alternating)")
    request("DELETE", "/networks/bench-mnist")


if __name__ == "__main__":
    main()
