#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# build.sh - the build steps of the broker images (Dockerfile, Alpine/musl,
# and Dockerfile.debian), kept in one script so the tests can run exactly
# these steps on the host: no Docker engine runs on the CI machines.
#
#   docker/build.sh STAGE_DIR
#
# Builds everything (`make all`) and installs it under STAGE_DIR as the
# image lays it out: /usr/lib/edge-anomaly/edge_anomaly.so, /usr/bin/
# edge-anomaly and edge-anomaly-detectord, the example detector library,
# and /mosquitto/config/{mosquitto.conf,edge-anomaly.yaml} (the defaults a
# mounted ConfigMap replaces). The build dependencies must be installed
# already (apk in Dockerfile, apt in Dockerfile.debian, install-deps.sh on
# a host). BUILD (default build) is the make build directory.
set -eu

stage=${1:?usage: docker/build.sh STAGE_DIR}
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)

make -C "$src" BUILD="$build" -j"$jobs" all
make -C "$src" BUILD="$build" PREFIX=/usr SYSCONFDIR=/etc DESTDIR="$stage" install
install -d "$stage/mosquitto/config" "$stage/mosquitto/data"
install -m 0644 "$src/docker/mosquitto.conf" "$stage/mosquitto/config/mosquitto.conf"
install -m 0644 "$src/docker/edge-anomaly.yaml" "$stage/mosquitto/config/edge-anomaly.yaml"
echo "build.sh: staged in $stage"
