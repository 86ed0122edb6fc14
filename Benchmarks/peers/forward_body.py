"""Writes the /forward benchmark's body: a 64-128-10 network with biases (relu, then
softmax) and a batch of 32 inputs, every number with 17 significant digits, laid out
as Python's json.dumps writes it (", " and ": "). About 237 KB. Seeded, so every run
sends the same bytes.

    python3 Benchmarks/peers/forward_body.py > /tmp/backprop-forward-237k.json
"""
import json
import random


class Seventeen(float):
    """A float that json.dumps writes with 17 significant digits."""

    def __repr__(self):
        return f"{float(self):.17g}"


def matrix(rows, columns, scale, rng):
    return [[Seventeen(rng.uniform(-scale, scale)) for _ in range(columns)] for _ in range(rows)]


def body(seed=7):
    rng = random.Random(seed)
    return {
        "network": {"layers": [
            {"weights": matrix(64, 128, 0.25, rng), "biases": [Seventeen(rng.gauss(0, 0.01)) for _ in range(128)],
             "activation": "relu"},
            {"weights": matrix(128, 10, 0.2, rng), "biases": [Seventeen(rng.gauss(0, 0.01)) for _ in range(10)],
             "activation": "softmax"},
        ]},
        "input": [[Seventeen(rng.random()) for _ in range(64)] for _ in range(32)],
    }


class Encoder(json.JSONEncoder):
    def iterencode(self, o, _one_shot=False):
        # The C encoder calls float.__repr__ directly; the Python one honours the subclass.
        return json.encoder._make_iterencode(
            {}, self.default, json.encoder.py_encode_basestring_ascii, self.indent, repr, self.key_separator,
            self.item_separator, self.sort_keys, self.skipkeys, _one_shot)(o, 0)


if __name__ == "__main__":
    print(Encoder().encode(body()), end="")
