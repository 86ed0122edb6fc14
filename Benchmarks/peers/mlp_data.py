"""The MLP epoch's shapes, data set and first weights, shared by the numpy and JAX
peers: 8,192 samples of 784 uniform inputs with one-hot targets over 10 classes,
Glorot-uniform weights, all from `rng` in the same order."""
import numpy as np

samples, inputs, hidden, outputs, batch, lr = 8192, 784, 128, 10, 64, 0.01


def make(rng):
    """(x, y, w1, w2) drawn from `rng`."""
    x = rng.random((samples, inputs))
    y = np.zeros((samples, outputs))
    y[np.arange(samples), rng.integers(0, outputs, samples)] = 1
    limit1, limit2 = np.sqrt(6 / inputs), np.sqrt(6 / (hidden + outputs))
    w1 = rng.uniform(-limit1, limit1, (inputs, hidden))
    w2 = rng.uniform(-limit2, limit2, (hidden, outputs))
    return x, y, w1, w2
