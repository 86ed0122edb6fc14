#!/usr/bin/env bash
# The suites' setup, run by .ci/run as a second lane beside its own builds and tests,
# so that the downloads and the generator's build fill the time the main lane's debug
# build leaves a core idle (downloads, linking) instead of adding to it:
#   1. the venvs of the contract, the generators and the OIP clients, and Chromium
#      with the browser suite's venv;
#   2. swift-openapi-generator's build, and the check that Sources/BackpropClient/
#      Generated is what it makes of the spec (.ci/generate-client.sh --check);
# Each step is the suite's own script with CI_PREPARE_ONLY=1, so a suite run alone
# still sets itself up. Needs the package resolved first (`swift package resolve`), so
# that two builds never resolve it at once.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
step() { printf '\n== prepare: %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }

mkdir -p .build-ci-logs
step "venvs"
CI_PREPARE_ONLY=1 bash .ci/contract.sh
CI_PREPARE_ONLY=1 bash .ci/generators.sh
CI_PREPARE_ONLY=1 bash .ci/inference.sh
CI_PREPARE_ONLY=1 bash .ci/browser.sh
step "swift-openapi-generator"
bash .ci/generate-client.sh --check
step "done"
