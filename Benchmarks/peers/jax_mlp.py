"""The JAX peer of BackpropBenchmarks' mlp: the same epoch as numpy_mlp.py, with the
whole epoch (the batch loop as a `lax.scan`, the gathers through the permutation, the
SGD updates and the end-of-epoch loss over the whole set) compiled by XLA, in float64.
The permutation is drawn each epoch, as Backprop's trainer and the numpy peer do. The
first call compiles and is not timed. Prints one JSON line.

    pip install "jax[cpu]"; python3 jax_mlp.py [--repetitions N]
    XLA_FLAGS=--xla_cpu_max_isa=AVX2 python3 jax_mlp.py   # held to AVX2
"""
import json
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from mlp_data import batch, hidden, inputs, lr, make, outputs, samples  # noqa: E402

repetitions = int(sys.argv[sys.argv.index("--repetitions") + 1]) if "--repetitions" in sys.argv else 5
rng = np.random.default_rng(1)
x_host, y_host, w1_host, w2_host = make(rng)
w1_0, w2_0 = jnp.asarray(w1_host), jnp.asarray(w2_host)
x, y = jnp.asarray(x_host), jnp.asarray(y_host)


def step(parameters, index):
    w1, b1, w2, b2 = parameters
    xb, yb = x[index], y[index]
    h1 = xb @ w1 + b1
    a1 = jnp.maximum(h1, 0)
    h2 = a1 @ w2 + b2
    p = jax.nn.softmax(h2, axis=1)
    d2 = (p - yb) / batch
    gw2, gb2 = a1.T @ d2, d2.sum(axis=0)
    d1 = (d2 @ w2.T) * (h1 > 0)
    gw1, gb1 = xb.T @ d1, d1.sum(axis=0)
    return (w1 - lr * gw1, b1 - lr * gb1, w2 - lr * gw2, b2 - lr * gb2), None


@jax.jit
def epoch(order):
    parameters = (w1_0, jnp.zeros(hidden), w2_0, jnp.zeros(outputs))
    (w1, b1, w2, b2), _ = jax.lax.scan(step, parameters, order.reshape(samples // batch, batch))
    h2 = jnp.maximum(x @ w1 + b1, 0) @ w2 + b2
    return -(y * jax.nn.log_softmax(h2, axis=1)).sum() / samples


epoch(jnp.asarray(rng.permutation(samples))).block_until_ready()  # compile
times, loss = [], 0.0
for _ in range(repetitions):
    start = time.perf_counter()
    loss = float(epoch(jnp.asarray(rng.permutation(samples))).block_until_ready())
    times.append(time.perf_counter() - start)
seconds = float(np.median(times))
parameters = inputs * hidden + hidden + hidden * outputs + outputs
print(json.dumps({"benchmark": "mlp_epoch", "peer": "jax " + jax.__version__ + " (jit, float64)", "seconds": seconds,
                  "gflops": 6 * parameters * samples / seconds / 1e9, "loss": loss}))
