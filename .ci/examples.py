"""Every request example in openapi.yaml, sent to a live server, must get the response
example of the same name, exactly: the same status, the same content type and the same
JSON (numbers compared as the server wrote them: 1 and 1.0 differ, and so do two
doubles one ulp apart).

Pairing: a request example named N of an operation is paired with the response example
named N among that operation's responses (shared responses and examples resolved); a
GET without parameters is sent once and its 200 examples are compared with the answer.
A request example without its response example fails, and so does a response example
paired nowhere in the spec, unless it is in UNPAIRED below, with the reason it cannot
be reproduced on demand.

Fields that vary from run to run are removed from both sides before comparing, and
must be present on both: `request_id` (a problem's request id, made per request),
`duration_ms` (wall-clock time), a job's `id` and its timestamps `created_at`,
`started_at`, `finished_at`.

Run by .ci/contract.sh:  python examples.py SPEC BASE_URL
"""
import json
import sys
import urllib.error
import urllib.request

import yaml

VARYING = {"request_id", "duration_ms", "id", "created_at", "started_at", "finished_at"}
# Response examples no request can reproduce against a fresh in-memory server.
UNPAIRED = {
    "job_store_unavailable": "needs the PostgreSQL store with its database down",
    "shutting_down": "needs the server shutting down",
    "connecting": "needs the PostgreSQL store while it connects",
    "unreachable": "needs the PostgreSQL store with its database down",
    "idempotency_key_reused": "a header, not a body: tested in IdempotencyTests and by .ci/readme.py",
    "bad_idempotency_key": "a header, not a body: tested in IdempotencyTests",
    "bad_last_event_id": "a header: tested in JobTests",
    "bad_pretty": "a query parameter: tested in EndpointTests",
    "malformed": "not JSON, so no request example can carry it: tested in ErrorTests and by .ci/readme.py",
}


def resolve(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def strip(value, path=""):
    """The JSON without the varying fields; the removed paths are returned too."""
    removed = set()

    def walk(node, where):
        if isinstance(node, dict):
            out = {}
            for key, item in node.items():
                if key in VARYING:
                    removed.add(f"{where}/{key}")
                else:
                    out[key] = walk(item, f"{where}/{key}")
            return out
        if isinstance(node, list):
            return [walk(item, f"{where}/{i}") for i, item in enumerate(node)]
        return node

    return walk(value, path), removed


def typed(value):
    """JSON with the type of every number kept, so that 1 and 1.0 compare unequal."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    if isinstance(value, (bool, type(None), str)):
        return value
    return (type(value).__name__, repr(value))


def main():
    spec_path, base = sys.argv[1], sys.argv[2]
    with open(spec_path) as file:
        spec = yaml.safe_load(file)
    compared, failures, paired, named = 0, [], set(), set()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "delete") or not isinstance(operation, dict):
                continue
            body = resolve(spec, operation.get("requestBody", {}))
            requests = body.get("content", {}).get("application/json", {}).get("examples", {})
            responses = {}
            for status, response in operation.get("responses", {}).items():
                response = resolve(spec, response)
                for media, content in response.get("content", {}).items():
                    for name, example in content.get("examples", {}).items():
                        responses.setdefault(name, (int(status), media, resolve(spec, example)["value"]))
            named |= responses.keys()
            pairs = [(name, json.dumps(resolve(spec, example)["value"]).encode(), name)
                     for name, example in requests.items()]
            if method == "get" and "{" not in path and not requests:
                pairs = [(None, None, name) for name, (status, _, _) in responses.items() if status == 200]
            for name, data, response_name in pairs:
                label = f"{method.upper()} {path} example {response_name!r}"
                if response_name not in responses:
                    failures.append(f"{label}: a request example without its response example")
                    continue
                paired.add(response_name)
                status, media, expected = responses[response_name]
                request = urllib.request.Request(base + path, data=data, method=method.upper())
                try:
                    with urllib.request.urlopen(request, timeout=120) as answer:
                        got_status, got_media, raw = answer.status, answer.headers["Content-Type"], answer.read()
                except urllib.error.HTTPError as error:
                    got_status, got_media, raw = error.code, error.headers["Content-Type"], error.read()
                got, got_removed = strip(json.loads(raw))
                want, want_removed = strip(expected)
                compared += 1
                if (got_status, got_media) != (status, media):
                    failures.append(f"{label}: got {got_status} {got_media}, expected {status} {media}")
                elif want_removed - got_removed:
                    failures.append(f"{label}: the answer lacks {sorted(want_removed - got_removed)}")
                elif typed(got) != typed(want):
                    failures.append(f"{label}: the answer differs from the example:\n  "
                                    f"got      {json.dumps(got)}\n  expected {json.dumps(want)}")
    for name in sorted(named - paired - UNPAIRED.keys()):
        failures.append(f"response example {name!r} is paired with no request example")
    for name in sorted(paired & UNPAIRED.keys()):
        failures.append(f"response example {name!r} is paired now: take it out of UNPAIRED")
    for failure in failures:
        print("examples: " + failure, file=sys.stderr)
    print(f"examples: {compared} requests sent, {len(failures)} failures; response examples not reproducible"
          f" on demand: {', '.join(sorted(UNPAIRED))}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
