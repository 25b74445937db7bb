#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# demo.sh - edge-anomaly end to end on this machine (make demo).
#
# Starts a private mosquitto on a free loopback port with the freshly built
# plugin (build/edge_anomaly.so) and conf/demo.yaml, subscribes to the
# results (edge-anomaly/#) and prints each one as it arrives, runs
# `edge-anomaly simulate` (boiler-1 reports one impossible temperature,
# pump-2's pressure gets stuck, meter-3 goes silent), waits a few seconds
# so silent series are reported stale, then prints a summary: results by
# kind and the plugin's $SYS counters. Everything it starts is stopped and
# its temporary directory removed on exit, however it exits.
#
# Exit status: 0 when at least one out-of-range, one stuck and one stale
# anomaly were reported; 1 otherwise (with what was missing and the broker
# log's tail); 2 when something it needs is not there.
#
# Environment: DEMO_DURATION (simulate's --duration, default 20),
# DEMO_TAIL (seconds to wait after the simulation, default 7).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cli="$root/build/edge-anomaly"
plugin="$root/build/edge_anomaly.so"
config="$root/conf/demo.yaml"
duration=${DEMO_DURATION:-20}
tail_s=${DEMO_TAIL:-7}

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 2; }

for tool in mosquitto mosquitto_sub mosquitto_pub; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found; run tools/install-deps.sh (as root) first"
done
[[ -x "$cli" ]] || die "$cli not built; run make first"
[[ -f "$plugin" ]] || die "$plugin not built; run make first"
[[ -f "$config" ]] || die "$config missing"
"$cli" check-config "$config" >/dev/null || die "$config does not load (see above)"

# ---------------------------------------------------------------------
# Cleanup: every background process is recorded here and stopped on exit.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/edge-anomaly-demo.XXXXXX")
broker_pid=""
sub_pid=""

