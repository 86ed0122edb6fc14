"""The HTTP peer: POST /gradient for networks like the seed's (and POST /forward), in FastAPI + numpy,
served by uvicorn with one worker. Same shapes as Backprop's answer for the seed's
second example (a hidden layer of vectors, a one-unit output in the shorthand).

    uvicorn --app-dir Benchmarks/peers fastapi_gradient:app --port 18301 --workers 1
"""
import numpy as np
from fastapi import FastAPI, Request

app = FastAPI()


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/gradient")
async def gradient(request: Request):
    body = await request.json()
    layers = body["network"]["layers"]
    w1 = np.array(layers[0]["weights"], dtype=float)
    w2 = np.array(layers[1]["weights"], dtype=float)
    x = np.array(body["input"], dtype=float)
    target = float(body["target"])
    lr = float(body.get("learning_rate", 0.1))
    h1 = x @ w1
    a1 = sigmoid(h1)
    out = sigmoid(a1 @ w2)
    error = target - out
    output_term = error * out * (1 - out)
    hidden_term = output_term * w2 * a1 * (1 - a1)
    grad2 = -output_term * a1
    grad1 = -(x[:, None] * hidden_term[None, :])
    return {
        "output": float(out), "error": float(error), "loss": float(0.5 * error * error),
        "layers": [
            {"error_term": hidden_term.tolist(), "weight_gradient": grad1.tolist(), "weight_delta": (-lr * grad1).tolist()},
            {"error_term": float(output_term), "weight_gradient": grad2.tolist(), "weight_delta": (-lr * grad2).tolist()},
        ],
    }


def relu(x):
    return np.maximum(x, 0)


def softmax(x):
    shifted = np.exp(x - x.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


ACTIVATIONS = {"sigmoid": sigmoid, "relu": relu, "softmax": softmax, "tanh": np.tanh}


@app.post("/forward")
async def forward(request: Request):
    """The /forward benchmark's peer (Benchmarks/peers/forward_body.py's body): a batch
    through dense layers with biases, answered as Backprop answers it."""
    body = await request.json()
    a = np.array(body["input"], dtype=float)
    for layer in body["network"]["layers"]:
        a = a @ np.array(layer["weights"], dtype=float) + np.array(layer.get("biases", 0.0), dtype=float)
        a = ACTIVATIONS[layer.get("activation", "sigmoid")](a)
    return {"output": a.tolist()}
