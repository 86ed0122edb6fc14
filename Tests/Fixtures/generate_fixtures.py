#!/usr/bin/env python3
"""Independent numpy reference for BackpropCore gradient tests.

Writes Tests/BackpropCoreTests/Fixtures/gradients.json (run from the repo root:
`python3 Tests/Fixtures/generate_fixtures.py`). Deterministic: all random values
come from numpy.random.default_rng(20261129). Everything is float64.

Semantics
---------
* A network is a list of dense layers. Layer l has weights W (n x m), an optional
  bias b (length m; absent == zero) and an activation f:
      h_l = A_{l-1} @ W_l + b_l,   A_l = f_l(h_l),   A_{-1} = X (batch x n).
* Activations: sigmoid (numerically stable), tanh, relu (f'(0) = 0), leaky_relu
  (slope 0.01, f' = 1 if h > 0 else 0.01), elu (alpha 1, f' = 1 if h >= 0 else
  exp(h)), softplus (log1p(exp(-|h|)) + max(h, 0), f' = sigmoid), linear, and
  softmax (max-shifted; last layer only, >= 2 units).
* Losses are per sample, then averaged over the batch:
    squared_error: E = 0.5 * sum_k (y_k - yhat_k)^2
    cross_entropy with sigmoid output (binary, summed over units, y in [0,1]):
        E = sum_k y_k*softplus(-h_k) + (1-y_k)*softplus(h_k)
    cross_entropy with softmax output (y rows are probability vectors):
        E = -sum_k y_k * (h_k - logsumexp(h))
* Error term delta = -dE_sample/dh (classic `(y - yhat) * f'(h)` sign):
    output, squared_error, elementwise f: delta = (y - yhat) * f'(h)
    output, squared_error, softmax:       delta_j = yhat_j*(e_j - sum_k e_k*yhat_k),
                                          e = y - yhat
    output, cross_entropy:                delta = y - yhat
    hidden layer l:                       delta_l = (delta_{l+1} @ W_{l+1}.T) * f'_l(h_l)
* weight_gradient_l = d(mean loss)/dW_l = -(A_{l-1}.T @ delta_l) / batch
  bias_gradient_l   = -sum_rows(delta_l) / batch   (null for layers without bias)

Every gradient is checked against central finite differences of the mean loss
(step 1e-6, relative error < 1e-6 with denominator max(|a|, |b|, 1e-8)); the
script aborts if any check fails. Only the finite-difference loss evaluations use
np.longdouble, to keep round-off out of the check; all fixture values are float64.
"""
import json
import os
import sys

import numpy as np

SEED = 20261129
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "BackpropCoreTests", "Fixtures", "gradients.json"))
FD_STEP = 1e-6
FD_TOL = 1e-6

ELEMENTWISE = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "linear"]
OUTPUTS = ELEMENTWISE + ["softmax"]


