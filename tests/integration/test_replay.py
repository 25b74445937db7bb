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
        # a mistake on the command line is a usage error (2), named
        for args, expect in ((("--detector", "range", "--param", "colour=red"), "colour"),
                             (("--detector", "range", "--param", "max=hot"), "max=hot"),
                             (("--detector", "range", "--param", "min=5", "--param", "max=1"), "above max"),
                             (("--detector", "range", "--param", "max"), "NAME=VALUE"),
                             (("--detector", "no-such-detector"), "no-such-detector")):
            r = run("--input", src, "--output", self.path("out2.csv"), *args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(expect, r.stderr)
            self.assertFalse(os.path.exists(self.path("out2.csv")))

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
        # values: only finite decimal numbers; nothing is skipped silently
        for value in ("", "0x10", "inf", "nan", "true", "1e400", "1.5.2", "12 C"):
            self.assert_input_error("timestamp,value\n2026-11-01 00:00:00,1\n2026-11-01 00:01:00,%s\n" % value,
                                    "bad.csv:3:", "bad value")
        # the line number counts blank lines too
        self.assert_input_error("timestamp,value\n\n2026-11-01 00:00:00,1\n\nnope,2\n", "bad.csv:5:", "bad timestamp")
        self.assert_input_error("timestamp,value,unit\n", "bad.csv:1:", "header")
        self.assert_input_error("\n", "bad.csv:1:", "header")
        # a failure after many good rows leaves no output either
        many = "".join("%d,%d\n" % (1793491200 + i, i % 7) for i in range(5000))
        self.assert_input_error("timestamp,value\n" + many + "1793496200,x\n", "bad.csv:5002:", "bad value")

    def test_unreadable_input(self):
        out = self.path("out.csv")
        r = run("--input", self.dir, "--output", out)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot read " + self.dir, r.stderr)
        self.assertFalse(os.path.exists(out))

    def test_fields_are_written_back_as_read(self):
        text = ('\ufeff"Timestamp" , "Value"\r\n'
                '"2026-11-01 00:00:00", 1.50 \r\n'
                '2026-11-01T01:01:00+01:00,"2.0"\r\n'
                '1793491320,+3e0\r\n'
                '1793491380000,-0\r\n')
        src = self.write("in.csv", text)
        r = run("--input", src, "--output", self.path("out.csv"), "--detector", "range", "--param", "max=2.5")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.path("out.csv"), newline="") as f:
            lines = f.read().split("\n")
        self.assertEqual(lines[0], "timestamp,value,anomaly_score,is_anomaly,kind")
        self.assertEqual([line.rsplit(",", 3)[0] for line in lines[1:5]],
                         ['"2026-11-01 00:00:00", 1.50 ', '2026-11-01T01:01:00+01:00,"2.0"', "1793491320,+3e0",
                          "1793491380000,-0"])
        self.assertEqual([line.rsplit(",", 2)[1] for line in lines[1:5]], ["0", "0", "1", "0"])
        self.assertEqual(lines[5:], [""])

    def test_progress_only_on_a_terminal(self):
        import pty
        rows = "".join("%d,%.2f\n" % (1793491200 + 60 * i, 20 + (i % 10) / 10) for i in range(50000))
        src = self.write("in.csv", "timestamp,value\n" + rows)
        master, slave = pty.openpty()
        try:
            p = subprocess.run([CLI, "replay", "--input", src, "--output", self.path("out.csv"), "--detector", "spike"],
                               stdout=subprocess.DEVNULL, stderr=slave, timeout=60)
            os.close(slave)
            slave = -1
            tty = b""
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                tty += chunk
        finally:
            if slave >= 0:
                os.close(slave)
            os.close(master)
        self.assertEqual(p.returncode, 0)
        text = tty.decode()
        self.assertRegex(text, r"\r\[#+ *\] +\d+%  \d+ rows  \d+ rows/s")
        self.assertIn("50000 rows", text)  # the summary
        # not a terminal: the summary line alone
        r = run("--input", src, "--output", self.path("out.csv"), "--detector", "spike")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stderr, r"^edge-anomaly replay: 50000 rows, \d+ anomalous, [0-9.]+ s, \d+ rows/s -> .*\n$")

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
        self.assertEqual(run("--capture", "a", "--output", "b", "--device", "d").returncode, 2)
        self.assertEqual(run("--capture", "a", "--output", "b", "--detector", "spike").returncode, 2)
        self.assertEqual(run("--input", "a", "--output", "b", "--detector", "spike", "--config", "c").returncode, 2)
        self.assertEqual(run("--input", "a", "--output").returncode, 2)
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

    def test_example_capture_gives_the_expected_results(self):
        # tests/data/capture-example.jsonl: a boiler over its range at 5 s,
        # back at 6 s, silent from 9 s, stale after 30 s of silence (the
        # idle check at 40 s), back at 75 s; both topic shapes, payloads as
        # text and as JSON, times in ms and RFC 3339 (one with an offset).
        data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
        out = os.path.join(self.dir, "results.jsonl")
        r = run("--capture", os.path.join(data, "capture-example.jsonl"), "--output", out,
                "--config", os.path.join(data, "capture-example.yaml"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("12 messages, 4 results (2 raising)", r.stderr)

        def key(line):  # what must not change; scores and reasons may be reworded
            x = json.loads(line)
            res = x["result"]
            return (x["topic"], res["namespace"], res["device"], res["property"], res["value"], res["timestamp"],
                    res["detector"], res["kind"], res["anomaly"], res["detectedAt"])
        with open(out) as f:
            got = [key(line) for line in f]
        with open(os.path.join(data, "capture-example.expected.jsonl")) as f:
            expected = [key(line) for line in f]
        self.assertEqual(got, expected)
        self.assertEqual(expected[2][6:], ("staleness", "stale", True, "2026-11-01T00:00:40.000Z"))

    def test_a_long_silence_is_checked_in_bounded_steps(self):
        # two weeks of silence: the stale alert comes within one step of
        # the limit (2 weeks / 3600 checks = 336 s), and quickly
        cfg = os.path.join(self.dir, "config.yaml")
        with open(cfg, "w") as f:
            f.write("results: {repeat_interval: 0}\n"
                    "routes:\n  - match: {property: temp}\n    detectors: [{staleness: {interval: 1h}}]\n")
        t0 = int(T0.timestamp() * 1000)
        src = os.path.join(self.dir, "capture.jsonl")
        with open(src, "w") as f:
            for t in (t0, t0 + 1000, t0 + 14 * 86400000):
                f.write(json.dumps({"topic": "$hw/events/device/b/twin/update", "time": t,
                                    "payload": {"twin": {"temp": {"actual": {"value": "1"}}}}}) + "\n")
        out = os.path.join(self.dir, "results.jsonl")
        r = run("--capture", src, "--output", out, "--config", cfg)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out) as f:
            results = [json.loads(line)["result"] for line in f]
        self.assertEqual([(x["kind"], x["anomaly"]) for x in results], [("stale", True), ("stale", False)])
        stale = results[:1]
        detected = datetime.datetime.fromisoformat(stale[0]["detectedAt"].replace("Z", "+00:00"))
        late = (detected - (T0 + datetime.timedelta(seconds=1, hours=1))).total_seconds()
        self.assertTrue(0 < late <= 337, late)

    def test_bad_capture_line(self):
        src = os.path.join(self.dir, "capture.jsonl")
        with open(src, "w") as f:
            f.write('{"topic": "a", "payload": "{}", "time": 1}\n{"topic": 5}\n')
        out = os.path.join(self.dir, "results.jsonl")
        r = run("--capture", src, "--output", out)
        self.assertEqual(r.returncode, 1)
        self.assertIn("capture.jsonl:2:", r.stderr)
        self.assertFalse(os.path.exists(out))
        for bad, expect in (('not json', "not a JSON object"),
                            ('{"topic": "a", "payload": "{}"}', 'needs "time"'),
                            ('{"topic": "a", "payload": "{}", "time": "yesterday"}', 'needs "time"'),
                            ('{"topic": "a", "payload": "{}", "time": -5}', 'needs "time"'),
                            ('{"payload": "{}", "time": 1}', 'needs "topic"')):
            with open(src, "w") as f:
                f.write('\n{"topic": "a", "payload": {"x": 1}, "time": "2026-11-01T00:00:00Z"}\n' + bad + "\n")
            r = run("--capture", src, "--output", out)
            self.assertEqual(r.returncode, 1, bad)
            self.assertIn("capture.jsonl:3: " + expect, r.stderr)
            self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main()
