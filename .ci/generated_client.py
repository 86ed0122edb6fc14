"""The Python client that openapi-python-client generated from openapi.yaml, against a
live server: every operation once, the seed's figures exact, a job followed through
its event stream (read as text, each event's data decoded with its named schema), a
cancel, and null sent for unset options.

Run by .ci/generators.sh:  python generated_client.py CLIENT_DIR BASE_URL
Exits non-zero, naming the check, on the first answer that is not the expected one.
"""
import json
import sys
import time

sys.path.insert(0, sys.argv[1])
BASE = sys.argv[2]

from backprop_client import Client  # noqa: E402
from backprop_client.api.compute import forward, gradient, train  # noqa: E402
from backprop_client.api.jobs import (  # noqa: E402
    cancel_training_job, create_training_job, get_training_job, list_training_jobs, training_job_events)
from backprop_client.api.operations import health, health_live, health_ready, metrics, openapi  # noqa: E402
from backprop_client.api.playground import playground, playground_file  # noqa: E402
from backprop_client.models import (  # noqa: E402
    ForwardRequest, GradientRequest, JobCancelledEvent, JobProgressEvent, Problem, TrainRequest, TrainResponse)
from backprop_client.types import Unset  # noqa: E402

checks = 0


def expect(name, actual, expected):
    global checks
    checks += 1
    if actual != expected:
        sys.exit(f"generated client: {name}: got {actual!r}, expected {expected!r}")


client = Client(base_url=BASE, timeout=60.0, raise_on_unexpected_status=True)
SEED_NETWORK = {"layers": [{"weights": [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]}, {"weights": [0.1, -0.3]}]}

# The seed's first cell (README, docs/API.md): exact to the last digit.
answer = gradient.sync(client=client, body=GradientRequest.from_dict({
    "network": {"layers": [{"weights": [0.5, -0.5, 0.3, 0.1]}]},
    "input": [1, 2, 3, 4], "target": 0.5, "learning_rate": 0.5}))
expect("gradient single_neuron output", answer.output, 0.6899744811276125)
expect("gradient single_neuron error", answer.error, -0.1899744811276125)
expect("gradient single_neuron loss", answer.loss, 0.0180451517398528)
expect("gradient single_neuron weight_delta", answer.layers[0].weight_delta,
       [-0.020318691802303994, -0.04063738360460799, -0.06095607540691198, -0.08127476720921598])

# The seed's second cell.
answer = gradient.sync(client=client, body=GradientRequest.from_dict({
    "network": SEED_NETWORK, "input": [0.5, 0.1, -0.2], "target": 0.6, "learning_rate": 0.5}))
expect("gradient hidden_layer output", answer.output, 0.4849734308499254)
expect("gradient hidden_layer output error_term", answer.layers[1].error_term, 0.028730669543515004)
expect("gradient hidden_layer delta_w_i_h", answer.layers[0].weight_delta, [
    [0.00017700554663735332, -0.0005111785059877154],
    [3.540110932747066e-05, -0.00010223570119754309],
    [-7.080221865494133e-05, 0.00020447140239508618]])

# A traced forward pass; and null for an unset option is absence (the default).
answer = forward.sync(client=client, body=ForwardRequest.from_dict(
    {"network": SEED_NETWORK, "input": [0.5, 0.1, -0.2], "trace": True}))
expect("forward output", answer.output, 0.4849734308499254)
expect("forward hidden output", answer.layers[0].output, [0.5597136492671929, 0.38698582386066455])
answer = forward.sync(client=client, body=ForwardRequest.from_dict(
    {"network": SEED_NETWORK, "input": [0.5, 0.1, -0.2], "trace": None}))
expect("forward with trace null: no layers", (answer.output, isinstance(answer.layers, Unset)), (0.4849734308499254, True))

# A 422 is a typed problem.
answer = forward.sync(client=client, body=ForwardRequest.from_dict(
    {"network": SEED_NETWORK, "input": [1, 2]}))
expect("forward 422 is a Problem", (type(answer), answer.status, answer.pointer), (Problem, 422, "/input"))

XOR = {"network": {"inputs": 2, "layers": [{"units": 4}, {"units": 1}], "seed": 7},
       "inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [0, 1, 1, 0],
       "epochs": 3, "learning_rate": 2, "seed": 7}
answer = train.sync(client=client, body=TrainRequest.from_dict(
    {**XOR, "validation": None, "early_stopping": None, "batch_size": None}))
expect("train type", type(answer), TrainResponse)
expect("train history", answer.history.loss, [0.12689505767918735, 0.12649975482652667, 0.12628150136958605])
expect("train seed", answer.seed, 7)

# A job, followed to done through its event stream, read as text.
job = create_training_job.sync(client=client, body=TrainRequest.from_dict(XOR))
expect("job status", job.status.value, "queued")
deadline = time.monotonic() + 60
while get_training_job.sync(job.id, client=client).status.value != "succeeded":
    if time.monotonic() > deadline:
        sys.exit("generated client: the job did not succeed within 60 s")
    time.sleep(0.05)
expect("job listed", job.id in [j.id for j in list_training_jobs.sync(client=client).jobs], True)
text = training_job_events.sync(job.id, client=client)
expect("events are text", type(text), str)
events = []
for block in text.split("\n\n"):
    if block:
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((fields["id"], fields["event"], fields["data"]))
expect("event ids and kinds", [(i, e) for i, e, _ in events],
       [("1", "progress"), ("2", "progress"), ("3", "progress"), ("4", "done")])
progress = JobProgressEvent.from_dict(json.loads(events[2][2]))
expect("progress event", (progress.epoch, progress.epochs, progress.loss), (3, 3, 0.12628150136958605))
done = TrainResponse.from_dict(json.loads(events[3][2]))
expect("done event", (done.loss, done.seed), (0.12628150136958605, 7))
resumed = training_job_events.sync(job.id, client=client, last_event_id=3)
expect("resume after event 3", resumed.split("\n")[0:2], ["id: 4", "event: done"])

# A long job, cancelled; its stream ends with a cancelled event.
long_job = create_training_job.sync(client=client, body=TrainRequest.from_dict({**XOR, "epochs": 100000000}))
cancelled = cancel_training_job.sync(long_job.id, client=client)
expect("cancel answers the job", cancelled.id, long_job.id)
text = training_job_events.sync(long_job.id, client=client)
last = text.strip().split("\n\n")[-1].split("\n")
expect("last event is cancelled", last[1], "event: cancelled")
expect("cancelled reason", JobCancelledEvent.from_dict(json.loads(last[2][6:])).reason.value, "cancelled")

# The operations and the playground.
expect("health", health.sync(client=client).status.value, "ok")
expect("health live", health_live.sync(client=client).status.value, "ok")
expect("health ready", health_ready.sync(client=client).status.value, "ready")
expect("metrics", "hb_requests" in metrics.sync(client=client), True)
expect("openapi.yaml", openapi.sync(client=client).startswith("openapi: 3.1.0"), True)
expect("playground", "<html" in playground.sync(client=client).lower(), True)
expect("playground file", playground_file.sync_detailed("index.html", client=client).status_code, 200)
print(f"generated client: {checks} checks passed against {BASE}")