def sigmoid(h):
    out = np.empty_like(h)
    pos = h >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-h[pos]))
    e = np.exp(h[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def softplus(h):
    return np.log1p(np.exp(-np.abs(h))) + np.maximum(h, 0.0)


def softmax(h):
    e = np.exp(h - h.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


ACTIVATIONS = {
    "sigmoid": sigmoid,
    "tanh": np.tanh,
    "relu": lambda h: np.where(h > 0, h, 0.0),
    "leaky_relu": lambda h: np.where(h > 0, h, 0.01 * h),
    "elu": lambda h: np.where(h > 0, h, np.expm1(np.minimum(h, 0.0))),
    "softplus": softplus,
    "linear": lambda h: h.copy(),
    "softmax": softmax,
}

DERIVATIVES = {  # elementwise f'(h); softmax is handled via its Jacobian
    "sigmoid": lambda h: sigmoid(h) * (1.0 - sigmoid(h)),
    "tanh": lambda h: 1.0 - np.tanh(h) ** 2,
    "relu": lambda h: np.where(h > 0, 1.0, 0.0),
    "leaky_relu": lambda h: np.where(h > 0, 1.0, 0.01),
    "elu": lambda h: np.where(h >= 0, 1.0, np.exp(np.minimum(h, 0.0))),
    "softplus": sigmoid,
    "linear": np.ones_like,
}


def forward(layers, X):
    hs, outs, a = [], [], X
    for L in layers:
        h = a @ L["W"] + (L["b"] if L["b"] is not None else 0.0)
        a = ACTIVATIONS[L["act"]](h)
        hs.append(h)
        outs.append(a)
    return hs, outs


def mean_loss(loss, act, h, yhat, Y):
    if loss == "squared_error":
        per = 0.5 * np.sum((Y - yhat) ** 2, axis=1)
    elif act == "sigmoid":
        per = np.sum(Y * softplus(-h) + (1.0 - Y) * softplus(h), axis=1)
    else:  # softmax
        m = h.max(axis=1, keepdims=True)
        lse = m + np.log(np.sum(np.exp(h - m), axis=1, keepdims=True))
        per = -np.sum(Y * (h - lse), axis=1)
    return np.mean(per)  # keeps the input dtype (float64, or longdouble in fd_check)


def backward(layers, X, Y, loss, hs, outs):
    act, h, yhat = layers[-1]["act"], hs[-1], outs[-1]
    if loss == "cross_entropy":
        delta = Y - yhat
    elif act == "softmax":
        e = Y - yhat
        delta = yhat * (e - np.sum(e * yhat, axis=1, keepdims=True))
    else:
        delta = (Y - yhat) * DERIVATIVES[act](h)
    deltas = [None] * (len(layers) - 1) + [delta]
    for l in range(len(layers) - 2, -1, -1):
        deltas[l] = (deltas[l + 1] @ layers[l + 1]["W"].T) * DERIVATIVES[layers[l]["act"]](hs[l])
    batch, inputs = X.shape[0], [X] + outs[:-1]
    grads = [(-(a.T @ d) / batch, None if L["b"] is None else -d.sum(axis=0) / batch)
             for L, a, d in zip(layers, inputs, deltas)]
    return deltas, grads


def fd_check(layers, X, Y, loss, grads):
    """Return max relative error between analytic grads and central differences.

    The perturbed losses are evaluated in np.longdouble (80-bit on x86-64) so that
    float64 round-off in the loss (~1e-17 / 2e-6) does not swamp tiny gradients.
    """
    ext = np.longdouble
    layers = [{"W": L["W"].astype(ext), "act": L["act"],
               "b": None if L["b"] is None else L["b"].astype(ext)} for L in layers]
    X, Y = X.astype(ext), Y.astype(ext)

    def f():
        hs, outs = forward(layers, X)
        return mean_loss(loss, layers[-1]["act"], hs[-1], outs[-1], Y)

    worst = 0.0
    for L, (gW, gb) in zip(layers, grads):
        for P, G in ((L["W"], gW), (L["b"], gb)):
            if P is None:
                continue
            for idx in np.ndindex(P.shape):
                old = P[idx]
                P[idx] = old + FD_STEP
                fp = f()
                P[idx] = old - FD_STEP
                fm, P[idx] = f(), old
                num, ana = float((fp - fm) / (2 * FD_STEP)), G[idx]
                rel = abs(num - ana) / max(abs(num), abs(ana), 1e-8)
                worst = max(worst, rel)
    return worst


def case_specs():
    """Deterministic list of (activations, loss) covering the required combinations."""
    specs = []
    # depth 1: every output activation with squared error, plus both CE variants
    for out in OUTPUTS:
        specs.append(([out], "squared_error"))
    specs += [(["sigmoid"], "cross_entropy"), (["softmax"], "cross_entropy")] * 2
    # depth 2: every hidden activation, output cycling through all outputs
    for i, hid in enumerate(ELEMENTWISE):
        specs.append(([hid, OUTPUTS[(i + 3) % len(OUTPUTS)]], "squared_error"))
        specs.append(([hid, OUTPUTS[(i + 6) % len(OUTPUTS)]], "squared_error"))
        specs.append(([hid, "sigmoid"], "cross_entropy"))
        specs.append(([hid, "softmax"], "cross_entropy"))
    # depth 3
    for i, hid in enumerate(ELEMENTWISE):
        hid2 = ELEMENTWISE[(i + 2) % len(ELEMENTWISE)]
        specs.append(([hid, hid2, OUTPUTS[(i + 1) % len(OUTPUTS)]], "squared_error"))
        specs.append(([hid2, hid, ["softmax", "sigmoid"][i % 2]], "cross_entropy"))
        specs.append(([hid, ELEMENTWISE[(i + 3) % len(ELEMENTWISE)],
                       OUTPUTS[(i + 5) % len(OUTPUTS)]], "squared_error"))
    return specs


def make_case(rng, idx, acts, loss):
    batch = [1, 2, 3, 4][idx % 4]
    n_in = int(rng.integers(1, 6))
    widths = [int(rng.integers(1, 6)) for _ in acts]
    if acts[-1] == "softmax":
        widths[-1] = max(widths[-1], 2)
    bias_mode = idx % 3  # 0: all biases, 1: no biases, 2: random mix per layer
    layers, n = [], n_in
    for act, m in zip(acts, widths):
        has_b = bias_mode == 0 or (bias_mode == 2 and rng.random() < 0.5)
        W = rng.uniform(-1.0, 1.0, size=(n, m))
        b = rng.uniform(-0.5, 0.5, size=m) if has_b else None
        layers.append({"W": W, "b": b, "act": act})
        n = m
    X = rng.uniform(-2.0, 2.0, size=(batch, n_in))
    m = widths[-1]
    if acts[-1] == "softmax":  # one-hot or random probability vectors
        Y = np.eye(m)[rng.integers(0, m, size=batch)] if rng.random() < 0.5 else rng.random((batch, m))
        Y /= Y.sum(axis=1, keepdims=True)
    else:
        Y = rng.uniform(0.0 if acts[-1] == "sigmoid" else -1.0, 1.0, size=(batch, m))

    hs, outs = forward(layers, X)  # float64 reference values
    value = float(mean_loss(loss, acts[-1], hs[-1], outs[-1], Y))
    deltas, grads = backward(layers, X, Y, loss, hs, outs)
    worst = fd_check(layers, X, Y, loss, grads)
    tag = "se" if loss == "squared_error" else "ce"
    name = f"{idx:02d}-d{len(acts)}-{'-'.join(acts)}-{tag}-b{batch}"
    if worst >= FD_TOL:
        sys.exit(f"finite-difference check failed for {name}: rel err {worst:.3e}")
    lst = lambda a: None if a is None else a.tolist()  # noqa: E731 (floats round-trip via repr)
    case = {
        "name": name, "loss": loss,
        "layers": [{"weights": lst(L["W"]), "biases": lst(L["b"]), "activation": L["act"]}
                   for L in layers],
        "input": lst(X), "target": lst(Y), "output": lst(outs[-1]), "loss_value": value,
        "layer_results": [{"weighted_input": lst(h), "output": lst(a), "error_term": lst(d),
                           "weight_gradient": lst(gW), "bias_gradient": lst(gb)}
                          for h, a, d, (gW, gb) in zip(hs, outs, deltas, grads)],
    }
    return case, worst


def main():
    rng = np.random.default_rng(SEED)
    cases, worst = [], 0.0
    for idx, (acts, loss) in enumerate(case_specs()):
        case, err = make_case(rng, idx, acts, loss)
        cases.append(case)
        worst = max(worst, err)
    assert len({c["name"] for c in cases}) == len(cases)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as fh:
        json.dump({"generator": "Tests/Fixtures/generate_fixtures.py", "cases": cases}, fh, indent=1)
        fh.write("\n")
    print(f"wrote {len(cases)} cases to {OUT}; max finite-difference rel error {worst:.3e}")


if __name__ == "__main__":
    main()
