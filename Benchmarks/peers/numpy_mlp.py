"""The peer of BackpropBenchmarks' mlp: the same epoch in numpy (OpenBLAS).

784-128-10 MLP, relu then softmax, cross-entropy, batch 64, plain SGD (lr 0.01),
8,192 synthetic samples shuffled every epoch, and the end-of-epoch loss over the
whole set, as Backprop's trainer reports it. Prints one JSON line.
"""
import json
import sys
import time

import numpy as np
from mlp_data import batch, hidden, inputs, lr, make, outputs, samples

repetitions = int(sys.argv[sys.argv.index("--repetitions") + 1]) if "--repetitions" in sys.argv else 5
rng = np.random.default_rng(1)
x, y, w1_0, w2_0 = make(rng)


def forward(w1, b1, w2, b2, xb):
    h1 = xb @ w1 + b1
    a1 = np.maximum(h1, 0)
    h2 = a1 @ w2 + b2
    h2 = h2 - h2.max(axis=1, keepdims=True)
    e = np.exp(h2)
    return h1, a1, h2, e / e.sum(axis=1, keepdims=True)


def epoch():
    w1, b1, w2, b2 = w1_0.copy(), np.zeros(hidden), w2_0.copy(), np.zeros(outputs)
    order = rng.permutation(samples)
    for start in range(0, samples, batch):
        index = order[start:start + batch]
        xb, yb = x[index], y[index]
        h1, a1, _, p = forward(w1, b1, w2, b2, xb)
        d2 = (p - yb) / len(xb)          # ∂loss/∂h2 of the batch mean
        gw2, gb2 = a1.T @ d2, d2.sum(axis=0)
        d1 = (d2 @ w2.T) * (h1 > 0)
        gw1, gb1 = xb.T @ d1, d1.sum(axis=0)
        w1 -= lr * gw1; b1 -= lr * gb1; w2 -= lr * gw2; b2 -= lr * gb2
    loss = 0.0
    for start in range(0, samples, batch):  # end-of-epoch loss, in batches as Backprop does
        _, _, h2, p = forward(w1, b1, w2, b2, x[start:start + batch])
        logsumexp = np.log(np.exp(h2).sum(axis=1))
        loss += -(y[start:start + batch] * (h2 - logsumexp[:, None])).sum()
    return loss / samples


times, loss = [], 0.0
for _ in range(repetitions):
    start = time.perf_counter()
    loss = epoch()
    times.append(time.perf_counter() - start)
seconds = float(np.median(times))
parameters = inputs * hidden + hidden + hidden * outputs + outputs
print(json.dumps({"benchmark": "mlp_epoch", "peer": "numpy " + np.__version__, "seconds": seconds,
                  "gflops": 6 * parameters * samples / seconds / 1e9, "loss": loss}))
