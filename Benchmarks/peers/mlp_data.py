"""The MLP epochs' shapes, data sets and first weights, shared by the numpy and JAX
peers (`--shape NAME`, as `BackpropBenchmarks mlp --shape NAME`):

- `mnist`: 784-128-10, relu then softmax, cross-entropy, batch 64, 8,192 samples;
- `narrow`: 2-64-64-64-1, tanh then linear, squared error, batch 32, 4,096 samples;
- `wide`: 784-1024-10, relu then softmax, cross-entropy, batch 128, 8,192 samples.

Inputs are uniform in [0, 1); targets one-hot over the classes (softmax) or uniform
(linear); weights He-uniform before a relu and Glorot-uniform elsewhere, as
Backprop's `auto` initializer draws them, biases zero; all from `rng` in the same order."""
import sys
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Shape:
    name: str
    sizes: tuple  # inputs, each layer's units
    hidden: str  # "relu" or "tanh"
    output: str  # "softmax" (cross-entropy) or "linear" (squared error, ½ Σ (y − ŷ)²)
    batch: int
    samples: int
    lr: float = 0.01

    @property
    def parameters(self):
        return sum(a * b + b for a, b in zip(self.sizes, self.sizes[1:]))


SHAPES = {
    "mnist": Shape("mnist", (784, 128, 10), "relu", "softmax", 64, 8192),
    "narrow": Shape("narrow", (2, 64, 64, 64, 1), "tanh", "linear", 32, 4096),
    "wide": Shape("wide", (784, 1024, 10), "relu", "softmax", 128, 8192),
}


def arguments():
    """(shape, repetitions) from `--shape NAME` (mnist) and `--repetitions N` (5)."""
    argv = sys.argv
    name = argv[argv.index("--shape") + 1] if "--shape" in argv else "mnist"
    repetitions = int(argv[argv.index("--repetitions") + 1]) if "--repetitions" in argv else 5
    return SHAPES[name], repetitions


def make(rng, shape):
    """(x, y, weights) drawn from `rng`."""
    x = rng.random((shape.samples, shape.sizes[0]))
    outputs = shape.sizes[-1]
    if shape.output == "softmax":
        y = np.zeros((shape.samples, outputs))
        y[np.arange(shape.samples), rng.integers(0, outputs, shape.samples)] = 1
    else:
        y = rng.random((shape.samples, outputs))
    weights = []
    for index, (fan_in, fan_out) in enumerate(zip(shape.sizes, shape.sizes[1:])):
        relu = shape.hidden == "relu" and index < len(shape.sizes) - 2
        limit = np.sqrt(6 / fan_in) if relu else np.sqrt(6 / (fan_in + fan_out))
        weights.append(rng.uniform(-limit, limit, (fan_in, fan_out)))
    return x, y, weights
