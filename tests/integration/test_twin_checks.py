# SPDX-License-Identifier: Apache-2.0
"""Twin checks in a real mosquitto 2.0 broker with the plugin: `desired`
(a twin's reported value never reaches the expected one, raised from the
idle check while the device keeps reporting or goes quiet, cleared when it
arrives) and `delay` (a reading taken 10 minutes before it arrived), and
that a twin document merely restating an old reading is not taken for a
late one."""
import json
import time
import unittest

from broker import (RESULT_PREFIX, _json, connect, now_ms, require_broker, result_messages, rfc3339_ms,
                    start_broker, twin_document_topic, twin_update, twin_update_topic, wait_result)

CONFIG = """\
workers: 2
idle_check: 200ms
results:
  qos: 1
  repeat_interval: 0
routes:
  - name: valves
    match: {device: "valve-*"}
    detectors:
      - desired: {timeout: 2s, tolerance: 0.5}
      - delay: {max_delay: 30s}
  - name: gauges
    match: {device: "gauge-*"}
    detectors: [{delay: {max_delay: 30s}}]
"""


def twin_with_expected(prop, expected, actual, ts, vtype="float", event_id=""):
    """A twin update carrying the desired (expected) and reported (actual) values."""
    twin = {prop: {"expected": {"value": expected, "metadata": {"timestamp": ts}},
                   "actual": {"value": actual, "metadata": {"timestamp": ts}},
                   "metadata": {"type": vtype}}}
    return _json({"event_id": event_id, "timestamp": ts, "twin": twin})


class TwinChecksTest(unittest.TestCase):
    """One broker for the class; every test uses its own devices."""

    @classmethod
    def setUpClass(cls):
        require_broker()
        cls.broker = start_broker(cls, config_yaml=CONFIG)
        cls.sub = connect(cls, cls.broker.port)
        cls.sub.subscribe(RESULT_PREFIX + "#", qos=1)
        cls.pub = connect(cls, cls.broker.port)

    def tearDown(self):
        self.assertTrue(self.broker.running(), "the broker died; log:\n" + self.broker.log())

    def publish(self, topic, payload):
        self.pub.publish(topic, payload, qos=1)

    def test_desired_mismatch_raised_when_the_actual_never_reaches_the_expected(self):
        """Expected 40, the actual stays at 12 (reported every 500 ms): after
        the 2 s timeout a desired-mismatch result arrives on
        edge-anomaly/{ns}/{device}/{property}, not before; nothing else is
        raised (the expected value reaches no other detector, the readings
        are timely). Reaching 39.8 (within 0.5) clears it."""
        topic = twin_update_topic("valve-1", ns="plant-a")
        set_at = time.monotonic()
        self.publish(topic, twin_with_expected("position", "40", "12", now_ms()))
        raised = None
        deadline = time.monotonic() + 10
        while raised is None and time.monotonic() < deadline:
            self.publish(topic, twin_update({"position": ("12", "float")}))
            time.sleep(0.5)
            raised = [r for _, r in result_messages(self.sub, device="valve-1") if r["anomaly"]]
            raised = raised[0] if raised else None
        self.assertIsNotNone(raised, "no desired-mismatch within 10 s; log:\n" + self.broker.log())
        waited = time.monotonic() - set_at
        self.assertGreaterEqual(waited, 2.0, "raised before the 2 s timeout: %r" % raised)
        m, r = wait_result(self.sub, device="valve-1", anomaly=True)
        self.assertEqual(m.topic, "edge-anomaly/plant-a/valve-1/position")
        self.assertEqual(r["namespace"], "plant-a")
        self.assertEqual(r["detector"], "desired")
        self.assertEqual(r["kind"], "desired-mismatch")
        self.assertIn("has not reached the desired 40", r["reason"])
        self.assertGreaterEqual(r["anomalyScore"], 0.5)
        kinds = {x["kind"] for _, x in result_messages(self.sub, device="valve-1")}
        self.assertEqual(kinds, {"desired-mismatch"}, "other detectors raised: %r" % kinds)

        self.publish(topic, twin_update({"position": ("39.8", "float")}))
        m2, r2 = wait_result(self.sub, device="valve-1", anomaly=False)
        self.assertEqual(m2.topic, m.topic)
        self.assertEqual(r2["kind"], "desired-mismatch")
        self.assertEqual(r2["value"], 39.8)

    def test_desired_mismatch_raised_from_the_idle_check_when_the_device_is_quiet(self):
        """Expected "open" for a string twin, the device reports "closed" once
        and then nothing: the idle check raises it."""
        topic = twin_update_topic("valve-2", ns="plant-a")
        self.publish(topic, twin_with_expected("mode", "open", "closed", now_ms(), vtype="string"))
        m, r = wait_result(self.sub, timeout=10, device="valve-2", anomaly=True)
        self.assertEqual(m.topic, "edge-anomaly/plant-a/valve-2/mode")
        self.assertEqual(r["kind"], "desired-mismatch")
        self.assertIn("differed from the desired one", r["reason"])

    def test_delay_raised_for_a_reading_ten_minutes_old(self):
        """A reading whose timestamp is 10 minutes old on arrival raises
        delay; a timely one clears it."""
        topic = twin_update_topic("valve-3", ns="plant-b")
        self.publish(topic, twin_update({"position": ("20", "float")}))
        old = now_ms() - 10 * 60 * 1000
        self.publish(topic, twin_update({"position": ("21", "float", old)}, timestamp=old))
        m, r = wait_result(self.sub, device="valve-3", kind="delay", anomaly=True)
        self.assertEqual(m.topic, "edge-anomaly/plant-b/valve-3/position")
        self.assertEqual(r["detector"], "delay")
        self.assertEqual(rfc3339_ms(r["timestamp"]), old)
        self.assertIn("before it arrived", r["reason"])
        self.assertEqual(len([x for _, x in result_messages(self.sub, device="valve-3")
                              if x["kind"] == "delay" and x["anomaly"]]), 1)
        self.publish(topic, twin_update({"position": ("22", "float")}))
        wait_result(self.sub, device="valve-3", kind="delay", anomaly=False)

    def test_document_restating_an_old_reading_is_not_late(self):
        """After the cloud sets a desired value EdgeCore publishes a twin
        document whose current actual is the old reading, with its old time
        stamp (the same as in `last`): not a new reading, so no delay."""
        ts_old = now_ms() - 5 * 60 * 1000
        ts_new = now_ms()
        actual = {"value": "20", "metadata": {"timestamp": ts_old}}
        doc = {"event_id": "cloud-1", "timestamp": ts_new, "twin": {"position": {
            "last": {"actual": actual, "metadata": {"type": "float"}},
            "current": {"expected": {"value": "20", "metadata": {"timestamp": ts_new}},
                        "actual": actual, "metadata": {"type": "float"}}}}}
        self.publish(twin_document_topic("gauge-4", ns="plant-b"), json.dumps(doc).encode())
        # a late reading on another device proves the broker has handled the document
        other = twin_update_topic("gauge-5", ns="plant-b")
        old = now_ms() - 10 * 60 * 1000
        self.publish(other, twin_update({"position": ("21", "float", old)}, timestamp=old))
        wait_result(self.sub, device="gauge-5", kind="delay", anomaly=True)
        time.sleep(0.5)
        self.assertEqual(result_messages(self.sub, device="gauge-4"), [])


if __name__ == "__main__":
    unittest.main()
