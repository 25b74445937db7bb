#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Integration tests: a real mosquitto 2.0 with build/edge_anomaly.so.
# Builds nothing (`make check-integration` runs `make all` first).
# Equivalent to, from the repo root:
#   /usr/bin/python3 -m unittest discover -s tests/integration -p 'test_*.py' -v
# and ends with the line "integration: N passed, N failed[, N skipped]".
# Arguments (optional) are test names, e.g. test_results or
# test_config.ConfigErrorTest.test_unknown_top_level_key.
# BUILD=<dir> (relative to the repo root, default build) or EA_BUILD_DIR=<path>
# chooses the build to test, e.g. BUILD=build-x tests/integration/run.sh.
# EA_IT_KEEP=1 keeps each broker's temp dir (/tmp/ea-it-*: mosquitto.conf, config.yaml,
# mosquitto.log, valgrind.log) for inspection.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

# Debian's Python: the one with python3-paho-mqtt (the pyenv python3 on PATH has no paho).
PY=/usr/bin/python3
if ! "$PY" -c 'import paho.mqtt.client' 2>/dev/null; then
	echo "integration: $PY cannot import paho.mqtt (apt-get install python3-paho-mqtt)" >&2
	echo "integration: 0 passed, 1 failed"
	exit 1
fi
export EA_BUILD_DIR="${EA_BUILD_DIR:-$root/${BUILD:-build}}"
exec "$PY" tests/integration/runner.py "$@"
