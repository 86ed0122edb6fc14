"""The JAX peer of BackpropBenchmarks' mlp: the same epoch as numpy_mlp.py, with the
whole epoch (the batch loop as a `lax.scan`, the gathers through the permutation, the
SGD updates and the end-of-epoch loss over the whole set) compiled by XLA, in float64.
The permutation is drawn each epoch, as Backprop's trainer and the numpy peer do. The
first call compiles and is not timed. Prints one JSON line.

    pip install "jax[cpu]"; python3 jax_mlp.py [--shape mnist|narrow|wide] [--repetitions N]
    XLA_FLAGS=--xla_cpu_max_isa=AVX2 python3 jax_mlp.py   # held to AVX2
"""
import json
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from mlp_data import arguments, make  # noqa: E402

shape, repetitions = arguments()
rng = np.random.default_rng(1)
x_host, y_host, weights_host = make(rng, shape)
weights_0 = [jnp.asarray(w) for w in weights_host]
x, y = jnp.asarray(x_host), jnp.asarray(y_host)
hidden = jax.nn.relu if shape.hidden == "relu" else jnp.tanh


def forward(parameters, xb):
    """Each layer's weighted inputs h and outputs a (the last a: softmax or linear)."""
    hs, activations = [], [xb]
    for index, (w, b) in enumerate(parameters):
        h = activations[-1] @ w + b
        hs.append(h)
        last = index == len(parameters) - 1
        activations.append((jax.nn.softmax(h, axis=1) if shape.output == "softmax" else h) if last else hidden(h))
    return hs, activations


def step(parameters, index):
    xb, yb = x[index], y[index]
    hs, activations = forward(parameters, xb)
    d = (activations[-1] - yb) / shape.batch
    updated = list(parameters)
    for layer in range(len(parameters) - 1, -1, -1):
        w, b = parameters[layer]
        gw, gb = activations[layer].T @ d, d.sum(axis=0)
        if layer > 0:
            back = d @ w.T
            d = back * (hs[layer - 1] > 0) if shape.hidden == "relu" else back * (1 - activations[layer] ** 2)
        updated[layer] = (w - shape.lr * gw, b - shape.lr * gb)
    return updated, None


@jax.jit
def epoch(order):
    parameters = [(w, jnp.zeros(w.shape[1])) for w in weights_0]
    parameters, _ = jax.lax.scan(step, parameters, order.reshape(shape.samples // shape.batch, shape.batch))
    hs, activations = forward(parameters, x)
    if shape.output == "softmax":
        return -(y * jax.nn.log_softmax(hs[-1], axis=1)).sum() / shape.samples
    return 0.5 * ((y - activations[-1]) ** 2).sum() / shape.samples


epoch(jnp.asarray(rng.permutation(shape.samples))).block_until_ready()  # compile
times, loss = [], 0.0
for _ in range(repetitions):
    start = time.perf_counter()
    loss = float(epoch(jnp.asarray(rng.permutation(shape.samples))).block_until_ready())
    times.append(time.perf_counter() - start)
seconds = float(np.median(times))
print(json.dumps({"benchmark": "mlp_epoch", "shape": shape.name, "peer": "jax " + jax.__version__ + " (jit, float64)",
                  "seconds": seconds, "gflops": 6 * shape.parameters * shape.samples / seconds / 1e9, "loss": loss}))
