"""The README's curl examples, run against a live server, must print what the README
shows.

Every ```console block is read as commands (`$ ` lines, with their continuation lines
until the quotes close) and the output shown under each. `localhost:8080` becomes the
live server's address, and each curl gets `--max-time 120`. The output must match
exactly, but for these, stated in the README's own text or varying from run to run:

- `…` stands for text cut short (anything, across lines);
- a job id (16 hex digits) matches any job id, the same one wherever the block repeats
  it; a later command naming it is sent with the live id;
- `request_id`, `duration_ms` and timestamps match any value;
- a `curl -si` head lists some of the headers and then `…`: those must be among the
  answer's headers (names case-insensitive), in any order.

SETUP creates, before the block that names it, a job whose id the README shows but
whose creation it does not; FILES are the `-d @file` bodies the README describes in
words; SKIP lists the commands that need a state this check cannot make, with why.

Run by .ci/contract.sh:  python readme.py README.md BASE_URL
"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.request

XOR = {"network": {"inputs": 2, "layers": [{"units": 4}, {"units": 1}], "seed": 7},
       "inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [0, 1, 1, 0]}
SETUP = {"a34c712c11eb7092": {**XOR, "epochs": 3, "learning_rate": 2, "seed": 7}}
FILES = {
    "xor.json": {**XOR, "epochs": 2000, "learning_rate": 2, "optimizer": {"name": "sgd", "momentum": 0.9}, "seed": 7},
    "other.json": {**XOR, "epochs": 10, "seed": 7},
}
SKIP = {
    "with the database down": "needs the PostgreSQL store with its database down",
    "Job store unavailable": "needs the PostgreSQL store with its database down",
}
# A job id as the README shows one: 16 hex digits with a letter among them, not the
# digits of a number.
HEX_ID = re.compile(r"(?<![.\d])\b(?=[0-9]*[a-f])[0-9a-f]{16}\b")
TOKENS = re.compile(r'"request_id":"[^"]*"|"duration_ms":[-+0-9.e]+|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ|…|' + HEX_ID.pattern)


def pattern(expected):
    """A regex for the expected text, with a group per job id."""
    parts, ids, at = [], {}, 0
    for match in TOKENS.finditer(expected):
        parts.append(re.escape(expected[at:match.start()]))
        token, at = match.group(0), match.end()
        if token.startswith('"request_id"'):
            parts.append(r'"request_id":"[^"]+"')
        elif token.startswith('"duration_ms"'):
            parts.append(r'"duration_ms":[-+0-9.e]+')
        elif token == "…":
            parts.append(r"[\s\S]*?")
        elif HEX_ID.fullmatch(token):
            name = f"id_{token}"
            parts.append(f"(?P={name})" if token in ids else f"(?P<{name}>[0-9a-f]{{16}})")  # any live id
            ids[token] = name
        else:
            parts.append(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    parts.append(re.escape(expected[at:]))
    return re.compile("".join(parts))


def matches(expected, actual):
    """The README ids matched to live ids, or None if the output does not match."""
    expected, actual = expected.rstrip("\n"), actual.replace("\r\n", "\n").rstrip("\n")
    if expected.startswith("HTTP/"):
        lines = expected.split("\n")
        cut = lines.index("…")
        head, _, actual_body = actual.partition("\n\n")
        head_lines = head.split("\n")
        actual_headers = [line.split(": ", 1) for line in head_lines[1:]]
        ids = {}
        for line in lines[1:cut]:
            name, _, value = line.partition(": ")
            found = next((m for h in actual_headers
                          if h[0].lower() == name.lower() and (m := pattern(value).fullmatch(h[1]))), None)
            if found is None:
                return None
            ids.update({key[3:]: id for key, id in found.groupdict().items()})
        if cut == len(lines) - 1:  # the "…" stands for the rest of the head and the body
            return ids if lines[0] == head_lines[0] else None
        expected = "\n".join([lines[0]] + lines[cut + 1:])
        actual = head_lines[0] + "\n" + actual_body
    else:
        ids = {}
    match = pattern(expected).fullmatch(actual)
    if match is None:
        return None
    return {**ids, **{name[3:]: value for name, value in match.groupdict().items()}}


def blocks(readme):
    for block in re.findall(r"```console\n(.*?)```", readme, re.S):
        commands, lines = [], block.split("\n")
        i = 0
        while i < len(lines):
            if not lines[i].startswith("$ "):
                i += 1
                continue
            command = lines[i][2:]
            i += 1
            while True:
                try:
                    shlex.split(command, comments=True)
                    break
                except ValueError:
                    command += "\n" + lines[i]
                    i += 1
            output = []
            while i < len(lines) and not lines[i].startswith("$ "):
                output.append(lines[i])
                i += 1
            commands.append((command, "\n".join(output).strip("\n")))
        yield commands


def wait_finished(base, job):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{base}/train/jobs/{job}", timeout=10) as answer:
            if json.load(answer)["status"] not in ("queued", "running"):
                return
        time.sleep(0.05)
    sys.exit(f"readme: job {job} did not finish within 120 s")


def main():
    readme_path, base = sys.argv[1], sys.argv[2]
    readme = open(readme_path, encoding="utf-8").read()
    workdir = tempfile.mkdtemp(prefix="readme-check-")
    for name, body in FILES.items():
        with open(os.path.join(workdir, name), "w") as file:
            json.dump(body, file)
    ran, failures, skipped = 0, [], []
    for commands in blocks(readme):
        live = {}
        for readme_id, body in SETUP.items():
            if any(readme_id in command for command, _ in commands):
                request = urllib.request.Request(base + "/train/jobs", data=json.dumps(body).encode(), method="POST")
                with urllib.request.urlopen(request, timeout=10) as answer:
                    live[readme_id] = json.load(answer)["id"]
        for command, expected in commands:
            reason = next((why for text, why in SKIP.items() if text in command or text in expected), None)
            if reason:
                skipped.append(f"{command.splitlines()[0]} ({reason})")
                continue
            for readme_id, live_id in live.items():
                if readme_id in command:
                    wait_finished(base, live_id)
                    command = command.replace(readme_id, live_id)
            shell = command.replace("localhost:8080", base.removeprefix("http://"))
            shell = re.sub(r"^curl ", "curl --max-time 120 ", shell)
            result = subprocess.run(["bash", "-c", shell], cwd=workdir, capture_output=True, text=True, timeout=180)
            ran += 1
            found = matches(expected, result.stdout)
            if found is None:
                failures.append(f"$ {command}\n--- README shows:\n{expected}\n--- the server answered:\n{result.stdout}"
                                f"{result.stderr}")
                continue
            for readme_id, live_id in found.items():
                if live.setdefault(readme_id, live_id) != live_id:
                    failures.append(f"$ {command}\n--- job {readme_id} is {live_id} here, {live[readme_id]} before")
    for failure in failures:
        print("readme: an example differs:\n" + failure + "\n", file=sys.stderr)
    for skip in skipped:
        print("readme: not run: " + skip)
    print(f"readme: {ran} commands run, {ran - len(failures)} printed what the README shows, {len(skipped)} not run")
    sys.exit(1 if failures or ran == 0 else 0)


if __name__ == "__main__":
    main()
