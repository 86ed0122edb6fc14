"""The Open Inference Protocol routes (/v2) against clients nobody here wrote.

tritonclient[http]'s InferenceServerClient and the kserve SDK's InferenceRESTClient
infer on a stored network, in JSON and with binary tensor data, and every output is
compared with /forward's on the same network and the same samples: bitwise for FP64,
the nearest float for FP32. Run by .ci/inference.sh, which starts the server and
sets INFERENCE_BASE_URL.
"""

import asyncio
import json
import os
import urllib.error
import urllib.request

import numpy as np
import pytest

import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

BASE = os.environ["INFERENCE_BASE_URL"].rstrip("/")
MODEL = "oip-mlp"
NETWORK = {"inputs": 4, "layers": [{"units": 8}, {"units": 3, "activation": "linear"}], "seed": 11}


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    return status, json.loads(raw) if raw else None


def forward(samples):
    """/forward's output on the stored network, as float64 (Python's JSON reader is exact)."""
    status, body = call("POST", "/forward", {"network": {"name": MODEL}, "input": samples.tolist()})
    assert status == 200, body
    return np.array(body["output"], dtype=np.float64)


def same_bits(a, b):
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a.view(np.uint8), b.view(np.uint8))


@pytest.fixture(scope="module", autouse=True)
def stored_network():
    status, body = call("PUT", f"/networks/{MODEL}", NETWORK)
    assert status == 201, body
    yield
    call("DELETE", f"/networks/{MODEL}")


@pytest.fixture(scope="module")
def samples():
    return np.random.default_rng(20261207).standard_normal((17, 4))


@pytest.fixture(scope="module")
def client():
    client = triton.InferenceServerClient(url=BASE.removeprefix("http://"))
    yield client
    client.close()


# ---- tritonclient[http] ----


def test_triton_health_and_metadata(client):
    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.get_server_metadata()["extensions"] == ["binary_tensor_data"]
    assert client.is_model_ready(MODEL)
    assert client.is_model_ready(MODEL, "1")
    assert not client.is_model_ready("no-such-model")
    metadata = client.get_model_metadata(MODEL)
    assert metadata["name"] == MODEL and metadata["versions"] == ["1"]
    assert metadata["inputs"] == [{"name": "input", "datatype": "FP64", "shape": [-1, 4]}]
    assert metadata["outputs"] == [{"name": "output", "datatype": "FP64", "shape": [-1, 3]}]
    assert client.get_model_metadata(MODEL, "1") == metadata


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_triton_infer_fp64_is_forward_bitwise(client, samples, binary):
    tensor = triton.InferInput("input", list(samples.shape), "FP64")
    tensor.set_data_from_numpy(samples, binary_data=binary)
    outputs = None if binary else [triton.InferRequestedOutput("output", binary_data=False)]
    result = client.infer(MODEL, [tensor], outputs=outputs, request_id="req-7")
    response = result.get_response()
    assert response["model_name"] == MODEL and response["model_version"] == "1" and response["id"] == "req-7"
    assert ("binary_data_size" in response["outputs"][0].get("parameters", {})) == binary
    assert same_bits(result.as_numpy("output"), forward(samples))


def test_triton_infer_with_version_and_binary_output_requested(client, samples):
    tensor = triton.InferInput("input", list(samples.shape), "FP64")
    tensor.set_data_from_numpy(samples, binary_data=False)
    result = client.infer(
        MODEL, [tensor], model_version="1", outputs=[triton.InferRequestedOutput("output", binary_data=True)])
    assert same_bits(result.as_numpy("output"), forward(samples))


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_triton_infer_fp32_input(client, samples, binary):
    as_float = samples.astype(np.float32)
    tensor = triton.InferInput("input", list(samples.shape), "FP32")
    tensor.set_data_from_numpy(as_float, binary_data=binary)
    result = client.infer(MODEL, [tensor], outputs=[triton.InferRequestedOutput("output", binary_data=binary)])
    # The server computes in FP64 on the floats widened: /forward on the same values.
    assert same_bits(result.as_numpy("output"), forward(as_float.astype(np.float64)))


