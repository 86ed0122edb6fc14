# Shared by the CI scripts that start the server (source it; bash).

# A free TCP port on 127.0.0.1.
free_port() {
    "${PY:-python3}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Stops the server whose pid is in $server_pid: SIGTERM, up to 5 s, then SIGKILL.
server_pid=
stop_server() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=
}

# Waits up to 60 s for GET $1/health to answer 200 from the server in $server_pid;
# fails, naming $2 (the calling script), if the server exits first or never answers.
wait_for_health() {
    "${PY:-python3}" - "$1" "$server_pid" "$2" <<'PYTHON'
import os, sys, time, urllib.request
base, pid, who = sys.argv[1], int(sys.argv[2]), sys.argv[3]
deadline = time.monotonic() + 60
while True:
    try:
        with urllib.request.urlopen(base + "/health", timeout=2) as response:
            if response.status == 200:
                break
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(f"{who}: the server exited before answering /health")
    if time.monotonic() > deadline:
        sys.exit(f"{who}: the server did not answer /health within 60 s")
    time.sleep(0.2)
PYTHON
}

# Installs Debian packages without starting their services (a policy-rc.d that says
# no, only while installing and only if there is none); waits for dpkg's lock if
# another install holds it. Shared by .ci/postgres.sh and .ci/nginx.sh.
_ci_apt_install() {
    (
        export DEBIAN_FRONTEND=noninteractive
        policy=
        if [[ ! -e /usr/sbin/policy-rc.d ]]; then
            policy=/usr/sbin/policy-rc.d
            trap 'rm -f "$policy"' EXIT
            trap 'exit 1' INT TERM
            printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
        fi
        for _ in 1 2 3; do
            apt-get -o DPkg::Lock::Timeout=900 update -qq >&2 && break
            sleep 5
        done
        apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "$@" >&2
    )
}
