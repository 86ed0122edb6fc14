"""The peer of BackpropBenchmarks' json: decode the same 20 MB /forward body with
orjson into a numpy matrix, and encode a 1000 × 1000 answer. Prints one JSON line.

    python3 orjson_json.py /tmp/backprop-forward-1000x1000.json [--repetitions N]
    python3 orjson_json.py --forward /tmp/backprop-forward-237k.json  # decode only, every array

With --forward it decodes the /forward benchmark's body (forward_body.py) and makes
numpy arrays of the input and of every layer's weights and biases, as the FastAPI
peer does; 50 decodes a repetition.
"""
import json
import statistics
import sys
import time

import numpy as np
import orjson

arguments = [a for a in sys.argv[1:] if not a.startswith("--") and not a.isdigit()]
path = arguments[0]
repetitions = int(sys.argv[sys.argv.index("--repetitions") + 1]) if "--repetitions" in sys.argv else 5
body = open(path, "rb").read()
decode, encode = [], []
if "--forward" in sys.argv:
    for _ in range(repetitions):
        start = time.perf_counter()
        for _ in range(50):
            value = orjson.loads(body)
            arrays = [np.asarray(value["input"], dtype=np.float64)]
            for layer in value["network"]["layers"]:
                arrays += [np.asarray(layer["weights"], dtype=np.float64), np.asarray(layer["biases"], dtype=np.float64)]
        decode.append((time.perf_counter() - start) / 50)
    print(json.dumps({"benchmark": "json_forward_body", "peer": "orjson " + orjson.__version__ + " + numpy " + np.__version__,
                      "decode_mb_s": len(body) / 1e6 / statistics.median(decode),
                      "decode_us": statistics.median(decode) * 1e6}))
    sys.exit(0)
for _ in range(repetitions):
    start = time.perf_counter()
    matrix = np.asarray(orjson.loads(body)["input"], dtype=np.float64)
    decode.append(time.perf_counter() - start)
    start = time.perf_counter()
    out = orjson.dumps({"output": matrix}, option=orjson.OPT_SERIALIZE_NUMPY)
    encode.append(time.perf_counter() - start)
print(json.dumps({"benchmark": "json_1000x1000", "peer": "orjson " + orjson.__version__ + " + numpy " + np.__version__,
                  "rows": matrix.shape[0], "decode_mb_s": len(body) / 1e6 / statistics.median(decode),
                  "encode_mb_s": len(out) / 1e6 / statistics.median(encode)}))
