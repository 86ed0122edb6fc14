"""The peer of BackpropBenchmarks' json: decode the same 20 MB /forward body with
orjson into a numpy matrix, and encode a 1000 × 1000 answer. Prints one JSON line.

    python3 orjson_json.py /tmp/backprop-forward-1000x1000.json [--repetitions N]
"""
import json
import statistics
import sys
import time

import numpy as np
import orjson

path = sys.argv[1]
repetitions = int(sys.argv[sys.argv.index("--repetitions") + 1]) if "--repetitions" in sys.argv else 5
body = open(path, "rb").read()
decode, encode = [], []
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
