#!/usr/bin/env python3
"""Hostile-input suite: every malformed, oversized or absurd request gets its
documented 4xx (API.md, "Errors"), and the server still answers GET /health after
each one.

Table-driven: each case is raw request bytes, the status it must get, whether the
answer must be an RFC 9457 problem (application/problem+json with status, title and
detail), the `Allow` header a 405 must carry, and how long the answer may take.

Cases marked `layer="http"` are refused by the HTTP/1 parser (SwiftNIO's llhttp,
through Hummingbird) before the application sees them: NIO answers `400 Bad Request`
with no body and closes the connection. They are checked for that exact behaviour.

Usage:
    python3 Tests/Reliability/hostile.py                 # starts its own server
    python3 Tests/Reliability/hostile.py --port 18100    # against a running server
    python3 Tests/Reliability/hostile.py -k nesting      # only cases whose name matches

The binary is $BACKPROP_BIN, else .build-reliability/release/backprop, else
.build/release/backprop. Exit status 0 only if every case passed; the last line is
`N passed, M failed`.
"""

from __future__ import annotations

import argparse
import copy
import json
import socket
import sys
import time
from dataclasses import dataclass

from common import (NoResponse, Results, Server, build_request, connect, default_binary, health_ok,
                    read_response, request, send_all, server_errors_in_metrics)

MiB = 1024 * 1024
DEFAULT_LIMIT = 16 * MiB  # --max-body-size default

# ------------------------------------------------------------------ valid bodies

GIVEN_NET = {"layers": [
    {"weights": [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]], "biases": [0.0, 0.1], "activation": "sigmoid"},
    {"weights": [0.1, -0.3], "biases": 0.0, "activation": "sigmoid"},
]}
GENERATED_NET = {"inputs": 3, "layers": [{"units": 2, "activation": "tanh", "bias": True}, {"units": 1}],
                 "init": "auto", "seed": 7}
FORWARD = {"network": GIVEN_NET, "input": [0.5, 0.1, -0.2], "trace": True}
FORWARD_GENERATED = {"network": GENERATED_NET, "input": [[0.5, 0.1, -0.2], [0.1, 0.2, 0.3]]}
GRADIENT = {"network": GIVEN_NET, "input": [0.5, 0.1, -0.2], "target": 0.6, "learning_rate": 0.5,
            "loss": "squared_error"}
