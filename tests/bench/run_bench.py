#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Broker benchmark for edge-anomaly (`make bench`).

Runs three set-ups side by side, alternating A/B/C in every round so that
machine noise falls on all of them alike:

  plain   - mosquitto alone
  plugin  - mosquitto with build/edge_anomaly.so and its default chain
  extsub  - mosquitto plus an external subscriber process running the same
            detector library (build/bench-extsub), the route without a plugin

For each it reports broker-process CPU microseconds per delivered message at
fixed rates (plugin threads count: they live in the broker process; for
extsub the subscriber's CPU is reported too), saturation throughput,
publish-to-subscriber latency p50/p99, the plugin's result latency (bad
sample published -> anomaly result received) idle and under load, and the
plugin's memory per 1,000 series. Ratios are against plain mosquitto.
Then runs the engine benchmark (build/bench-engine, one core, no broker)
and appends its section. Writes build/bench/results.json and
build/bench/results.md.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build")
PLUGIN = os.path.join(BUILD, "edge_anomaly.so")
LOADGEN = os.path.join(BUILD, "bench-loadgen")
EXTSUB = os.path.join(BUILD, "bench-extsub")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """utime + stime of a process, all its threads included."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Broker:
    """A real mosquitto on a free loopback port, with or without the plugin."""

    def __init__(self, with_plugin, config_text=None):
        self.dir = tempfile.mkdtemp(prefix="ea-bench-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true",
                 f"log_dest file {self.dir}/broker.log", "max_queued_messages 100000"]
        if os.geteuid() == 0:
            lines.append("user root")
        if with_plugin:
            lines.append(f"plugin {PLUGIN}")
            if config_text is not None:
                path = os.path.join(self.dir, "config.yaml")
                with open(path, "w") as f:
                    f.write(config_text)
                lines.append(f"plugin_opt_config {path}")
        conf = os.path.join(self.dir, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("mosquitto did not start; log: " + self.log())

    def log(self):
        try:
            with open(os.path.join(self.dir, "broker.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def loadgen(port, *args):
    out = subprocess.run([LOADGEN, "--port", str(port), *map(str, args)], capture_output=True,
                         text=True, timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(setup, rate, seconds, devices, saturate=False, probe_rate=0):
    """One run of one set-up; returns the figures of that run."""
    broker = Broker(with_plugin=(setup == "plugin"))
    ext = None
    try:
        if setup == "extsub":
            ext = subprocess.Popen([EXTSUB, "--port", str(broker.port)])
            time.sleep(0.5)
        b0 = cpu_seconds(broker.proc.pid)
        e0 = cpu_seconds(ext.pid) if ext else 0.0
        args = ["--devices", devices, "--rate", rate, "--duration", seconds]
        if saturate:
            args.append("--saturate")
        if probe_rate:
            args += ["--probe-rate", probe_rate]
        r = loadgen(broker.port, *args)
        b1 = cpu_seconds(broker.proc.pid)
        e1 = cpu_seconds(ext.pid) if ext else 0.0
        n = max(r["delivered"], 1)
        r["broker_us_per_msg"] = (b1 - b0) * 1e6 / n
        r["extsub_us_per_msg"] = (e1 - e0) * 1e6 / n
        r["total_us_per_msg"] = r["broker_us_per_msg"] + r["extsub_us_per_msg"]
        return r
    finally:
        if ext is not None:
            ext.terminate()
            ext.wait(10)
        broker.stop()


def memory_per_1000_series(series):
    """Broker RSS growth when the plugin tracks `series` new series."""
    broker = Broker(with_plugin=True)
    try:
        # warm up first: the same few series, enough messages to cycle every
        # queue slot, so that what grows afterwards is the series alone
        loadgen(broker.port, "--devices", 8, "--rate", 20000, "--duration", 2, "--namespace", "warm")
        time.sleep(1.0)
        before = rss_kib(broker.proc.pid)
        loadgen(broker.port, "--devices", series, "--rate", 20000, "--duration", max(1, series // 20000 + 1))
        time.sleep(1.5)
        after = rss_kib(broker.proc.pid)
        return (after - before) * 1000.0 / series
    finally:
        broker.stop()


def engine_bench(args):
    """Runs bench-engine (its own table on stdout); returns its Markdown lines."""
    if not args.engine_bench:
        return []
    if not os.path.exists(args.engine_bench):
        print(f"engine benchmark {args.engine_bench} not built; skipped", flush=True)
        return []
    md_path = os.path.join(args.out, "engine.md")
    subprocess.run([args.engine_bench, "--json", os.path.join(args.out, "engine.json"), "--markdown", md_path],
                   check=True)
    with open(md_path) as f:
        return f.read().splitlines()


def median(values):
    return statistics.median(values) if values else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--out", default=os.path.join(BUILD, "bench"))
    ap.add_argument("--memory-only", action="store_true", help="only measure memory per 1,000 series")
    ap.add_argument("--engine-bench", default=os.path.join(BUILD, "bench-engine"),
                    help="the engine benchmark to run after the broker rounds ('' to skip)")
    ap.add_argument("--engine-only", action="store_true", help="only run the engine benchmark")
    args = ap.parse_args()
    if args.memory_only:
        print(f"plugin memory: {memory_per_1000_series(20000):.0f} KiB per 1,000 series")
        return 0
    os.makedirs(args.out, exist_ok=True)
    if args.engine_only:
        md = engine_bench(args)
        with open(os.path.join(args.out, "results.md"), "w") as f:
            f.write("\n".join(md) + "\n")
        return 0
    setups = ["plain", "plugin", "extsub"]
    report = {"rounds": args.rounds, "seconds": args.seconds, "devices": args.devices,
              "cpus": os.cpu_count(), "fixed_rate": {}, "saturation": {}, "result_latency": {}}

    for rate in (1000, 10000):
        runs = {s: [] for s in setups}
        for rnd in range(args.rounds):
            for s in setups:
                r = measure(s, rate, args.seconds, args.devices)
                runs[s].append(r)
                print(f"rate {rate:>6}/s round {rnd + 1} {s:>6}: broker {r['broker_us_per_msg']:.2f} us/msg, "
                      f"total {r['total_us_per_msg']:.2f} us/msg, delivered {r['delivered']}/{r['sent']}, "
                      f"p50 {r['lat_p50_us']:.0f} us, p99 {r['lat_p99_us']:.0f} us", flush=True)
        summary = {}
        for s in setups:
            summary[s] = {k: median([r[k] for r in runs[s]]) for k in
                          ("broker_us_per_msg", "extsub_us_per_msg", "total_us_per_msg", "lat_p50_us",
                           "lat_p99_us", "delivered", "sent")}
            # ratio per round (A/B pairs), then the median of the ratios
            summary[s]["broker_cpu_ratio_vs_plain"] = median(
                [a["broker_us_per_msg"] / p["broker_us_per_msg"] for a, p in zip(runs[s], runs["plain"])])
            summary[s]["total_cpu_ratio_vs_plain"] = median(
                [a["total_us_per_msg"] / p["broker_us_per_msg"] for a, p in zip(runs[s], runs["plain"])])
        report["fixed_rate"][str(rate)] = summary

    runs = {s: [] for s in setups}
    for rnd in range(args.rounds):
        for s in setups:
            r = measure(s, 0, max(3, args.seconds // 2), args.devices, saturate=True)
            runs[s].append(r)
            print(f"saturation round {rnd + 1} {s:>6}: {r['delivered_per_s']:.0f} msg/s", flush=True)
    for s in setups:
        report["saturation"][s] = {
            "delivered_per_s": median([r["delivered_per_s"] for r in runs[s]]),
            "ratio_vs_plain": median([a["delivered_per_s"] / p["delivered_per_s"]
                                      for a, p in zip(runs[s], runs["plain"])]),
        }

    idle = [measure("plugin", 0, args.seconds, args.devices, probe_rate=5) for _ in range(args.rounds)]
    load = [measure("plugin", 10000, args.seconds, args.devices, probe_rate=5) for _ in range(args.rounds)]
    report["result_latency"] = {
        "idle_p50_ms": median([r["result_p50_ms"] for r in idle]),
        "idle_p99_ms": median([r["result_p99_ms"] for r in idle]),
        "load_10k_p50_ms": median([r["result_p50_ms"] for r in load]),
        "load_10k_p99_ms": median([r["result_p99_ms"] for r in load]),
        "probes": sum(r["probes"] for r in idle + load),
        "answered": sum(r["probe_results"] for r in idle + load),
    }
    report["plugin_kib_per_1000_series"] = memory_per_1000_series(20000)

    engine_md = engine_bench(args)
    if os.path.exists(os.path.join(args.out, "engine.json")):
        with open(os.path.join(args.out, "engine.json")) as f:
            report["engine"] = json.load(f)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(report, f, indent=2)
    md = ["# edge-anomaly broker benchmark", "",
          f"{args.rounds} alternating rounds of {args.seconds} s, {args.devices} devices, "
          f"{os.cpu_count()} CPUs; medians, ratios taken round by round against plain mosquitto.", "",
          "| rate | set-up | broker µs/msg | ratio | total µs/msg (broker + subscriber) | total ratio | p50 µs | p99 µs |",
          "|---|---|---|---|---|---|---|---|"]
    for rate, summary in report["fixed_rate"].items():
        for s in setups:
            x = summary[s]
            md.append(f"| {rate}/s | {s} | {x['broker_us_per_msg']:.2f} | {x['broker_cpu_ratio_vs_plain']:.3f} | "
                      f"{x['total_us_per_msg']:.2f} | {x['total_cpu_ratio_vs_plain']:.3f} | "
                      f"{x['lat_p50_us']:.0f} | {x['lat_p99_us']:.0f} |")
    md += ["", "| saturation | delivered msg/s | ratio |", "|---|---|---|"]
    for s in setups:
        x = report["saturation"][s]
        md.append(f"| {s} | {x['delivered_per_s']:.0f} | {x['ratio_vs_plain']:.3f} |")
    lat = report["result_latency"]
    md += ["", f"Result latency (bad sample published -> anomaly received): idle p50 {lat['idle_p50_ms']:.1f} ms, "
           f"p99 {lat['idle_p99_ms']:.1f} ms; at 10k msg/s p50 {lat['load_10k_p50_ms']:.1f} ms, "
           f"p99 {lat['load_10k_p99_ms']:.1f} ms ({lat['answered']}/{lat['probes']} probes answered).",
           "", f"Plugin memory: {report['plugin_kib_per_1000_series']:.0f} KiB per 1,000 series (broker RSS growth).",
           ""]
    plug10 = report["fixed_rate"]["10000"]["plugin"]
    ext10 = report["fixed_rate"]["10000"]["extsub"]
    plain10 = report["fixed_rate"]["10000"]["plain"]
    extra_plugin = plug10["total_us_per_msg"] - plain10["broker_us_per_msg"]
    extra_ext = ext10["total_us_per_msg"] - plain10["broker_us_per_msg"]
    md.append(f"At 10k msg/s the plugin adds {extra_plugin:.2f} µs of CPU per message; the external subscriber "
              f"adds {extra_ext:.2f} µs ({extra_ext / extra_plugin if extra_plugin > 0 else float('inf'):.1f}x).")
    md += [""] + engine_md
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
