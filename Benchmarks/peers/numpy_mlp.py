"""The peer of BackpropBenchmarks' mlp: the same epoch in numpy (OpenBLAS).

One of mlp_data.py's shapes (`--shape mnist|narrow|wide`), plain SGD (lr 0.01), the
samples shuffled every epoch (a gather through the permutation, batch by batch), and
the end-of-epoch loss over the whole set, as Backprop's trainer reports it. Prints one
JSON line.
"""
import json
import time

import numpy as np
from mlp_data import arguments, make

shape, repetitions = arguments()
rng = np.random.default_rng(1)
x, y, weights_0 = make(rng, shape)
relu = shape.hidden == "relu"


def forward(weights, biases, xb):
    """Each layer's weighted inputs h and outputs a (the last a: softmax or linear)."""
    hs, activations = [], [xb]
    for index, (w, b) in enumerate(zip(weights, biases)):
        h = activations[-1] @ w + b
        hs.append(h)
        if index < len(weights) - 1:
            activations.append(np.maximum(h, 0) if relu else np.tanh(h))
        elif shape.output == "softmax":
            e = np.exp(h - h.max(axis=1, keepdims=True))
            activations.append(e / e.sum(axis=1, keepdims=True))
        else:
            activations.append(h)
    return hs, activations


def epoch():
    weights = [w.copy() for w in weights_0]
    biases = [np.zeros(w.shape[1]) for w in weights]
    order = rng.permutation(shape.samples)
    for start in range(0, shape.samples, shape.batch):
        index = order[start:start + shape.batch]
        xb, yb = x[index], y[index]
        hs, activations = forward(weights, biases, xb)
        d = (activations[-1] - yb) / len(xb)  # ∂loss/∂h of the batch mean, both losses
        for layer in range(len(weights) - 1, -1, -1):
            gw, gb = activations[layer].T @ d, d.sum(axis=0)
            if layer > 0:
                back = d @ weights[layer].T
                h = hs[layer - 1]
                d = back * (h > 0) if relu else back * (1 - activations[layer] ** 2)
            weights[layer] -= shape.lr * gw
            biases[layer] -= shape.lr * gb
    loss = 0.0
    for start in range(0, shape.samples, shape.batch):  # end-of-epoch loss, in batches as Backprop does
        hs, activations = forward(weights, biases, x[start:start + shape.batch])
        yb = y[start:start + shape.batch]
        if shape.output == "softmax":
            h = hs[-1]
            logsumexp = np.log(np.exp(h - h.max(axis=1, keepdims=True)).sum(axis=1)) + h.max(axis=1)
            loss += -(yb * (h - logsumexp[:, None])).sum()
        else:
            loss += 0.5 * ((yb - activations[-1]) ** 2).sum()
    return loss / shape.samples


times, loss = [], 0.0
for _ in range(repetitions):
    start = time.perf_counter()
    loss = epoch()
    times.append(time.perf_counter() - start)
seconds = float(np.median(times))
print(json.dumps({"benchmark": "mlp_epoch", "shape": shape.name, "peer": "numpy " + np.__version__,
                  "seconds": seconds, "gflops": 6 * shape.parameters * shape.samples / seconds / 1e9, "loss": loss}))