TRAIN = {
    "network": {"inputs": 2, "layers": [{"units": 3, "activation": "tanh"}, {"units": 1}],
                "init": "xavier_uniform", "seed": 7},
    "inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [0, 1, 1, 0],
    "epochs": 5, "learning_rate": 0.5, "batch_size": 2, "shuffle": True, "seed": 7, "loss": "squared_error",
    "optimizer": {"name": "sgd", "momentum": 0.9, "nesterov": False}, "l1": 0.0, "l2": 0.001,
    "validation": {"inputs": [[0, 0], [1, 1]], "targets": [0, 0]},
    "early_stopping": {"patience": 3, "min_delta": 0.0, "restore_best": True},
}
TRAIN_ADAM = dict(TRAIN, optimizer={"name": "adam", "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8})

# Field kinds, and JSON values of the wrong type for each (API.md: a wrong JSON type is a 400).
WRONG = {
    "number": ["1", True, {}, [1]],
    "integer": ["7", False, {}, [7]],
    "string": [1, True, {}, ["sigmoid"]],
    "bool": [1, "true", {}, []],
    "object": ["x", 1, True, []],
    "array": ["x", True, {}],
    "tensor": ["x", True, {}],  # a number or an array (targets)
    "scalar": ["1", True, {}],  # a one-unit layer's bias: a number ([1] is accepted too)
    "optimizer": [1, True, []],  # a string or an object
}

# (endpoint, base body, path to the field, kind, required)
FIELDS = [
    ("/forward", FORWARD, ("network",), "object", True),
    ("/forward", FORWARD, ("network", "layers"), "array", True),
    ("/forward", FORWARD, ("network", "layers", 0), "object", True),
    ("/forward", FORWARD, ("network", "layers", 0, "weights"), "array", True),
    ("/forward", FORWARD, ("network", "layers", 0, "biases"), "array", False),
    ("/forward", FORWARD, ("network", "layers", 1, "biases"), "scalar", False),
    ("/forward", FORWARD, ("network", "layers", 0, "activation"), "string", False),
    ("/forward", FORWARD, ("input",), "array", True),
    ("/forward", FORWARD, ("trace",), "bool", False),
    ("/forward", FORWARD_GENERATED, ("network", "inputs"), "integer", False),
    ("/forward", FORWARD_GENERATED, ("network", "init"), "string", False),
    ("/forward", FORWARD_GENERATED, ("network", "seed"), "integer", False),
    ("/forward", FORWARD_GENERATED, ("network", "layers", 0, "units"), "integer", False),
    ("/forward", FORWARD_GENERATED, ("network", "layers", 0, "bias"), "bool", False),
    ("/gradient", GRADIENT, ("network",), "object", True),
    ("/gradient", GRADIENT, ("input",), "array", True),
    ("/gradient", GRADIENT, ("target",), "tensor", True),
    ("/gradient", GRADIENT, ("learning_rate",), "number", False),
    ("/gradient", GRADIENT, ("loss",), "string", False),
    ("/train", TRAIN, ("network",), "object", True),
    ("/train", TRAIN, ("inputs",), "array", True),
    ("/train", TRAIN, ("targets",), "tensor", True),
    ("/train", TRAIN, ("epochs",), "integer", False),
    ("/train", TRAIN, ("learning_rate",), "number", False),
    ("/train", TRAIN, ("batch_size",), "integer", False),
    ("/train", TRAIN, ("shuffle",), "bool", False),
    ("/train", TRAIN, ("seed",), "integer", False),
    ("/train", TRAIN, ("loss",), "string", False),
    ("/train", TRAIN, ("optimizer",), "optimizer", False),
    ("/train", TRAIN, ("optimizer", "name"), "string", True),
    ("/train", TRAIN, ("optimizer", "momentum"), "number", False),
    ("/train", TRAIN, ("optimizer", "nesterov"), "bool", False),
    ("/train", TRAIN_ADAM, ("optimizer", "beta1"), "number", False),
    ("/train", TRAIN_ADAM, ("optimizer", "beta2"), "number", False),
    ("/train", TRAIN_ADAM, ("optimizer", "epsilon"), "number", False),
    ("/train", TRAIN, ("l1",), "number", False),
    ("/train", TRAIN, ("l2",), "number", False),
    ("/train", TRAIN, ("validation",), "object", False),
    ("/train", TRAIN, ("validation", "inputs"), "array", True),
    ("/train", TRAIN, ("validation", "targets"), "tensor", True),
    ("/train", TRAIN, ("early_stopping",), "object", False),
    ("/train", TRAIN, ("early_stopping", "patience"), "integer", False),
    ("/train", TRAIN, ("early_stopping", "min_delta"), "number", False),
    ("/train", TRAIN, ("early_stopping", "restore_best"), "bool", False),
    ("/train/jobs", TRAIN, ("network",), "object", True),
    ("/train/jobs", TRAIN, ("epochs",), "integer", False),
    ("/train/jobs", TRAIN, ("targets",), "tensor", True),
]

# Wrong types inside arrays: (endpoint, base, path to an element).
ELEMENTS = [
    ("/forward", FORWARD, ("network", "layers", 0, "weights", 1, 0)),
    ("/forward", FORWARD, ("network", "layers", 0, "biases", 1)),
    ("/forward", FORWARD, ("network", "layers", 1, "weights", 0)),
    ("/forward", FORWARD, ("input", 2)),
    ("/forward", FORWARD_GENERATED, ("input", 1, 0)),
    ("/gradient", dict(GRADIENT, target=[0.6]), ("target", 0)),
    ("/train", TRAIN, ("inputs", 3, 1)),
    ("/train", TRAIN, ("targets", 2)),
    ("/train", TRAIN, ("validation", "inputs", 0, 0)),
]


def dumps(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def replaced(base, path, value, delete=False):
    body = copy.deepcopy(base)
    target = body
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


def label(path) -> str:
    return "/" + "/".join(str(part) for part in path)


# ------------------------------------------------------------------ cases


@dataclass
class Case:
    name: str
    data: bytes  # the raw request
    expect: int | tuple[int, ...]
    problem: bool = True  # must be application/problem+json with status, title, detail
    allow: str | None = None  # a 405's Allow header
    limit: float = 10.0  # seconds the answer may take
    layer: str = "app"  # "http": refused by the HTTP parser before the app (400, no body)
    half_close: bool = False  # shut down the write side after sending
    read_timeout: float | None = None  # seconds to wait for the answer (default: limit + 5)
    bug: str = ""  # a known server bug this case shows (TESTING.md, "Known server bugs")
    note: str = ""


def post(path: str, body: bytes | str, headers=None) -> bytes:
    if isinstance(body, str):
        body = body.encode()
    return build_request("POST", path, body, headers)


def chunked(path: str, body: bytes, chunk: int = 64 * 1024) -> bytes:
    head = build_request("POST", path, None, [("Transfer-Encoding", "chunked")])
    parts = [head]
    for start in range(0, len(body), chunk):
        piece = body[start:start + chunk]
        parts.append(b"%x\r\n" % len(piece) + piece + b"\r\n")
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


def malformed_cases() -> list[Case]:
    cases = []
    for endpoint in ("/forward", "/gradient", "/train", "/train/jobs"):
        cases.append(Case(f"empty body {endpoint}", post(endpoint, b""), 400))
        cases.append(Case(f"no Content-Length, no body {endpoint}",
                          build_request("POST", endpoint, None), 400))
    cases.append(Case("whitespace-only body", post("/forward", b" \r\n\t "), 400))
    cases.append(Case("empty object", post("/forward", b"{}"), 400, note="missing network"))
    valid = dumps(GRADIENT)
    for cut in sorted({int(len(valid) * i / 20) for i in range(1, 20)} | {1, len(valid) - 1}):
        cases.append(Case(f"truncated at byte {cut}/{len(valid)}", post("/gradient", valid[:cut]), 400))
    net = '{"layers":[{"weights":[1]}]}'
    syntax = {
        "trailing comma in array": f'{{"network":{net},"input":[1,]}}',
        "trailing comma in object": f'{{"network":{net},"input":[1],}}',
        "single quotes": f"{{'network':{net},'input':[1]}}",
        "unquoted key": f'{{network:{net},"input":[1]}}',
        "NaN literal": f'{{"network":{net},"input":[NaN]}}',
        "Infinity literal": f'{{"network":{net},"input":[Infinity]}}',
        "-Infinity literal": f'{{"network":{net},"input":[-Infinity]}}',
        "leading zero": f'{{"network":{net},"input":[01]}}',
        "leading plus": f'{{"network":{net},"input":[+1]}}',
        "bare fraction": f'{{"network":{net},"input":[.5]}}',
        "dangling point": f'{{"network":{net},"input":[1.]}}',
        "dangling exponent": f'{{"network":{net},"input":[1e]}}',
        "hex number": f'{{"network":{net},"input":[0x10]}}',
        "line comment": f'{{"network":{net}, // c\n"input":[1]}}',
        "block comment": f'{{"network":{net},/* c */"input":[1]}}',
        "trailing garbage": f'{{"network":{net},"input":[1]}}x',
        "two documents": f'{{"network":{net},"input":[1]}}{{}}',
        "unterminated string": f'{{"network":{net},"input":[1],"trace":"tr',
        "raw control character in string": f'{{"network":{{"layers":[{{"weights":[1],"activation":"sig\x01moid"}}]}},"input":[1]}}',
        "invalid escape": f'{{"network":{{"layers":[{{"weights":[1],"activation":"\\x41"}}]}},"input":[1]}}',
        "short \\u escape": f'{{"network":{{"layers":[{{"weights":[1],"activation":"\\u12"}}]}},"input":[1]}}',
        "unpaired surrogate escape": f'{{"network":{{"layers":[{{"weights":[1],"activation":"\\ud800"}}]}},"input":[1]}}',
        "duplicate key": f'{{"network":{net},"input":[1],"input":[2]}}',
        "missing colon": f'{{"network" {net},"input":[1]}}',
        "missing comma": f'{{"network":{net} "input":[1]}}',
        "true misspelt": f'{{"network":{net},"input":[1],"trace":tru}}',
        "top-level array": "[]",
        "top-level null": "null",
        "top-level number": "1",
        "top-level string": '"network"',
        "top-level true": "true",
        "form-urlencoded": "network=1&input=2",
        "XML": "<network><layer/></network>",
        "NUL byte": f'{{"network":{net},"input":[1]}}\x00',
    }
    for name, body in syntax.items():
        cases.append(Case(f"malformed: {name}", post("/forward", body), 400))
    cases.append(Case("malformed JSON on /train/jobs", post("/train/jobs", '{"network":'), 400))
    cases.append(Case("content-type text/plain is still read as JSON (malformed)",
                      post("/gradient", "{", [("Content-Type", "text/plain")]), 400))
    return cases


def nesting_cases() -> list[Case]:
    n = 100_000
    net = '{"layers":[{"weights":[1]}]}'
    return [
        Case("nesting: 100,000 '['", post("/forward", b"[" * n), 400),
        Case("nesting: 100,000 '[' closed", post("/forward", b"[" * n + b"]" * n), 400),
        Case("nesting: 100,000 '{\"a\":'", post("/forward", b'{"a":' * n), 400),
        Case("nesting: 100,000 '{\"a\":' closed", post("/forward", b'{"a":' * n + b"1" + b"}" * n), 400),
        Case("nesting: 100,000 mixed '[{\"a\":'", post("/gradient", b'[{"a":' * (n // 2)), 400),
        Case("nesting: 100,000 '[' inside input", post("/forward", f'{{"network":{net},"input":'.encode()
                                                            + b"[" * n + b"1" + b"]" * n + b"}"), 400),
        Case("nesting: 100,000 '[' under an unknown field",
             post("/train", f'{{"network":{net},"x":'.encode() + b"[" * n + b"]" * n + b"}"), 400),
        Case("nesting: 100 levels inside input (below the parser's limit)",
             post("/forward", f'{{"network":{net},"input":'.encode() + b"[" * 100 + b"1" + b"]" * 100 + b"}"),
             400, note="a 100-d array is not a vector or a matrix: wrong type"),
    ]


def number_cases() -> list[Case]:
    one = '{"layers":[{"weights":[1]}]}'
    train = '{{"network":{net},"inputs":[1],"targets":[1]{extra}}}'

    def t(extra):
        return train.format(net=one, extra=extra)
    return [
        Case("1e400 in input", post("/forward", f'{{"network":{one},"input":[1e400]}}'), 422),
        Case("-1e400 in input", post("/forward", f'{{"network":{one},"input":[-1e400]}}'), 422),
        Case("1e400 in weights", post("/forward", '{"network":{"layers":[{"weights":[1e400]}]},"input":[1]}'), 422),
        Case("1e400 in biases",
             post("/forward", '{"network":{"layers":[{"weights":[1],"biases":1e400}]},"input":[1]}'), 422),
        Case("1e400 in target", post("/gradient", f'{{"network":{one},"input":[1],"target":1e400}}'), 422),
        Case("1e400 learning_rate",
             post("/gradient", f'{{"network":{one},"input":[1],"target":1,"learning_rate":1e400}}'), 422),
        Case("1e400 epochs", post("/train", t(',"epochs":1e400')), 422),
        Case("1e400 seed", post("/train", t(',"seed":1e400')), 422),
        Case("1e400 network.inputs",
             post("/forward", '{"network":{"inputs":1e400,"layers":[{"units":1}]},"input":[1]}'), 422),
        Case("1e400 units", post("/forward", '{"network":{"inputs":1,"layers":[{"units":1e400}]},"input":[1]}'), 422),
        Case("number of 100,000 digits", post("/forward", f'{{"network":{one},"input":[1{"0" * 100_000}]}}'), 422),
        Case("exponent 1e99999999999999999999",
             post("/forward", f'{{"network":{one},"input":[1e99999999999999999999]}}'), 422),
        Case("1e-400 underflows to 0 (accepted)", post("/forward", f'{{"network":{one},"input":[1e-400]}}'), 200,
             problem=False, note="representable: rounds to 0, as numpy does"),
        Case("100,000 fraction digits (accepted)",
             post("/forward", f'{{"network":{one},"input":[0.{"0" * 100_000}1]}}'), 200, problem=False),
        Case("seed 2^64", post("/train", t(',"seed":18446744073709551616')), 422),
        Case("seed -1", post("/train", t(',"seed":-1')), 422),
        Case("seed 1.5", post("/train", t(',"seed":1.5')), 422),
        Case("network seed 2^64",
             post("/forward", '{"network":{"inputs":1,"layers":[{"units":1}],"seed":18446744073709551616},"input":[1]}'),
             422),
        Case("1e308 weights: a non-finite gradient is a 422",
             post("/gradient", '{"network":{"layers":[{"weights":[1e308,1e308],"activation":"linear"}]},'
                               '"input":[1e308,1e308],"target":0}'), 422),
        Case("learning_rate 1e308 on a finite gradient: a non-finite delta is a 422",
             post("/gradient", '{"network":{"layers":[{"weights":[1],"activation":"linear"}]},'
                               '"input":[10],"target":-1e300,"learning_rate":1e308}'), 422),
    ]


def huge_array_cases() -> list[Case]:
    one = '{"layers":[{"weights":[1,1,1]}]}'
    million = ",".join(["0.5"] * 1_000_000)
    rows = ",".join(["[0.5,0.5]"] * 300_000)
    big = ",".join(["[" + ",".join(["0.01"] * 1000) + "]"] * 1000)  # 1000 x 1000 weights, 5 MB
    keys = ",".join(f'"k{i}":0' for i in range(80_000))
    return [
        Case("huge array: 1,000,000 inputs for 3", post("/forward", f'{{"network":{one},"input":[{million}]}}'), 422),
        Case("huge array: 300,000 samples of width 2 for 3",
             post("/forward", f'{{"network":{one},"input":[{rows}]}}'), 422),
        Case("huge array: 1,000,000 targets for 1 sample",
             post("/gradient", f'{{"network":{one},"input":[1,2,3],"target":[{million}]}}'), 422),
        Case("huge array: 300,000 inputs, 4 targets",
             post("/train", f'{{"network":{{"layers":[{{"weights":[1,1]}}]}},"inputs":[{rows}],"targets":[0,1,1,0]}}'),
             422),
        Case("huge array: 1000x1000 weights, input of 999",
             post("/forward", f'{{"network":{{"layers":[{{"weights":[{big}]}}]}},"input":[{",".join(["1"] * 999)}]}}'),
             422),
        Case("huge network: 2^31-1 units x 3 layers (parameter count overflow)",
             post("/forward", '{"network":{"inputs":2147483647,"layers":[{"units":2147483647},{"units":2147483647},'
                              '{"units":2147483647}]},"input":[1]}'), 422),
        Case("huge network: 100,000 x 100,000 generated", post("/forward",
             '{"network":{"inputs":100000,"layers":[{"units":100000}]},"input":[1]}'), 422),
        Case("huge network on /train/jobs", post("/train/jobs",
             '{"network":{"inputs":100000,"layers":[{"units":100000}]},"inputs":[1],"targets":[1]}'), 422),
        Case("huge object: 80,000 keys (850 KB) answered within 2 s",
             post("/forward", f'{{"network":{one},"input":[1,2,3],"x":{{{keys}}}}}'), 400, limit=2.0,
             read_timeout=30.0, bug="B3",
             note="a 400 for the unknown field; finding duplicate keys must not be quadratic"),
    ]


def body_limit_cases() -> list[Case]:
    size = DEFAULT_LIMIT + MiB  # 17 MiB
    filler = b'{"network":{"layers":[{"weights":[1]}]},"input":[' + b"1," * ((size - 60) // 2) + b"1]}"
    spaces = b'{"network":' + b" " * size + b"}"
    return [
        Case("17 MiB body /forward", post("/forward", filler), 413, limit=30),
        Case("17 MiB body /gradient (whitespace)", post("/gradient", spaces), 413, limit=30),
        Case("17 MiB body /train", post("/train", spaces), 413, limit=30),
        Case("17 MiB body /train/jobs", post("/train/jobs", spaces), 413, limit=30),
        Case("17 MiB chunked body /forward", chunked("/forward", filler), 413, limit=30),
        Case("chunked body under the limit is read", chunked("/forward", dumps(FORWARD), chunk=7), 200,
             problem=False),
    ]


def type_cases() -> list[Case]:
    cases = []
    for endpoint, base, path, kind, required in FIELDS:
        for value in WRONG[kind]:
            body = replaced(base, path, value)
            cases.append(Case(f"wrong type {endpoint} {label(path)} = {json.dumps(value)}",
                              post(endpoint, dumps(body)), 400))
        if required:  # null, and absent (an array element cannot be absent)
            cases.append(Case(f"wrong type {endpoint} {label(path)} = null (required)",
                              post(endpoint, dumps(replaced(base, path, None))), 400))
            if not isinstance(path[-1], int):
                cases.append(Case(f"missing {endpoint} {label(path)}",
                                  post(endpoint, dumps(replaced(base, path, None, delete=True))), 400))
    for endpoint, base, path in ELEMENTS:
        for value in ("x", True, None, {}):
            cases.append(Case(f"wrong element type {endpoint} {label(path)} = {json.dumps(value)}",
                              post(endpoint, dumps(replaced(base, path, value))), 400))
    unknown = [
        ("/forward", FORWARD, ()), ("/forward", FORWARD, ("network",)), ("/forward", FORWARD, ("network", "layers", 0)),
        ("/gradient", GRADIENT, ()), ("/train", TRAIN, ()), ("/train", TRAIN, ("optimizer",)),
        ("/train", TRAIN, ("validation",)), ("/train", TRAIN, ("early_stopping",)), ("/train/jobs", TRAIN, ()),
    ]
    for endpoint, base, path in unknown:
        cases.append(Case(f"unknown field {endpoint} {label(path + ('bogus',))}",
                          post(endpoint, dumps(replaced(base, path + ("bogus",), 1))), 400))
    return cases


def shape_cases() -> list[Case]:
    w32 = [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]

    def net(*layers, **extra):
        return dict({"layers": list(layers)}, **extra)
    g = lambda body: post("/gradient", dumps(body))
    f = lambda body: post("/forward", dumps(body))
    tr = lambda **fields: post("/train", dumps(dict({"network": net({"weights": [1, 1]}), "inputs": [[0, 1], [1, 0]],
                                                     "targets": [0, 1]}, **fields)))
    return [
        Case("shape: weights rows vs previous units",
             f({"network": net({"weights": [[1, 2], [3, 4]]}, {"weights": [[1], [2], [3]]}), "input": [1, 2]}), 422),
        Case("shape: input width", f({"network": net({"weights": w32}), "input": [1, 2]}), 422),
        Case("shape: batch width", f({"network": net({"weights": w32}), "input": [[1, 2, 3], [1, 2, 3, 4]]}), 422),
        Case("shape: ragged weights", f({"network": net({"weights": [[1, 2], [3]]}), "input": [1, 2]}), 422),
        Case("shape: empty weights", f({"network": net({"weights": [[]]}), "input": [1]}), 422),
        Case("shape: empty layers", f({"network": net(), "input": [1]}), 422),
        Case("shape: empty input", f({"network": net({"weights": [1]}), "input": []}), 422),
        Case("shape: biases length", f({"network": net({"weights": w32, "biases": [1, 2, 3]}), "input": [1, 2, 3]}), 422),
        Case("shape: vector biases on a one-unit vector layer",
             f({"network": net({"weights": [1, 2], "biases": [1, 2]}), "input": [1, 2]}), 422),
        Case("shape: network.inputs disagrees with weights",
             f({"network": net({"weights": w32}, inputs=2), "input": [1, 2]}), 422),
        Case("missing network.inputs with a generated first layer",
             f({"network": net({"units": 3}), "input": [1]}), 400, note="a missing required field"),
        Case("shape: weights and units both", f({"network": net({"weights": [1], "units": 1}), "input": [1]}), 422),
        Case("shape: target width", g({"network": net({"weights": w32}), "input": [1, 2, 3], "target": [1, 2, 3]}), 422),
        Case("shape: target batch count",
             g({"network": net({"weights": [1, 1]}), "input": [[1, 2], [3, 4]], "target": [1, 2, 3]}), 422),
        Case("shape: train inputs vs targets count", tr(targets=[0, 1, 1]), 422),
        Case("shape: train inputs width", tr(inputs=[[0, 1, 2], [1, 0, 2]]), 422),
        Case("shape: validation width", tr(validation={"inputs": [[1, 2, 3]], "targets": [1]}), 422),
        Case("shape: validation count", tr(validation={"inputs": [[1, 2]], "targets": [1, 0]}), 422),
        Case("values: unknown activation", f({"network": net({"weights": [1], "activation": "swish"}), "input": [1]}),
             422),
        Case("values: unknown loss", g({"network": net({"weights": [1]}), "input": [1], "target": 1, "loss": "hinge"}), 422),
        Case("values: unknown init",
             f({"network": {"inputs": 1, "layers": [{"units": 2}], "init": "zeros"}, "input": [1]}), 422),
        Case("values: unknown optimizer", tr(optimizer="rmsprop"), 422),
        Case("values: softmax not last",
             f({"network": net({"weights": [[1, 2]], "activation": "softmax"}, {"weights": [1, 2]}), "input": [1]}), 422),
        Case("values: softmax with one unit", f({"network": net({"weights": [1], "activation": "softmax"}), "input": [1]}),
             422),
        Case("values: cross_entropy on linear output",
             g({"network": net({"weights": [1], "activation": "linear"}), "input": [1], "target": 1,
                "loss": "cross_entropy"}), 422),
        Case("values: cross_entropy target 2",
             g({"network": net({"weights": [1]}), "input": [1], "target": 2, "loss": "cross_entropy"}), 422),
        Case("values: softmax targets not summing to 1",
             g({"network": net({"weights": [[1, 2], [3, 4]], "activation": "softmax"}), "input": [1, 2],
                "target": [0.5, 0.6], "loss": "cross_entropy"}), 422),
        Case("values: negative learning_rate",
             g({"network": net({"weights": [1]}), "input": [1], "target": 1, "learning_rate": -1}), 422),
        Case("values: momentum 1", tr(optimizer={"name": "sgd", "momentum": 1}), 422),
        Case("values: adam beta2 -0.5", tr(optimizer={"name": "adam", "beta2": -0.5}), 422),
        Case("values: negative l2", tr(l2=-1), 422),
        Case("values: units 0", f({"network": {"inputs": 1, "layers": [{"units": 0}]}, "input": [1]}), 422),
        Case("values: inputs 0", f({"network": {"inputs": 0, "layers": [{"units": 1}]}, "input": [1]}), 422),
    ]


def absurd_training_cases() -> list[Case]:
    def tr(endpoint="/train", **fields):
        body = dict({"network": {"layers": [{"weights": [1, 1]}]}, "inputs": [[0, 1], [1, 0]], "targets": [0, 1]},
                    **fields)
        return post(endpoint, dumps(body))
    budget_net = {"inputs": 64, "layers": [{"units": 256}, {"units": 256}, {"units": 1}]}
    return [
        Case("epochs -1", tr(epochs=-1), 422),
        Case("epochs 1,000,000,001", tr(epochs=1_000_000_001), 422),
        Case("epochs 10^12", tr(epochs=10**12), 422),
        Case("epochs 2^63", tr(epochs=2**63), 422),
        Case("epochs 2^64 + 1", tr(epochs=2**64 + 1), 422),
        Case("epochs 1.5", tr(epochs=1.5), 422, note="a number, but not an integer: a value error"),
        Case("epochs \"100\"", tr(epochs="100"), 400),
        Case("epochs 10^9 on a 66k-parameter network: over the synchronous budget",
             post("/train", dumps({"network": budget_net, "inputs": [[0] * 64], "targets": [0],
                                   "epochs": 1_000_000_000})), 422),
        Case("epochs 10^12 on /train/jobs", tr("/train/jobs", epochs=10**12), 422),
        Case("epochs -1 on /train/jobs", tr("/train/jobs", epochs=-1), 422),
        Case("batch_size 0", tr(batch_size=0), 422),
        Case("batch_size -1", tr(batch_size=-1), 422),
        Case("batch_size 2^31", tr(batch_size=2**31), 422),
        Case("batch_size 2^64", tr(batch_size=2**64), 422),
        Case("batch_size 1e400", post("/train", b'{"network":{"layers":[{"weights":[1,1]}]},"inputs":[[0,1]],'
                                                b'"targets":[0],"batch_size":1e400}'), 422),
        Case("batch_size 0.5", tr(batch_size=0.5), 422),
        Case("batch_size \"2\"", tr(batch_size="2"), 400),
        Case("batch_size 2^31-1 means full batch (accepted)", tr(batch_size=2**31 - 1), 200, problem=False),
        Case("batch_size 0 on /train/jobs", tr("/train/jobs", batch_size=0), 422),
        Case("patience 0", tr(early_stopping={"patience": 0}), 422),
        Case("patience 2^40", tr(early_stopping={"patience": 2**40}), 422),
        Case("epochs 10^9 on a 2-weight network answers within 10 s",
             tr(epochs=1_000_000_000, shuffle=False), (200, 422), limit=10.0, problem=False,
             note="epochs x samples x parameters (4e9) is under the budget, but the per-epoch cost dominates: "
                  "it must be refused (422) or finish in seconds (it ran ~20 min before the estimate had fixed costs)"),
    ]


def method_cases() -> list[Case]:
    cases = []
    for path in ("/forward", "/gradient", "/train"):
        for method in ("GET", "PUT", "PATCH", "DELETE"):
            cases.append(Case(f"{method} {path}", build_request(method, path, b"{}"), 405, allow="POST"))
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        cases.append(Case(f"{method} /health", build_request(method, "/health", b"{}"), 405, allow="GET, HEAD"))
    cases += [
        Case("PUT /train/jobs", build_request("PUT", "/train/jobs", b"{}"), 405, allow="GET, HEAD, POST"),
        Case("POST /train/jobs/{id}", build_request("POST", "/train/jobs/abc", b"{}"), 405, allow="GET, HEAD, DELETE"),
        Case("DELETE /metrics", build_request("DELETE", "/metrics"), 405, allow="GET, HEAD"),
        Case("TRACE /health", build_request("TRACE", "/health"), 405, allow="GET, HEAD"),
        Case("OPTIONS /forward without a CORS preflight", build_request("OPTIONS", "/forward"), 405, allow="POST"),
        Case("PROPFIND /forward", build_request("PROPFIND", "/forward"), 405, allow="POST"),
        Case("MKCOL /train", build_request("MKCOL", "/train"), 405, allow="POST"),
        Case("CONNECT /forward", build_request("CONNECT", "/forward"), 405, allow="POST", problem=False,
             note="NIO's encoder sends a response to CONNECT without a body: status and Allow only"),
        Case("unknown method BREW", build_request("BREW", "/forward", b"{}"), 400, layer="http"),
        Case("unknown method FOOBAR", build_request("FOOBAR", "/health"), 400, layer="http"),
        Case("lower-case method", build_request("get", "/health"), 400, layer="http"),
        Case("method with '@'", build_request("G@T", "/health"), 400, layer="http"),
        Case("CORS preflight is answered", build_request("OPTIONS", "/forward", None, [
            ("Origin", "http://example.com"), ("Access-Control-Request-Method", "POST")]), (200, 204), problem=False),
    ]
    return cases


def route_cases() -> list[Case]:
    return [
        Case("GET /nope", build_request("GET", "/nope"), 404),
        Case("POST /forward/extra", post("/forward/extra", b"{}"), 404),
        Case("GET /train/jobs/{unknown}", build_request("GET", "/train/jobs/0000000000000000"), 404),
        Case("DELETE /train/jobs/{unknown}", build_request("DELETE", "/train/jobs/0000000000000000"), 404),
        Case("GET /train/jobs/{unknown}/events", build_request("GET", "/train/jobs/0000000000000000/events"), 404),
        Case("GET /train/jobs/{50 KB id}", build_request("GET", "/train/jobs/" + "a" * 50_000), 404),
        Case("path traversal ../", build_request("GET", "/playground/../../Package.swift"), 404),
        Case("path traversal %2e%2e%2f", build_request("GET", "/playground/%2e%2e%2f%2e%2e%2fPackage.swift"), 404),
        Case("path traversal ..%2f", build_request("GET", "/playground/..%2fopenapi.yaml"), 404),
        Case("30,000 path segments", build_request("GET", "/" + "a/" * 30_000), 404),
        Case("?pretty=maybe", post("/forward?pretty=maybe", dumps(FORWARD)), 400),
        Case("?pretty=true (accepted)", post("/forward?pretty=true", dumps(FORWARD)), 200, problem=False),
    ]


def http_layer_cases() -> list[Case]:
    h = lambda headers, path="/health": build_request("GET", path, None, headers)
    return [
        Case("oversized header: one 100 KB value", h([("X-Big", "a" * 100_000)]), 400, layer="http",
             note="NIO's header limit (80 KiB); 431 would be nicer"),
        Case("oversized header: 100 KB Cookie", h([("Cookie", "c=" + "a" * 100_000)]), 400, layer="http"),
        Case("oversized header: 2,000 fields", h([(f"X-H{i}", "v") for i in range(2_000)]), 400, layer="http"),
        Case("oversized header: 100 KB URL", h([], "/health?" + "a" * 100_000), 400, layer="http"),
        Case("header of 60 KB is under the limit (accepted)", h([("X-Big", "a" * 60_000)]), 200, problem=False),
        Case("header line without a colon", b"GET /health HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", 400,
             layer="http"),
        Case("space in a header name", b"GET /health HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n", 400, layer="http"),
        Case("Content-Length and Transfer-Encoding", b"POST /forward HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, layer="http"),
        Case("two different Content-Lengths", b"POST /forward HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
             b"Content-Length: 3\r\n\r\n{}", 400, layer="http"),
        Case("negative Content-Length", b"POST /forward HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400,
             layer="http"),
        Case("invalid chunk size", b"POST /forward HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
             400, bug="B1", note="the parser fails mid-body, after the route is chosen"),
        Case("body shorter than Content-Length, then half-close",
             b'POST /forward HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a":', 400, half_close=True, bug="B2",
             note="the client ended its input mid-body"),
        Case("invalid UTF-8 in the path", b"GET /heal\xffth HTTP/1.1\r\nHost: x\r\n\r\n", 400, layer="http"),
        Case("HTTP/2 preface on HTTP/1", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, layer="http"),
        Case("TLS ClientHello on plain HTTP", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 100, 400,
             layer="http"),
        Case("HTTP/1.0 without Host (accepted)", b"GET /health HTTP/1.0\r\n\r\n", 200, problem=False),
    ]


def utf8_cases() -> list[Case]:
    net = b'{"layers":[{"weights":[1],"activation":"%s"}]}'

    def act(raw: bytes) -> bytes:
        return post("/forward", b'{"network":' + net % raw + b',"input":[1]}')
    return [
        Case("invalid UTF-8: 0xFF in a string", act(b"sig\xffmoid"), 400),
        Case("invalid UTF-8: lone continuation byte", act(b"\x80"), 400),
        Case("invalid UTF-8: overlong '/' (C0 AF)", act(b"\xc0\xaf"), 400),
        Case("invalid UTF-8: encoded surrogate (ED A0 80)", act(b"\xed\xa0\x80"), 400),
        Case("invalid UTF-8: truncated sequence at the end of a string", act(b"sigmoid\xe2\x82"), 400),
        Case("invalid UTF-8: code point above U+10FFFF", act(b"\xf4\x90\x80\x80"), 400),
        Case("invalid UTF-8 in a key", post("/forward", b'{"net\xffwork":{},"input":[1]}'), 400),
        Case("invalid UTF-8 outside strings", post("/forward", b'{"network":\xff}'), 400),
        Case("UTF-8 BOM", post("/forward", b"\xef\xbb\xbf" + dumps(FORWARD)), 400,
             note="RFC 8259: a BOM must not be sent; this strict parser refuses it"),
        Case("UTF-16 body", post("/forward", b"\xff\xfe" + dumps(FORWARD).decode().encode("utf-16-le")), 400),
        Case("valid non-ASCII in a name is a 422 (unknown activation)", act("sigmoïd".encode()), 422),
        Case("\\u0000 in a name is a 422 (unknown activation)", act(b"\\u0000"), 422),
    ]


def positive_controls() -> list[Case]:
    return [
        Case(f"control: valid {name}", post(path, dumps(body)), status, problem=False)
        for name, path, body, status in [
            ("/forward", "/forward", FORWARD, 200), ("/forward generated", "/forward", FORWARD_GENERATED, 200),
            ("/gradient", "/gradient", GRADIENT, 200), ("/train", "/train", TRAIN, 200),
            ("/train adam", "/train", TRAIN_ADAM, 200), ("/train/jobs", "/train/jobs", TRAIN, 202),
        ]
    ]


def all_cases() -> list[Case]:
    return (positive_controls() + malformed_cases() + nesting_cases() + number_cases() + huge_array_cases()
            + body_limit_cases() + type_cases() + shape_cases() + absurd_training_cases() + method_cases()
            + route_cases() + http_layer_cases() + utf8_cases())


# ------------------------------------------------------------------ running


def send_case(port: int, case: Case, timeout: float):
    """Sends a case; returns (response or None, error text, seconds)."""
    started = time.monotonic()
    with connect(port, timeout) as sock:
        try:
            if send_all(sock, case.data, timeout) and case.half_close:
                sock.shutdown(socket.SHUT_WR)
            response = read_response(sock, bytearray(), timeout, head_request=case.data.startswith(b"HEAD "))
            return response, "", time.monotonic() - started
        except NoResponse as error:
            return None, str(error), time.monotonic() - started


def judge(case: Case, response, error: str, seconds: float) -> tuple[bool, str]:
    expected = case.expect if isinstance(case.expect, tuple) else (case.expect,)
    if response is None:
        return False, f"no response ({error}) after {seconds:.1f} s; expected {expected}"
    problems = []
    if response.status not in expected:
        snippet = response.body[:200].decode("utf-8", "replace")
        problems.append(f"status {response.status}, expected {'/'.join(map(str, expected))}: {snippet}")
    if seconds > case.limit:
        problems.append(f"took {seconds:.1f} s, more than {case.limit:.0f} s")
    if case.layer == "http" and response.status == 400:
        if response.body:
            problems.append(f"HTTP-layer 400 with a body: {response.body[:100]!r}")
    elif case.problem and response.status >= 400:
        content_type = (response.header("content-type") or "").split(";")[0].strip()
        if content_type != "application/problem+json":
            problems.append(f"Content-Type {content_type!r}, expected application/problem+json")
        else:
            try:
                problem = response.json()
                if problem.get("status") != response.status:
                    problems.append(f"problem status {problem.get('status')} != {response.status}")
                for key in ("title", "detail"):
                    if not isinstance(problem.get(key), str) or not problem.get(key):
                        problems.append(f"problem without {key}")
            except ValueError:
                problems.append(f"problem body is not JSON: {response.body[:100]!r}")
    if case.allow is not None and response.status == 405:
        if response.header("allow") != case.allow:
            problems.append(f"Allow {response.header('allow')!r}, expected {case.allow!r}")
    if response.status >= 500:
        problems.append("a 5xx is a bug in the service")
    detail = f"{response.status} in {seconds * 1000:.0f} ms"
    if case.layer == "http":
        detail += ", HTTP layer"
    return not problems, "; ".join(problems) if problems else detail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, help="test a server already running on 127.0.0.1:PORT")
    parser.add_argument("--binary", default=default_binary())
    parser.add_argument("--log", help="server log file (when this script starts the server)")
    parser.add_argument("-k", dest="pattern", help="only cases whose name contains this")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for one answer")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    options = parser.parse_args()

    cases = [c for c in all_cases() if not options.pattern or options.pattern.lower() in c.name.lower()]
    if options.list:
        for case in cases:
            expected = case.expect if isinstance(case.expect, tuple) else (case.expect,)
            print(f"{'/'.join(map(str, expected)):>7}  {case.name}")
        print(f"{len(cases)} cases")
        return 0

    server = None
    if options.port:
        port = options.port
    else:
        server = Server(options.binary, log_path=options.log).start()
        port = server.port
        print(f"hostile: server {options.binary} pid {server.pid} on 127.0.0.1:{port}")
    results = Results("hostile")
    print(f"hostile: {len(cases)} cases; after each one GET /health must answer 200")
    started = time.monotonic()
    for case in cases:
        response, error, seconds = send_case(port, case, min(options.timeout, case.read_timeout or case.limit + 5))
        ok, detail = judge(case, response, error, seconds)
        if case.note and ok:
            detail += f"; {case.note}"
        healthy = health_ok(port, timeout=10)
        if server is not None and not server.alive():
            healthy = False
            detail += f"; the server exited with {server.process.returncode}"
        if not healthy:
            ok = False
            detail += "; GET /health did not answer 200 afterwards"
        if not ok and case.bug:
            detail += f" [known server bug {case.bug}, see TESTING.md]"
        results.check(ok, case.name, detail)
        if not healthy and server is not None and not server.alive():
            print("hostile: the server is gone; stopping")
            results.failed += len(cases) - results.passed - results.failed
            break
    # Whatever went before, the server answers and reports no 5xx in its metrics.
    try:
        metrics = request(port, "GET", "/metrics", timeout=10).body.decode()
        fives = server_errors_in_metrics(metrics, "500")
        results.check(not fives, "no 500 counted in /metrics", "; ".join(fives[:3]) if fives else "")
    except (OSError, NoResponse) as error:
        results.check(False, "GET /metrics after the suite", str(error))
    print(f"hostile: {time.monotonic() - started:.1f} s")
    if server is not None:
        code = server.terminate()
        results.check(code == 0, "the server exits 0 on SIGTERM after the suite", f"exit code {code}")
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
