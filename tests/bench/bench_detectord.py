# SPDX-License-Identifier: Apache-2.0
"""Throughput of edge-anomaly-detectord (make bench-detectord).

Streams pre-encoded DevicePropertyData messages over one StreamDetect
stream, then over several concurrent streams (python3-grpcio clients in
threads), and reports messages per second of wall time and per second of
detectord CPU time (from /proc/PID/stat): the second is the server's cost
per core, whatever the speed of the Python clients.

    /usr/bin/python3 tests/bench/bench_detectord.py [--build build] [--messages N] [--streams K]
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import grpc  # noqa: E402

from test_detectord import METHOD, decode_response, encode_data  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_streams(port, streams, per_stream):
    msgs = [[encode_data("dev-%d-%d" % (k, i % 100), "bench", "temp", "%.2f" % (20 + (i % 17) * 0.1))
             for i in range(per_stream)] for k in range(streams)]
    answered = [0] * streams
    errors = []

    def one(k):
        try:
            with grpc.insecure_channel("127.0.0.1:%d" % port) as ch:
                call = ch.stream_stream(METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)
                for r in call(iter(msgs[k]), timeout=600):
                    answered[k] += 1
                    if answered[k] == per_stream:
                        assert decode_response(r)["sequence"] == per_stream
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=one, args=(k,)) for k in range(streams)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - t0, sum(answered), errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--messages", type=int, default=40000, help="messages per run")
    ap.add_argument("--streams", type=int, default=8, help="streams in the concurrent run")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    binary = os.path.join(a.build, "edge-anomaly-detectord")
    port = free_port()
    d = tempfile.mkdtemp(prefix="ea-bench-detectord-")
    cfg = os.path.join(d, "config.yaml")
    with open(cfg, "w") as f:
        f.write("default_chain: [type, spike, stuck]\n")  # staleness needs idle checks detectord does not run
    proc = subprocess.Popen([binary, "--listen", "127.0.0.1:%d" % port, "--config", cfg],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        rows = []
        for streams in (1, a.streams):
            c0 = cpu_seconds(proc.pid)
            wall, n, errors = run_streams(port, streams, a.messages // streams)
            cpu = cpu_seconds(proc.pid) - c0
            if errors:
                print("errors: %r" % errors[:3], file=sys.stderr)
                return 1
            rows.append({"streams": streams, "messages": n, "wall_s": round(wall, 3), "msgs_per_s": round(n / wall),
                         "detectord_cpu_s": round(cpu, 3),
                         "msgs_per_cpu_s": round(n / cpu) if cpu > 0 else None})
        print("| streams | messages | wall s | msg/s (wall) | detectord CPU s | msg per detectord CPU s |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            print("| %d | %d | %.2f | %d | %.2f | %s |" % (r["streams"], r["messages"], r["wall_s"], r["msgs_per_s"],
                                                           r["detectord_cpu_s"], r["msgs_per_cpu_s"]))
        if a.json:
            with open(a.json, "w") as f:
                json.dump(rows, f, indent=1)
        return 0
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    sys.exit(main())
