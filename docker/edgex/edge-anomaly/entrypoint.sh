#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Appends the edge-anomaly plugin lines to the broker config EdgeX left in
# place (secure mode rewrites it at each start), then runs mosquitto.
set -eu
conf=${MOSQUITTO_CONF:-/mosquitto/config/mosquitto.conf}
if ! grep -q '^plugin .*edge_anomaly.so' "$conf" 2>/dev/null; then
	{
		echo "plugin /usr/lib/edge-anomaly/edge_anomaly.so"
		echo "plugin_opt_config /edge-anomaly/edge-anomaly.yaml"
	} >> "$conf"
fi
exec /usr/sbin/mosquitto -c "$conf"
