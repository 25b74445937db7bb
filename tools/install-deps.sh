#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# install-deps.sh - installs the Debian 12 packages edge-anomaly needs to
# build, test and run its demo (make deps, make demo, .ci/run).
#
# Checks each package with dpkg-query. Nothing missing: says so, exit 0.
# Missing and root: one `apt-get update`, then `apt-get install -y
# --no-install-recommends` of exactly the missing packages. Missing and not
# root: prints the command to run and exits 1. Services the packages may
# start (mosquitto's) are left alone: the demo and the tests run their own
# brokers on free ports.
set -euo pipefail

packages=(
	build-essential
	pkg-config
	mosquitto
	mosquitto-clients
	mosquitto-dev
	libmosquitto-dev
	libcjson-dev
	libyaml-dev
	libcunit1-dev
	libgrpc-dev
	libprotobuf-c-dev
	libsqlite3-dev
	libcurl4-openssl-dev
	protobuf-c-compiler
	openssl
	python3-paho-mqtt
	python3-grpcio
	python3-pil
	python3-pandas
	chromium
	valgrind
)

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "install-deps: dpkg-query not found; this script is for Debian 12 (or a derivative)." >&2
	echo "install-deps: install the equivalents of: ${packages[*]}" >&2
	exit 1
fi

missing=()
for pkg in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	if [[ "$status" != "install ok installed" ]]; then
		missing+=("$pkg")
	fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
	echo "install-deps: all ${#packages[@]} required packages are installed."
	exit 0
fi

echo "install-deps: missing packages: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: not root; run this, then try again:" >&2
	echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
echo "install-deps: installed: ${missing[*]}"
