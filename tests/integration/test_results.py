# SPDX-License-Identifier: Apache-2.0
"""Results published by the plugin inside a real mosquitto 2.0 broker:
fields, topics, detectors, de-duplication, exclusion, repeats."""
import json
import time
import unittest

from broker import (RESULT_PREFIX, connect, now_ms, require_broker, result_messages, rfc3339_ms,
                    start_broker, state_update, state_update_topic, sys_stats, twin_document,
                    twin_document_topic, twin_update, twin_update_topic, wait_result)

CONFIG = """\
workers: 2
stats_interval: 1s
idle_check: 200ms
results:
  qos: 1
  repeat_interval: 2s
devices:
  exclude: ["excluded-*", "ns9/hidden"]
routes:
  - name: stuck sensors
    match: {device: "stuck-*"}
    detectors:
      - stuck: {samples: 5}
  - name: quiet sensors
    match: {device: "stale-*"}
    detectors:
      - staleness: {interval: 1s, min_silence: 1s}
  - name: everything else
    detectors:
      - type
      - range: {min: 0, max: 120}
"""

REQUIRED_FIELDS = ("namespace", "device", "property", "value", "timestamp", "detector", "kind",
                   "anomaly", "anomalyScore", "confidence", "reason", "detectedAt")


class ResultsTest(unittest.TestCase):
    """One broker for the class; every test uses its own devices."""

    @classmethod
    def setUpClass(cls):
        require_broker()
        cls.broker = start_broker(cls, config_yaml=CONFIG)
        cls.sub = connect(cls, cls.broker.port)
        cls.sub.subscribe(RESULT_PREFIX + "#", qos=1)
        cls.stats = sys_stats(cls, cls.broker.port)
        cls.pub = connect(cls, cls.broker.port)

    def tearDown(self):
        self.assertTrue(self.broker.running(), "the broker died; log:\n" + self.broker.log())

    def publish(self, topic, payload):
        self.pub.publish(topic, payload, qos=1)

    def assertValidResult(self, r):
        for key in REQUIRED_FIELDS:
            self.assertIn(key, r, "result lacks %r: %r" % (key, r))
        self.assertIsInstance(r["anomaly"], bool)
        for key in ("anomalyScore", "confidence"):
            self.assertIsInstance(r[key], (int, float), r)
            self.assertNotIsInstance(r[key], bool, r)
            self.assertGreaterEqual(r[key], 0.0, r)
            self.assertLessEqual(r[key], 1.0, r)
        self.assertIsInstance(r["reason"], str)
        self.assertTrue(r["reason"].strip(), "empty reason: %r" % r)
        rfc3339_ms(r["timestamp"])
        detected = rfc3339_ms(r["detectedAt"])
        self.assertLess(abs(detected - now_ms()), 60000, "detectedAt is not now: %r" % r)

    # ------------------------------------------------------------------

    def test_out_of_range_raises_with_all_fields_then_clears(self):
        """An out-of-range value (route range 0..120) gives a QoS 1 result on
        edge-anomaly/{ns}/{device}/{property} with every field (value as a
        number, timestamp = the sample's metadata timestamp in RFC3339 UTC
        with ms); a normal value then clears it (anomaly false)."""
        msg_ts = now_ms() - 5000
        sample_ts = msg_ts + 1234  # differs from the message timestamp on purpose
        self.publish(twin_update_topic("range-dev", ns="factory"),
                     twin_update({"temperature": ("150.5", "float", sample_ts)}, timestamp=msg_ts))
        m, r = wait_result(self.sub, device="range-dev", anomaly=True)
        self.assertEqual(m.topic, "edge-anomaly/factory/range-dev/temperature")
        self.assertEqual(m.qos, 1, "results are configured with qos 1")
        self.assertFalse(m.retain)
        self.assertValidResult(r)
        self.assertEqual(r["namespace"], "factory")
        self.assertEqual(r["device"], "range-dev")
        self.assertEqual(r["property"], "temperature")
        self.assertIsInstance(r["value"], (int, float))
        self.assertNotIsInstance(r["value"], bool)
        self.assertEqual(r["value"], 150.5)
        self.assertEqual(rfc3339_ms(r["timestamp"]), sample_ts,
                         "timestamp %s is not the sample's metadata timestamp %d" % (r["timestamp"], sample_ts))
        self.assertTrue(r["timestamp"].endswith("Z"))
        self.assertEqual(r["detector"], "range")
        self.assertEqual(r["kind"], "out-of-range")
        self.assertIs(r["anomaly"], True)

        self.publish(twin_update_topic("range-dev", ns="factory"),
                     twin_update({"temperature": ("20", "float", sample_ts + 1000)}))
        m2, r2 = wait_result(self.sub, device="range-dev", anomaly=False)
        self.assertEqual(m2.topic, m.topic)
        self.assertValidResult(r2)
        self.assertEqual(r2["kind"], "out-of-range")
        self.assertEqual(r2["value"], 20)
        self.assertEqual(rfc3339_ms(r2["timestamp"]), sample_ts + 1000)
        self.assertEqual(len(result_messages(self.sub, device="range-dev")), 2)

    def test_type_error(self):
        """"abc" for a float twin raises kind type-error (value kept as the
        reported string); a parseable value clears it."""
        topic = twin_update_topic("type-dev", ns="factory")
        self.publish(topic, twin_update({"temperature": ("abc", "float")}))
        m, r = wait_result(self.sub, device="type-dev", anomaly=True)
        self.assertValidResult(r)
        self.assertEqual(r["kind"], "type-error")
        self.assertEqual(r["detector"], "type")
        self.assertEqual(r["value"], "abc")
        self.publish(topic, twin_update({"temperature": ("21.5", "float")}))
        _, r2 = wait_result(self.sub, device="type-dev", anomaly=False)
        self.assertEqual(r2["kind"], "type-error")

    def test_one_level_topic_is_namespace_default(self):
        """$hw/events/device/{device}/twin/update (KubeEdge <= 1.16.1) lands in
        namespace "default"."""
        self.publish(twin_update_topic("onelevel-dev"), twin_update({"temperature": ("300", "float")}))
        m, r = wait_result(self.sub, device="onelevel-dev", anomaly=True)
        self.assertEqual(m.topic, "edge-anomaly/default/onelevel-dev/temperature")
        self.assertEqual(r["namespace"], "default")
        self.assertValidResult(r)

    def test_two_level_topic_keeps_namespace(self):
        """$hw/events/device/{ns}/{device}/twin/update keeps its namespace."""
        self.publish(twin_update_topic("twolevel-dev", ns="plant-7"),
                     twin_update({"temperature": ("-3", "float")}))
        m, r = wait_result(self.sub, device="twolevel-dev", anomaly=True)
        self.assertEqual(m.topic, "edge-anomaly/plant-7/twolevel-dev/temperature")
        self.assertEqual(r["namespace"], "plant-7")
        self.assertEqual(r["value"], -3)

    def test_several_properties_each_a_series(self):
        """Several properties in one message are separate series: each
        out-of-range one gets its own result and topic; series/tracked grows
        by the number of properties."""
        before = self.stats.batch()
        self.publish(twin_update_topic("multi-dev", ns="factory"), twin_update({
            "temperature": ("500", "float"),
            "humidity": ("130", "float"),
            "pressure": ("-5", "int"),
            "level": ("50", "float"),
        }))
        got = {}
        for prop in ("temperature", "humidity", "pressure"):
            m, r = wait_result(self.sub, device="multi-dev", property=prop, anomaly=True)
            self.assertEqual(m.topic, "edge-anomaly/factory/multi-dev/" + prop)
            got[prop] = r["value"]
        self.assertEqual(got, {"temperature": 500, "humidity": 130, "pressure": -5})
        after = self.stats.wait_until(lambda b: b["samples/received"] >= before["samples/received"] + 4)
        self.assertEqual(after["samples/received"] - before["samples/received"], 4)
        self.assertEqual(after["series/tracked"] - before["series/tracked"], 4)
        self.assertEqual([r["property"] for _, r in result_messages(self.sub, device="multi-dev")
                          if r["property"] == "level"], [], "an in-range property got a result")

    def test_names_with_topic_special_characters(self):
        """UTF-8 namespace/device/property names are kept; '/', '+' and '#'
        in a property name become '_' in the result topic (one level each)
        while the JSON keeps the real name; nothing fails to publish."""
        before = self.stats.batch()
        self.publish(twin_update_topic("温度计-1", ns="工厂"), twin_update({
            "a/b": ("500", "float"), "x+y#z": ("500", "float"), "température": ("500", "float")}))
        want = {"a/b": "edge-anomaly/工厂/温度计-1/a_b",
                "x+y#z": "edge-anomaly/工厂/温度计-1/x_y_z",
                "température": "edge-anomaly/工厂/温度计-1/température"}
        for prop, topic in want.items():
            m, r = wait_result(self.sub, device="温度计-1", property=prop, anomaly=True)
            self.assertEqual(m.topic, topic)
            self.assertEqual(r["namespace"], "工厂")
        after = self.stats.wait_until(lambda b: b["results/published"] >= before["results/published"] + 3)
        self.assertEqual(after["results/failed"], before["results/failed"])
        self.assertEqual(after["results/dropped"], before["results/dropped"])

    def test_huge_bad_value_still_reported(self):
        """A 20,000-character garbage value for a float is still reported as
        a type error, as valid JSON (the value may be shortened to a prefix
        ending in "...")."""
        before = self.stats.batch()
        garbage = "é" + "x" * 20000
        self.publish(twin_update_topic("huge-dev", ns="factory"), twin_update({"temperature": (garbage, "float")}))
        m, r = wait_result(self.sub, device="huge-dev", anomaly=True)
        self.assertEqual(r["kind"], "type-error")
        value = r["value"]
        if value != garbage:  # shortened: cut at a character boundary, ending in "..."
            self.assertTrue(value.endswith("..."), value[-20:])
            self.assertTrue(garbage.startswith(value[:-3]), "value is not a prefix of the reported one")
        self.assertValidResult(r)
        after = self.stats.batch()
        self.assertEqual(after["results/dropped"], before["results/dropped"])

    def test_twin_document_detected(self):
        """twin/update/document payloads ({"twin":{P:{"last":null,"current":
        MsgTwin}}}), the only place values appear with mapper-framework
        mappers, are detected too."""
        ts = now_ms() - 777
        self.publish(twin_document_topic("doc-dev", ns="factory"),
                     twin_document({"temperature": ("121", "float", ts)}))
        m, r = wait_result(self.sub, device="doc-dev", anomaly=True)
        self.assertEqual(m.topic, "edge-anomaly/factory/doc-dev/temperature")
        self.assertEqual(r["kind"], "out-of-range")
        self.assertEqual(r["value"], 121)
        self.assertEqual(rfc3339_ms(r["timestamp"]), ts)
        self.assertValidResult(r)

    def test_device_state_offline_then_online(self):
        """state/update "offline" raises kind device-state on the property
        "$state"; "online" clears it."""
        topic = state_update_topic("state-dev", ns="ns1")
        self.publish(topic, state_update("offline"))
        m, r = wait_result(self.sub, device="state-dev", anomaly=True)
        self.assertEqual(m.topic, "edge-anomaly/ns1/state-dev/$state")
        self.assertEqual(r["property"], "$state")
        self.assertEqual(r["kind"], "device-state")
        self.assertEqual(r["value"], "offline")
        self.assertValidResult(r)
        self.publish(topic, state_update("online"))
        _, r2 = wait_result(self.sub, device="state-dev", anomaly=False)
        self.assertEqual(r2["kind"], "device-state")
        self.assertEqual(r2["property"], "$state")

    def test_stuck_sensor(self):
        """The same value `samples` (5) times in a row raises kind stuck, at
        the 5th sample exactly; a change clears it."""
        topic = twin_update_topic("stuck-dev", ns="factory")
        base = now_ms() - 60000
        for i in range(5):
            self.publish(topic, twin_update({"temperature": ("42", "float", base + i * 1000)}))
        m, r = wait_result(self.sub, device="stuck-dev", anomaly=True)
        self.assertEqual(r["kind"], "stuck")
        self.assertEqual(r["detector"], "stuck")
        self.assertEqual(rfc3339_ms(r["timestamp"]), base + 4000, "raised at another sample than the 5th")
        self.assertEqual(r["value"], 42)
        self.assertValidResult(r)
        self.publish(topic, twin_update({"temperature": ("43", "float", base + 5000)}))
        _, r2 = wait_result(self.sub, device="stuck-dev", anomaly=False)
        self.assertEqual(r2["kind"], "stuck")
        self.assertEqual([x["anomaly"] for _, x in result_messages(self.sub, device="stuck-dev")], [True, False])

    def test_update_and_document_counted_once(self):
        """The same sample on twin/update and then twin/update/document counts
        once: samples/duplicates grows by one and an out-of-range value gives
        one result, not two."""
        before = self.stats.batch()
        ts = now_ms() - 3000
        self.publish(twin_update_topic("dup-dev", ns="ns1"), twin_update({"temperature": ("300", "float", ts)}))
        self.publish(twin_document_topic("dup-dev", ns="ns1"), twin_document({"temperature": ("300", "float", ts)}))
        # a later normal sample of the same series: once its clear arrives,
        # everything before it has been handled (one worker per device, in order)
        self.publish(twin_update_topic("dup-dev", ns="ns1"), twin_update({"temperature": ("50", "float", ts + 1000)}))
        wait_result(self.sub, device="dup-dev", anomaly=False)
        seen = [(r["anomaly"], r["timestamp"]) for _, r in result_messages(self.sub, device="dup-dev")]
        self.assertEqual([a for a, _ in seen], [True, False], "results for dup-dev: %r" % seen)
        after = self.stats.wait_until(lambda b: b["samples/received"] >= before["samples/received"] + 3)
        self.assertEqual(after["samples/duplicates"] - before["samples/duplicates"], 1)
        self.assertEqual(after["samples/received"] - before["samples/received"], 3)
        self.assertEqual(after["anomalies/raised"] - before["anomalies/raised"], 1)

    def test_document_then_update_counted_once(self):
        """The other order too: the document first, then the same sample on
        twin/update, is one sample and one result."""
        before = self.stats.batch()
        ts = now_ms() - 2000
        self.publish(twin_document_topic("dup2-dev", ns="ns1"), twin_document({"temperature": ("-40", "float", ts)}))
        self.publish(twin_update_topic("dup2-dev", ns="ns1"), twin_update({"temperature": ("-40", "float", ts)}))
        self.publish(twin_update_topic("dup2-dev", ns="ns1"), twin_update({"temperature": ("10", "float", ts + 1000)}))
        wait_result(self.sub, device="dup2-dev", anomaly=False)
        self.assertEqual([r["anomaly"] for _, r in result_messages(self.sub, device="dup2-dev")], [True, False])
        after = self.stats.wait_until(lambda b: b["samples/received"] >= before["samples/received"] + 3)
        self.assertEqual(after["samples/duplicates"] - before["samples/duplicates"], 1)

    def test_excluded_devices(self):
        """Devices excluded by devices.exclude ("excluded-*" by name, and
        "ns9/hidden" by namespace/name) give no result and are counted in
        messages/excluded; the same name in another namespace is not
        excluded."""
        before = self.stats.batch()
        self.publish(twin_update_topic("excluded-1", ns="ns1"), twin_update({"temperature": ("999", "float")}))
        self.publish(twin_update_topic("excluded-2"), twin_update({"temperature": ("999", "float")}))
        self.publish(twin_update_topic("hidden", ns="ns9"), twin_update({"temperature": ("999", "float")}))
        after = self.stats.wait_until(lambda b: b["messages/excluded"] >= before["messages/excluded"] + 3,
                                      what="messages/excluded")
        self.assertEqual(after["messages/excluded"] - before["messages/excluded"], 3)
        self.assertEqual(after["samples/received"], before["samples/received"], "excluded messages made samples")
        self.assertEqual(after["anomalies/raised"], before["anomalies/raised"])
        self.publish(twin_update_topic("hidden", ns="ns8"), twin_update({"temperature": ("999", "float")}))
        m, r = wait_result(self.sub, device="hidden", namespace="ns8", anomaly=True)
        for dev in ("excluded-1", "excluded-2"):
            self.assertEqual(result_messages(self.sub, device=dev), [])
        self.assertEqual(result_messages(self.sub, device="hidden", ns="ns9"), [])

    def test_repeat_interval(self):
        """A still-raised anomaly is repeated, but no more often than
        results.repeat_interval (2s): over ~5 s of out-of-range samples every
        200 ms, consecutive results are >= 2 s apart (detectedAt) and at
        least one repeat happens."""
        topic = twin_update_topic("repeat-dev", ns="factory")
        before = self.stats.batch()
        t_first = t_last = None
        for i in range(26):
            self.publish(topic, twin_update({"temperature": ("999", "float")}))
            t_last = time.monotonic()
            if t_first is None:
                t_first = t_last
            time.sleep(0.2)
        span_ms = (t_last - t_first) * 1000
        self.publish(topic, twin_update({"temperature": ("20", "float")}))
        wait_result(self.sub, device="repeat-dev", anomaly=False)
        raised = [r for _, r in result_messages(self.sub, device="repeat-dev") if r["anomaly"]]
        times = [rfc3339_ms(r["detectedAt"]) for r in raised]
        gaps = [b - a for a, b in zip(times, times[1:])]
        self.assertGreaterEqual(len(raised), 2, "no repeat in %.1f s: %r" % (span_ms / 1000, raised))
        for g in gaps:
            self.assertGreaterEqual(g, 2000, "repeated after %d ms < repeat_interval 2s: %r" % (g, times))
        self.assertLessEqual(len(raised), 1 + int(span_ms // 2000) + 1)
        after = self.stats.wait_until(lambda b: b["anomalies/cleared"] > before["anomalies/cleared"])
        self.assertEqual(after["anomalies/repeated"] - before["anomalies/repeated"], len(raised) - 1)


class StalenessTest(unittest.TestCase):
    """Its own broker: a stale series is raised again after each silence, so
    it must not disturb the counters the other tests read."""

    @classmethod
    def setUpClass(cls):
        require_broker()
        cls.broker = start_broker(cls, config_yaml=CONFIG)
        cls.sub = connect(cls, cls.broker.port)
        cls.sub.subscribe(RESULT_PREFIX + "#", qos=1)
        cls.stats = sys_stats(cls, cls.broker.port)
        cls.pub = connect(cls, cls.broker.port)

    def publish(self, topic, payload):
        self.pub.publish(topic, payload, qos=1)

    assertValidResult = ResultsTest.assertValidResult

    def test_staleness_published_by_tick_while_idle(self):
        """A series that stops (staleness interval 1s, idle_check 200ms) is
        raised while no client publishes anything at all (the broker counted
        no PUBLISH meanwhile): only the tick can have published it. The next
        sample clears it."""
        topic = twin_update_topic("stale-dev", ns="factory")
        sent = now_ms()  # the broker's arrival time of the sample is later
        self.publish(topic, twin_update({"temperature": ("10", "float")}))
        quiet_from = self.stats.batch()
        m, r = wait_result(self.sub, timeout=10, device="stale-dev", anomaly=True)
        quiet_to = self.stats.batch()
        self.assertEqual(quiet_to["messages/received"], quiet_from["messages/received"],
                         "a PUBLISH reached the broker while waiting")
        self.assertEqual(r["kind"], "stale")
        self.assertEqual(r["detector"], "staleness")
        self.assertGreaterEqual(rfc3339_ms(r["detectedAt"]), sent + 1000,
                                "raised before 1 s of silence: %r" % r)
        self.assertValidResult(r)
        self.publish(topic, twin_update({"temperature": ("11", "float")}))
        _, r2 = wait_result(self.sub, device="stale-dev", anomaly=False)
        self.assertEqual(r2["kind"], "stale")


ROUTING_CONFIG = """\
stats_interval: 1s
devices:
  include: ["line1-*", "boiler-*", "ns2/*"]
groups:
  boilers: ["boiler-*", "ns2/heater"]
results:
  topic: "alerts/{namespace}/{device}/{property}/{detector}"
  qos: 0
  retain: true
routes:
  - name: boilers run hotter
    match: {group: boilers, property: "temp*"}
    detectors:
      - range: {min: 0, max: 90}
  - name: the rest
    detectors:
      - range: {min: 0, max: 120}
"""


class RoutingTest(unittest.TestCase):
    """devices.include, groups in route matches, and the results section
    (topic template with {detector}, qos 0, retain)."""

    @classmethod
    def setUpClass(cls):
        require_broker()
        cls.broker = start_broker(cls, config_yaml=ROUTING_CONFIG)
        cls.sub = connect(cls, cls.broker.port)
        cls.sub.subscribe("alerts/#", qos=1)
        cls.stats = sys_stats(cls, cls.broker.port)
        cls.pub = connect(cls, cls.broker.port)

    def test_group_route_and_topic_template(self):
        """95 is out of range for a boiler (group route, max 90) but not for
        a line1 device (max 120); results go to the configured template
        with {detector}, at the configured QoS 0 and retained."""
        self.pub.publish(twin_update_topic("boiler-1", ns="ns1"), twin_update({"temperature": ("95", "float")}), qos=1)
        self.pub.publish(twin_update_topic("heater", ns="ns2"), twin_update({"temp_out": ("95", "float")}), qos=1)
        self.pub.publish(twin_update_topic("line1-a", ns="ns1"), twin_update({"temperature": ("95", "float")}), qos=1)
        self.pub.publish(twin_update_topic("line1-a", ns="ns1"), twin_update({"temperature": ("130", "float")}), qos=1)
        m = self.sub.wait_for(lambda m: m.topic == "alerts/ns1/boiler-1/temperature/range", 10)
        self.assertEqual(m.qos, 0)
        self.assertFalse(m.retain, "a live delivery is not flagged retained")
        self.sub.wait_for(lambda m: m.topic == "alerts/ns2/heater/temp_out/range", 10)
        m3 = self.sub.wait_for(lambda m: m.topic == "alerts/ns1/line1-a/temperature/range", 10)
        self.assertEqual(json.loads(m3.payload)["value"], 130, "line1-a raised at 95 (boiler limit)")
        # a late subscriber gets the retained result
        late = connect(self, self.broker.port)
        late.subscribe("alerts/ns1/boiler-1/#", qos=1)
        lm = late.wait_for(lambda m: m.topic == "alerts/ns1/boiler-1/temperature/range", 10)
        self.assertTrue(lm.retain)
        self.assertEqual(json.loads(lm.payload)["anomaly"], True)

    def test_include_list(self):
        """Devices not in devices.include are counted as excluded and get
        no result; "ns2/*" includes every device of namespace ns2 only."""
        before = self.stats.batch()
        self.pub.publish(twin_update_topic("pump-7", ns="ns1"), twin_update({"temperature": ("999", "float")}), qos=1)
        self.pub.publish(twin_update_topic("pump-7", ns="ns3"), twin_update({"temperature": ("999", "float")}), qos=1)
        self.pub.publish(twin_update_topic("pump-7", ns="ns2"), twin_update({"temperature": ("999", "float")}), qos=1)
        self.sub.wait_for(lambda m: m.topic == "alerts/ns2/pump-7/temperature/range", 10)
        after = self.stats.wait_until(lambda b: b["messages/excluded"] >= before["messages/excluded"] + 2)
        self.assertEqual(after["messages/excluded"] - before["messages/excluded"], 2)
        self.assertEqual([x.topic for x in self.sub.snapshot() if "/pump-7/" in x.topic and "/ns2/" not in x.topic], [])


if __name__ == "__main__":
    unittest.main()