stop_pid() { # pid, seconds to wait before SIGKILL
	local pid=$1 i
	[[ -n "$pid" ]] || return 0
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	stop_pid "$sub_pid" 2
	stop_pid "$broker_pid" 5
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------
# A free loopback port: the kernel's pick when python3 is there, else a
# random port nobody answers on.
free_port() {
	local port i
	if command -v python3 >/dev/null 2>&1 && port=$(python3 -c \
			'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' \
			2>/dev/null); then
		echo "$port"
		return 0
	fi
	for ((i = 0; i < 100; i++)); do
		port=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	return 1
}
port=$(free_port) || die "no free loopback port found"

# mosquitto started as root switches to user "mosquitto" before it loads
# plugins, so as root the plugin and its config are copied where that user
# can read them, wherever this checkout lives.
if [[ $(id -u) -eq 0 ]]; then
	chmod 0755 "$tmp"
	install -m 0644 "$plugin" "$tmp/edge_anomaly.so"
	install -m 0644 "$config" "$tmp/demo.yaml"
	plugin="$tmp/edge_anomaly.so"
	config="$tmp/demo.yaml"
fi

cat >"$tmp/mosquitto.conf" <<EOF
# edge-anomaly demo broker (temporary)
per_listener_settings false
listener $port 127.0.0.1
allow_anonymous true
plugin $plugin
plugin_opt_config $config
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
EOF

log="$tmp/mosquitto.log"
results="$tmp/results.log"

say "starting mosquitto on 127.0.0.1:$port with $(basename "$plugin") and conf/demo.yaml"
# The log is opened here (by this shell), so the broker can write it even
# after it drops privileges.
mosquitto -c "$tmp/mosquitto.conf" 2>"$log" &
broker_pid=$!

broker_log_tail() {
	echo "---- broker log (last 20 lines) ----" >&2
	tail -n 20 "$log" >&2 || true
	echo "------------------------------------" >&2
}

for ((i = 0; ; i++)); do
	if ! kill -0 "$broker_pid" 2>/dev/null; then
		say "mosquitto exited at start" >&2
		broker_pid=""
		broker_log_tail
		exit 1
	fi
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		break
	fi
	if ((i >= 50)); then
		say "mosquitto does not accept connections on port $port after 5 s" >&2
		broker_log_tail
		exit 1
	fi
	sleep 0.1
done

# ---------------------------------------------------------------------
# The subscriber: raw lines ("topic payload") into $results, and one
# readable line per result on the terminal as it arrives.
jq_line='"  \(.detectedAt[11:23] // "")  \(if .anomaly then "RAISED " else "cleared" end)  \((.kind + "            ")[0:12])  \(.namespace)/\(.device)/\(.property)  value=\(.value|tostring)  \(.reason)"'
have_jq=false
command -v jq >/dev/null 2>&1 && have_jq=true

pretty() {
	local line topic payload out
	while IFS= read -r line; do
		topic=${line%% *}
		payload=${line#* }
		[[ "$topic" == edge-anomaly/_demo/* ]] && continue
		out=""
		if $have_jq; then
			out=$(jq -r "$jq_line" <<<"$payload" 2>/dev/null) || out=""
		fi
		if [[ -n "$out" ]]; then
			printf '%s\n' "$out"
		else
			printf '  %s\n' "$line"
		fi
	done
}

mosquitto_sub -h 127.0.0.1 -p "$port" -q 1 -t 'edge-anomaly/#' -v \
	> >(tee "$results" | pretty) 2>"$tmp/sub.err" &
sub_pid=$!

# The subscription is in place once a probe published after it comes back.
for ((i = 0; ; i++)); do
	mosquitto_pub -h 127.0.0.1 -p "$port" -t edge-anomaly/_demo/ready -m ready 2>/dev/null || true
	sleep 0.1
	if grep -q '^edge-anomaly/_demo/ready ' "$results" 2>/dev/null; then
		break
	fi
	if ((i >= 50)) || ! kill -0 "$sub_pid" 2>/dev/null; then
		say "the results subscriber did not start:" >&2
		cat "$tmp/sub.err" >&2 || true
		broker_log_tail
		exit 1
	fi
done

say "simulating for ${duration}s; results as they arrive:"
sim_rc=0
"$cli" simulate --port "$port" --duration "$duration" || sim_rc=$?
if ((sim_rc > 128)); then
	say "interrupted" >&2
	exit "$sim_rc"
elif ((sim_rc != 0)); then
	say "simulate failed (exit $sim_rc)" >&2
	broker_log_tail
	exit 1
fi

say "simulation over; waiting ${tail_s}s for silent series to be reported stale"
sleep "$tail_s"

# ---------------------------------------------------------------------
# Summary
count() { # kind, true|false
	grep -v '^edge-anomaly/_demo/' "$results" | grep -F "\"kind\":\"$1\"" | grep -c -F "\"anomaly\":$2" || true
}

echo
say "results by kind (raised / cleared):"
kinds=$(grep -v '^edge-anomaly/_demo/' "$results" | grep -o '"kind":"[^"]*"' | cut -d'"' -f4 | sort -u || true)
if [[ -z "$kinds" ]]; then
	echo "  (none)"
fi
for kind in $kinds; do
	printf '  %-14s %4s raised  %4s cleared\n' "$kind" "$(count "$kind" true)" "$(count "$kind" false)"
done

echo
say "plugin counters, as last published (every 5s, retained):"
# Retained messages come first; --retained-only stops at the first live
# one, -W when none comes.
# shellcheck disable=SC2016 # '$SYS' is a topic, not a variable
mosquitto_sub -h 127.0.0.1 -p "$port" --retained-only -W 2 -t '$SYS/broker/edge-anomaly/#' -v 2>/dev/null \
	| sed -e 's|^[$]SYS/broker/edge-anomaly/|  |' || true

echo
say "broker log, plugin lines:"
grep -E '^[0-9]+: edge-anomaly' "$log" | tail -n 10 | sed -e 's/^/  /' || true

missing=()
for kind in out-of-range stuck stale; do
	if [[ $(count "$kind" true) -eq 0 ]]; then
		missing+=("$kind")
	fi
done
echo
if ((${#missing[@]} > 0)); then
	list=$(printf '%s, ' "${missing[@]}")
	say "FAILED: no anomaly of kind ${list%, } was reported" >&2
	broker_log_tail
	exit 1
fi
say "OK: out-of-range, stuck and stale anomalies were all reported"
