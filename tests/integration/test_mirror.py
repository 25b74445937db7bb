# SPDX-License-Identifier: Apache-2.0
"""The data mirror in the real broker and `edge-anomaly export`: samples
and results land in the SQLite database; export gives one row per sample
with the anomaly state it was in, filtered, as CSV and JSON lines; a
kill -9 of the broker leaves an intact database missing at most the last
batch."""
import csv
import io
import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import tempfile
import threading
import time
import unittest

from broker import (CLI, connect, require_broker, start_broker, sys_stats, twin_update, twin_update_topic,
                    wait_result)


def config(db, extra=""):
    return """\
stats_interval: 1s
mirror: {path: %s, retention: 7d, max_size: 64MiB}
routes:
  - name: boilers
    match: {device: boiler-*}
    detectors: [{range: {min: 0, max: 100}}]
  - name: not mirrored
    match: {device: secret-*}
    mirror: false
    detectors: []
%s""" % (db, extra)


def export(*args):
    return subprocess.run([CLI, "export", *args], capture_output=True, text=True, timeout=60)


class MirrorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_broker()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ea-mirror-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        os.chmod(self.dir, 0o777)  # mosquitto may run the plugin as user mosquitto
        self.db = os.path.join(self.dir, "mirror.db")

    def test_samples_results_and_export(self):
        b = start_broker(self, config_yaml=config(self.db))
        res = connect(self, b.port)
        res.subscribe("edge-anomaly/#", qos=1)
        stats = sys_stats(self, b.port)
        pub = connect(self, b.port)
        t0 = 1795000000000
        values = ["20", "150", "160", "30", "40"]
        for i, v in enumerate(values):
            pub.publish(twin_update_topic("boiler-1", ns="plant"), twin_update({"temp": v}, timestamp=t0 + i * 1000), qos=1)
        pub.publish(twin_update_topic("secret-1"), twin_update({"temp": "1"}, timestamp=t0), qos=1)
        wait_result(res, timeout=10, device="boiler-1", anomaly=False)
        stats.wait_until(lambda s: s.get("mirror/samples", 0) >= 5 and s.get("mirror/results", 0) >= 2,
                         what="samples and results in the mirror")

        out = export("--db", self.db)
        self.assertEqual(out.returncode, 0, out.stderr)
        rows = list(csv.DictReader(io.StringIO(out.stdout)))
        self.assertEqual([r["value"] for r in rows], values)  # secret-1 was not mirrored
        self.assertEqual([r["anomaly"] for r in rows], ["0", "1", "1", "0", "0"])
        self.assertEqual([r["kind"] for r in rows], ["", "out-of-range", "out-of-range", "", ""])
        self.assertEqual(rows[1]["namespace"], "plant")
        self.assertEqual(rows[1]["device"], "boiler-1")
        self.assertEqual(rows[1]["timestamp"], "2026-11-18T11:06:41.000Z")
        self.assertIn("5 rows", out.stderr)

        out = export("--db", self.db, "--format", "jsonl", "--device", "boiler-*", "--property", "te?p",
                     "--since", str(t0 + 1000), "--until", str(t0 + 3000))
        self.assertEqual(out.returncode, 0, out.stderr)
        rows = [json.loads(line) for line in out.stdout.splitlines()]
        self.assertEqual([(r["value"], r["anomaly"], r["kind"]) for r in rows],
                         [(150, True, "out-of-range"), (160, True, "out-of-range")])

        # pandas reads the file as is: typed columns, parsed timestamps
        try:
            import pandas
        except ImportError:  # pragma: no cover - python3-pandas is in install-deps
            pandas = None
        if pandas is not None:
            path = os.path.join(self.dir, "all.csv")
            self.assertEqual(export("--db", self.db, "--output", path).returncode, 0)
            frame = pandas.read_csv(path, parse_dates=["timestamp"])
            self.assertEqual(list(frame.columns),
                             ["namespace", "device", "property", "timestamp", "value", "anomaly", "kind", "detector"])
            self.assertEqual(frame["value"].tolist(), [20, 150, 160, 30, 40])
            self.assertEqual(int(frame["anomaly"].sum()), 2)
            self.assertEqual(str(frame["timestamp"].dt.tz), "UTC")
            self.assertEqual(frame.loc[1, "kind"], "out-of-range")
            jl = os.path.join(self.dir, "all.jsonl")
            self.assertEqual(export("--db", self.db, "--format", "jsonl", "--output", jl).returncode, 0)
            self.assertEqual(pandas.read_json(jl, lines=True)["value"].tolist(), [20, 150, 160, 30, 40])

        # a device is written to, never replaced by a renamed file
        out = export("--db", self.db, "--output", "/dev/null")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(stat.S_ISCHR(os.stat("/dev/null").st_mode))

        path = os.path.join(self.dir, "out.csv")
        out = export("--db", self.db, "--output", path, "--namespace", "nowhere")
        self.assertEqual(out.returncode, 0, out.stderr)
        with open(path) as f:
            self.assertEqual(f.read(), "namespace,device,property,timestamp,value,anomaly,kind,detector\n")

    def test_export_errors(self):
        out = export()
        self.assertEqual(out.returncode, 2)
        self.assertIn("--db", out.stderr)
        out = export("--db", os.path.join(self.dir, "missing.db"))
        self.assertEqual(out.returncode, 1)
        self.assertIn("missing.db", out.stderr)
        not_db = os.path.join(self.dir, "text.db")
        with open(not_db, "w") as f:
            f.write("hello")
        out = export("--db", not_db)
        self.assertEqual(out.returncode, 1)
        self.assertIn("text.db", out.stderr)
        self.assertEqual(export("--db", not_db, "--format", "xml").returncode, 2)
        self.assertEqual(export("--db", not_db, "--since", "yesterday").returncode, 2)
        out = export("--db", not_db, "--group", "pumps")
        self.assertEqual(out.returncode, 2)
        self.assertIn("--config", out.stderr)

    def test_kill_9_leaves_an_intact_database(self):
        b = start_broker(self, config_yaml=config(self.db))
        stats = sys_stats(self, b.port)
        pub = connect(self, b.port)
        stop = threading.Event()

        def traffic():
            i = 0
            while not stop.is_set():
                try:
                    pub.publish(twin_update_topic("boiler-%d" % (i % 50)), twin_update({"temp": str(i % 90)}), qos=0)
                except Exception:  # noqa: BLE001 - the broker is killed under it
                    return
                i += 1
        t = threading.Thread(target=traffic, daemon=True)
        t.start()
        self.addCleanup(stop.set)
        before = stats.wait_until(lambda s: s.get("mirror/samples", 0) >= 5000, what="a few batches written")
        os.kill(b.proc.pid, signal.SIGKILL)  # while the traffic and the writes go on
        b.proc.wait(10)
        stop.set()
        con = sqlite3.connect(self.db)
        self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        rows = con.execute("SELECT count(*) FROM samples").fetchone()[0]
        con.close()
        # every batch committed before the kill is there; what was queued or in
        # the batch being written may not be (at most 5,000 per batch plus the queue)
        self.assertGreaterEqual(rows, before["mirror/samples"])
        print("\nmirror: kill -9 under traffic: %d rows intact, %d reported written a moment before"
              % (rows, before["mirror/samples"]), flush=True)


if __name__ == "__main__":
    unittest.main()