def test_triton_errors(client, samples):
    tensor = triton.InferInput("input", list(samples.shape), "FP64")
    tensor.set_data_from_numpy(samples)
    with pytest.raises(InferenceServerException) as unknown:
        client.infer("no-such-model", [tensor])
    assert unknown.value.status() == "404" and "no-such-model" in unknown.value.message()
    wrong = triton.InferInput("input", [17, 2], "FP64")
    wrong.set_data_from_numpy(samples.reshape(34, 2)[:17])
    with pytest.raises(InferenceServerException) as shape:
        client.infer(MODEL, [wrong])
    assert shape.value.status() == "400" and "[-1, 4]" in shape.value.message()
    with pytest.raises(InferenceServerException) as version:
        client.get_model_metadata(MODEL, "2")
    assert version.value.status() == "404"


# ---- kserve SDK (InferenceRESTClient, InferRequest) ----


def kserve_run(work):
    """Runs `work(client)` on a fresh v2 InferenceRESTClient (the client is asynchronous)."""
    from kserve import InferenceRESTClient, RESTConfig

    async def main():
        client = InferenceRESTClient(RESTConfig(protocol="v2", timeout=30))
        try:
            return await work(client)
        finally:
            await client.close()

    return asyncio.run(main())


def test_kserve_health():
    async def work(client):
        return (await client.is_server_live(BASE), await client.is_server_ready(BASE),
                await client.is_model_ready(BASE, MODEL), await client.is_model_ready(BASE, "no-such-model"))

    assert kserve_run(work) == (True, True, True, False)


@pytest.mark.parametrize("binary_in", [True, False], ids=["binary-in", "json-in"])
@pytest.mark.parametrize("binary_out", [True, False], ids=["binary-out", "json-out"])
def test_kserve_infer_fp64_is_forward_bitwise(samples, binary_in, binary_out):
    from kserve import InferInput, InferRequest
    from kserve.protocol.infer_type import RequestedOutput

    tensor = InferInput("input", list(samples.shape), "FP64")
    tensor.set_data_from_numpy(samples, binary_data=binary_in)
    request = InferRequest(
        MODEL, [tensor], request_id="kserve-1",
        request_outputs=[RequestedOutput("output", parameters={"binary_data": binary_out})])

    async def work(client):
        headers = {}
        response = await client.infer(BASE, request, model_name=MODEL, response_headers=headers)
        return response, headers

    response, headers = kserve_run(work)
    assert response.model_name == MODEL and response.id == "kserve-1"
    assert ("inference-header-content-length" in headers) == binary_out
    output = response.get_output_by_name("output")
    assert output.datatype == "FP64" and output.shape == [17, 3]
    assert same_bits(output.as_numpy(), forward(samples))


def test_kserve_infer_fp32(samples):
    from kserve import InferInput, InferRequest
    from kserve.protocol.infer_type import RequestedOutput

    as_float = samples.astype(np.float32)
    tensor = InferInput("input", list(samples.shape), "FP32")
    tensor.set_data_from_numpy(as_float, binary_data=True)
    request = InferRequest(
        MODEL, [tensor],
        request_outputs=[RequestedOutput("output", parameters={"binary_data": True, "datatype": "FP32"})])

    async def work(client):
        return await client.infer(BASE, request, model_name=MODEL)

    output = kserve_run(work).get_output_by_name("output")
    assert output.datatype == "FP32"
    # FP32 asked for: each value the nearest float of /forward's on the widened floats.
    assert same_bits(output.as_numpy(), forward(as_float.astype(np.float64)).astype(np.float32))


def test_kserve_errors(samples):
    import httpx
    from kserve import InferInput, InferRequest

    tensor = InferInput("wrong-name", list(samples.shape), "FP64")
    tensor.set_data_from_numpy(samples, binary_data=True)

    async def work(client):
        errors = []
        for model in ("no-such-model", MODEL):
            try:
                await client.infer(BASE, InferRequest(model, [tensor]), model_name=model)
            except httpx.HTTPStatusError as error:
                errors.append((error.response.status_code, str(error)))
        return errors

    (unknown_status, unknown), (bad_status, bad) = kserve_run(work)
    assert unknown_status == 404 and 'there is no model named "no-such-model"' in unknown
    assert bad_status == 400 and 'no input "wrong-name"' in bad
