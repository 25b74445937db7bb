# SPDX-License-Identifier: Apache-2.0
"""`edge-anomaly replay`: the built CLI on generated CSV files and captures.

No broker is needed: replay drives the detector library directly. Checks
one output row per input row in order, the spike flagged where it is and
nowhere before, the four timestamp formats, routes from a config, the
capture replay through the whole pipeline, and that bad input stops with
the file and line and leaves no output behind.
"""
import csv
import datetime
import json
import os
import random
import shutil
import stat
import subprocess
import tempfile
import unittest

from broker import CLI

T0 = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)


def run(*args):
    return subprocess.run([CLI, "replay", *args], capture_output=True, text=True, timeout=60)


class ReplayCsvTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ea-replay-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def series(self, rows=300, spike_at=200, fmt="nab"):
        rnd = random.Random(7)
        lines = ["timestamp,value"]
        for i in range(rows):
            t = T0 + datetime.timedelta(minutes=i)
            if fmt == "nab":
                ts = t.strftime("%Y-%m-%d %H:%M:%S")
            elif fmt == "rfc3339":
                ts = (t + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.000+02:00")
            elif fmt == "epoch_s":
                ts = str(int(t.timestamp()))
            else:
                ts = str(int(t.timestamp() * 1000))
            value = 20.0 + rnd.gauss(0, 0.5) + (40.0 if i == spike_at else 0.0)
            lines.append("%s,%.3f" % (ts, value))
        return "\n".join(lines) + "\n"

    def read_rows(self, name):
        with open(self.path(name)) as f:
            return list(csv.reader(f))

    def test_spike_detector_flags_the_spike_row_only(self):
        src = self.write("in.csv", self.series())
        r = run("--input", src, "--output", self.path("out.csv"), "--detector", "spike")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.read_rows("out.csv")
        self.assertEqual(rows[0], ["timestamp", "value", "anomaly_score", "is_anomaly", "kind"])
        with open(src) as f:
            inputs = list(csv.reader(f))[1:]
        self.assertEqual(len(rows) - 1, len(inputs))
        for out, inp in zip(rows[1:], inputs):
            self.assertEqual(out[:2], inp)  # timestamp and value as read, same order
            self.assertTrue(0.0 <= float(out[2]) <= 1.0)
            self.assertIn(out[3], ("0", "1"))
        flagged = [i for i, row in enumerate(rows[1:]) if row[3] == "1"]
        self.assertIn(200, flagged)
        self.assertEqual([i for i in flagged if i < 200], [])
        self.assertEqual(rows[201][4], "spike")
        self.assertIn("300 rows", r.stderr)

    def test_default_chain_with_auto_without_a_config(self):
        src = self.write("in.csv", self.series(rows=600, spike_at=500))
        r = run("--input", src, "--output", self.path("out.csv"))
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.read_rows("out.csv")[1:]
        self.assertEqual(len(rows), 600)
        self.assertEqual(rows[500][3], "1")
        self.assertIn(rows[500][4], ("spike", "unusual"))

    def test_parameters_reach_the_detector(self):
        src = self.write("in.csv", self.series())
        r = run("--input", src, "--output", self.path("out.csv"), "--detector", "range", "--param", "max=21")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.read_rows("out.csv")[1:]
        expected = [float(row[1]) > 21 for row in rows]
        self.assertEqual([row[3] == "1" for row in rows], expected)
        self.assertTrue(all(row[4] == "out-of-range" for row in rows if row[3] == "1"))
        r = run("--input", src, "--output", self.path("out.csv"), "--detector", "range", "--param", "colour=red")
        self.assertEqual(r.returncode, 1)
        self.assertIn("colour", r.stderr)

    def test_output_to_a_device_is_written_not_replaced(self):
        src = self.write("in.csv", self.series(rows=20))
        r = run("--input", src, "--output", "/dev/null", "--detector", "spike")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(stat.S_ISCHR(os.stat("/dev/null").st_mode))

    def test_every_timestamp_format_gives_the_same_verdicts(self):
        verdicts = {}
        for fmt in ("nab", "rfc3339", "epoch_s", "epoch_ms"):
            src = self.write("in-%s.csv" % fmt, self.series(fmt=fmt))
            r = run("--input", src, "--output", self.path("out-%s.csv" % fmt), "--detector", "spike")
            self.assertEqual(r.returncode, 0, fmt + ": " + r.stderr)
            verdicts[fmt] = [row[2:] for row in self.read_rows("out-%s.csv" % fmt)[1:]]
        for fmt in ("rfc3339", "epoch_s", "epoch_ms"):
            self.assertEqual(verdicts[fmt], verdicts["nab"], fmt)

    def test_routes_of_a_config_apply_to_the_series(self):
        cfg = self.write("config.yaml", "routes:\n  - match: {device: pump-*, property: pressure}\n"
                         "    detectors: [{range: {max: 30}}]\n")
        src = self.write("in.csv", self.series())
        r = run("--input", src, "--output", self.path("out.csv"), "--config", cfg,
                "--device", "pump-7", "--property", "pressure")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.read_rows("out.csv")[1:]
        self.assertEqual([i for i, row in enumerate(rows) if row[3] == "1"], [200])
        self.assertEqual(rows[200][4], "out-of-range")

    def assert_input_error(self, text, *expect):
        src = self.write("bad.csv", text)
        out = self.path("bad-out.csv")
        r = run("--input", src, "--output", out)
        self.assertEqual(r.returncode, 1, r.stderr)
        for e in expect:
            self.assertIn(e, r.stderr)
        self.assertFalse(os.path.exists(out))
        self.assertEqual([n for n in os.listdir(self.dir) if "tmp" in n], [])

    def test_bad_input_names_the_file_and_line(self):
        self.assert_input_error("", "bad.csv:1:", "empty file")
        self.assert_input_error("time,val\n1,2\n", "bad.csv:1:", "header")
        self.assert_input_error("timestamp,value\n2026-11-01 00:00:00,1\nyesterday,2\n", "bad.csv:3:", "bad timestamp")
        self.assert_input_error("timestamp,value\n2026-11-01 00:00:00,warm\n", "bad.csv:2:", "bad value")
        self.assert_input_error("timestamp,value\n2026-11-01 00:00:00,1,2\n", "bad.csv:2:", "too many columns")
        self.assert_input_error("timestamp,value\n2026-11-01 00:00:00\n", "bad.csv:2:")
        self.assert_input_error("timestamp,value\n2026-13-01 00:00:00,1\n", "bad.csv:2:", "bad timestamp")

    def test_crlf_blank_lines_and_long_lines(self):
        text = "timestamp,value\r\n2026-11-01 00:00:00,1\r\n\r\n2026-11-01 00:01:00,2\r\n"
        src = self.write("in.csv", text)
        r = run("--input", src, "--output", self.path("out.csv"), "--detector", "range", "--param", "max=1.5")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.read_rows("out.csv")[1:]
        self.assertEqual([row[:2] for row in rows], [["2026-11-01 00:00:00", "1"], ["2026-11-01 00:01:00", "2"]])
        self.assertEqual([row[3] for row in rows], ["0", "1"])
        self.assert_input_error("timestamp,value\n2026-11-01 00:00:00," + "9" * 200000 + "x\n", "bad.csv:2:")

    def test_usage_errors(self):
        self.assertEqual(run().returncode, 2)
        self.assertEqual(run("--input", "a.csv").returncode, 2)
        self.assertEqual(run("--input", "a", "--capture", "b", "--output", "c").returncode, 2)
        self.assertEqual(run("--input", "a", "--output", "b", "--param", "x=1").returncode, 2)
        self.assertEqual(run("--frobnicate").returncode, 2)
        r = run("--input", self.path("missing.csv"), "--output", self.path("o.csv"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing.csv", r.stderr)
        src = self.write("in.csv", self.series(rows=5))
        r = run("--input", src, "--output", "/nonexistent-dir/out.csv")
        self.assertEqual(r.returncode, 1)
        self.assertIn("/nonexistent-dir/out.csv", r.stderr)
        help_ = subprocess.run([CLI, "help", "replay"], capture_output=True, text=True)
        self.assertEqual(help_.returncode, 0)
        self.assertIn("--capture", help_.stdout)


class ReplayCaptureTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ea-replay-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def test_capture_runs_the_whole_pipeline(self):
        cfg = os.path.join(self.dir, "config.yaml")
        with open(cfg, "w") as f:
            f.write("routes:\n  - match: {property: temp}\n"
                    "    detectors: [{range: {max: 50}}, {staleness: {interval: 30s}}]\n")
        t0 = int(T0.timestamp() * 1000)
        lines = []
        for i in range(10):
            value = 90 if i == 5 else 20
            payload = {"event_id": "e%d" % i, "timestamp": t0 + i * 1000,
                       "twin": {"temp": {"actual": {"value": str(value)}, "metadata": {"type": "int"}}}}
            # the payload once as a string, once as JSON
            lines.append(json.dumps({"topic": "$hw/events/device/boiler-1/twin/update",
                                     "payload": json.dumps(payload) if i % 2 else payload,
                                     "time": t0 + i * 1000}))
        # a minute of silence, then one more message from another device
        later = T0 + datetime.timedelta(seconds=70)
        lines.append(json.dumps({"topic": "$hw/events/device/other/twin/update",
                                 "payload": {"twin": {"x": {"actual": {"value": "1"}}}},
                                 "time": later.isoformat().replace("+00:00", "Z")}))
        src = os.path.join(self.dir, "capture.jsonl")
        with open(src, "w") as f:
            f.write("\n".join(lines) + "\n")
        out = os.path.join(self.dir, "results.jsonl")
        r = run("--capture", src, "--output", out, "--config", cfg)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out) as f:
            results = [json.loads(line) for line in f]
        kinds = [(x["result"]["kind"], x["result"]["anomaly"]) for x in results]
        topics = {x["topic"] for x in results}
        self.assertEqual(topics, {"edge-anomaly/default/boiler-1/temp"})
        self.assertIn(("out-of-range", True), kinds)
        self.assertIn(("out-of-range", False), kinds)
        self.assertIn(("stale", True), kinds)

    def test_bad_capture_line(self):
        src = os.path.join(self.dir, "capture.jsonl")
        with open(src, "w") as f:
            f.write('{"topic": "a", "payload": "{}", "time": 1}\n{"topic": 5}\n')
        out = os.path.join(self.dir, "results.jsonl")
        r = run("--capture", src, "--output", out)
        self.assertEqual(r.returncode, 1)
        self.assertIn("capture.jsonl:2:", r.stderr)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main()
