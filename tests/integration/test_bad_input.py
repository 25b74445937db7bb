# SPDX-License-Identifier: Apache-2.0
"""Hostile and odd input on a real broker with the plugin: malformed,
truncated and deeply nested JSON, a 10 MB payload, NaN and infinities,
bytes that are not UTF-8, unknown fields, topics of the maximum MQTT length,
property names holding MQTT wildcards, and a million distinct devices.

After each batch: the broker still runs, the subscriber got every message
byte-identical and in order, messages/parse_errors counts exactly the
malformed ones, and a normal twin update afterwards gives the expected
result."""
import json
import os
import subprocess
import sys
import time
import unittest

from broker import (LOADGEN, RESULT_PREFIX, connect, require_broker, result_messages,
                    start_broker, state_update, state_update_topic, sys_stats, twin_document_topic,
                    twin_update, twin_update_topic, wait_result)

NS = "bad"

CONFIG = """\
workers: 2
stats_interval: 1s
routes:
  - name: everything
    detectors:
      - type
      - range: {min: 0, max: 120}
"""

MAX_TOPIC = 65535  # the longest topic MQTT can carry (a 16-bit length)
TEN_MB = 10 * 1000 * 1000


def strict_json(data):
    """Parses result bytes as strict JSON: UTF-8 only, no NaN or Infinity."""
    def no_constants(name):
        raise ValueError("JSON has no %s" % name)
    return json.loads(data.decode("utf-8"), parse_constant=no_constants)


def raw_twin(prop, value_json, vtype="float"):
    """A twin update whose value is the given raw JSON text (bytes), e.g.
    b'NaN' or b'"21.5"'."""
    meta = b',"metadata":{"type":"%s"}' % vtype.encode() if vtype else b""
    return (b'{"event_id":"","timestamp":1761552000000,"twin":{"' + prop + b'":{"actual":{"value":'
            + value_json + b',"metadata":{"timestamp":1761552000000}}' + meta + b'}}}')


def ten_mb_twin(value):
    """A valid twin update of about 10 MB: a float property with `value`
    and a 10 MB string in an unknown field."""
    head = b'{"event_id":"big","timestamp":1761552000000,"padding":"'
    tail = (b'","twin":{"temperature":{"actual":{"value":"' + value.encode()
            + b'","metadata":{"timestamp":1761552000000}},"metadata":{"type":"float"}}}}')
    return head + b"x" * (TEN_MB - len(head) - len(tail)) + tail


class BatchMixin:
    """Publishes a batch and checks delivery, counters and a normal update
    afterwards. Subclasses set cls.broker, cls.sub ($hw/#), cls.res (results),
    cls.stats, cls.pub."""

    batch_no = 0

    def run_batch(self, name, items, parse_errors=0, settle=None):
        """Publishes (topic, payload) items at QoS 1; asserts the broker
        runs, the $hw/# subscriber got exactly these messages byte-identical
        and in order, and, once the plugin handled them all (queue/depth 0,
        results/pending 0), that parse_errors grew by `parse_errors`. Then a
        normal twin update (value 500 on a fresh device, route range 0..120)
        must give an out-of-range result. Returns the counter deltas."""
        type(self).batch_no += 1
        n0 = self.sub.count()
        before = self.stats.batch()
        self.pub.publish_many(items, qos=1, timeout=180)
        got = self.sub.wait_count(n0 + len(items), timeout=120)
        self.assertTrue(self.broker.running(), "the broker died on %s; log:\n%s" % (name, self.broker.log()[-5000:]))
        self.assertEqual(got, n0 + len(items), "%s: the subscriber got %d of %d messages"
                         % (name, got - n0, len(items)))
        self.sub.wait_quiet(0.3, timeout=5)
        received = self.sub.snapshot()[n0:]
        self.assertEqual(len(received), len(items), "%s: extra messages delivered" % name)
        for i, (m, (topic, payload)) in enumerate(zip(received, items)):
            self.assertEqual(m.topic, topic if isinstance(topic, str) else topic.decode(),
                             "%s: message %d delivered on another topic" % (name, i))
            self.assertTrue(m.payload == payload, "%s: message %d on %.80s: payload differs (%d bytes sent, %d got)"
                            % (name, i, topic, len(payload), len(m.payload)))
        self.stats.wait_until(
            lambda b: b["messages/tapped"] - before["messages/tapped"] >= len(items) and b["queue/depth"] == 0
            and b["results/pending"] == 0,
            timeout=60, what="%s handled" % name)
        b = self.stats.batch()  # a batch wholly after the last message was handled
        d = {k: b[k] - before.get(k, 0) for k in b}
        self.assertEqual(d["messages/tapped"], len(items), "%s: %r" % (name, d))
        self.assertEqual(d["messages/parse_errors"], parse_errors,
                         "%s: parse_errors grew by %d, expected %d" % (name, d["messages/parse_errors"], parse_errors))
        self.assertEqual(d["results/failed"], 0, "%s: results the broker refused" % name)
        self.sub_sync()
        # a normal update still works
        dev = "after-%d" % self.batch_no
        self.pub.publish(twin_update_topic(dev, ns=NS), twin_update({"temperature": ("500", "float")}), qos=1)
        _, r = wait_result(self.res, timeout=20, namespace=NS, device=dev, property="temperature",
                           kind="out-of-range", anomaly=True)
        self.assertEqual(r["value"], 500)
        for m in self.res.snapshot(RESULT_PREFIX):
            strict_json(m.payload)  # every result is valid JSON, in UTF-8
        self.assertTrue(self.broker.running(), self.broker.log()[-3000:])
        return d

    def sub_sync(self):
        self.res.sync()

    def results_for(self, device):
        return [r for _, r in result_messages(self.res, device=device, ns=NS)]


class BadInputTest(BatchMixin, unittest.TestCase):
    """One broker (defaults except a type + range 0..120 route) for the
    batches; each batch uses its own devices."""

    @classmethod
    def setUpClass(cls):
        require_broker()
        cls.broker = start_broker(cls, config_yaml=CONFIG)
        cls.sub = connect(cls, cls.broker.port)
        cls.sub.subscribe("$hw/#", qos=1)
        cls.res = connect(cls, cls.broker.port)
        cls.res.subscribe(RESULT_PREFIX + "#", qos=1)
        cls.stats = sys_stats(cls, cls.broker.port)
        cls.pub = connect(cls, cls.broker.port)

    def tearDown(self):
        self.assertTrue(self.broker.running(), "the broker died; log:\n" + self.broker.log()[-5000:])

    def test_malformed_truncated_and_deeply_nested_json(self):
        """Truncated JSON, garbage, JSON that is not an object or has no
        twin object, and 10,000 levels of [ and of { (closed and unclosed,
        at the top and inside a twin): each one is a parse error, none stops
        the broker; a valid update 500 levels deep in an unknown field is
        analysed (out-of-range)."""
        full = twin_update({"temperature": ("21", "float")}, timestamp=1761552000000)
        deep = 10000
        malformed = [
            full[:len(full) // 2],                  # truncated in the middle
            full[:-1],                              # last brace missing
            b"{",
            b'{"twin":',
            b"not json at all",
            b'{"twin":{,}}',
            b"{'twin':{}}",                         # single quotes
            full + b"}",                            # data after the object
            full + b" trailing",
            b"",                                    # empty payload
            b"[1,2,3]",                             # not an object
            b'"a string"',
            b"42",
            b"null",
            b"{}",                                  # no twin
            b'{"twin":[]}',                         # twin not an object
            b'{"twin":"temperature"}',
            b"[" * deep + b"]" * deep,              # 10,000 levels of [
            b"[" * deep,
            b'{"a":' * deep + b"1" + b"}" * deep,   # 10,000 levels of {
            b'{"a":' * deep,
            b'{"twin":{"temperature":' + b'{"a":' * deep + b'1' + b"}" * deep + b"}}",
            b'{"twin":{"temperature":{"actual":{"value":' + b"[" * deep + b"]" * deep + b"}}}}",
        ]
        items = [(twin_update_topic("mal-%d" % i, ns=NS), p) for i, p in enumerate(malformed)]
        # valid, 500 levels deep in an unknown field (under cJSON's 1000 limit)
        ok = json.loads(twin_update({"temperature": ("130", "float")}))
        nested = b"[" * 500 + b"]" * 500
        ok_payload = json.dumps(ok, separators=(",", ":")).encode()[:-1] + b',"deep":' + nested + b"}"
        items.append((twin_update_topic("mal-ok", ns=NS), ok_payload))
        d = self.run_batch("malformed", items, parse_errors=len(malformed))
        self.assertEqual(d["samples/received"], 1, d)
        r = self.results_for("mal-ok")
        self.assertEqual([(x["kind"], x["anomaly"]) for x in r], [("out-of-range", True)], r)
        for i in range(len(malformed)):
            self.assertEqual(self.results_for("mal-%d" % i), [], "a result for malformed message %d" % i)

    def test_ten_megabyte_payload_default_max_payload(self):
        """A valid 10 MB twin update with the default queue.max_payload
        (1 MiB): counted in messages/dropped/too_large (and messages/dropped),
        not analysed, delivered byte-identical."""
        big = ten_mb_twin("900")
        d = self.run_batch("10 MB", [(twin_update_topic("big-default", ns=NS), big)])
        self.assertEqual(d["messages/dropped/too_large"], 1, d)
        self.assertEqual(d["messages/dropped"], 1, d)
        self.assertEqual(d["samples/received"], 0, d)
        self.assertEqual(self.results_for("big-default"), [])

    def test_nan_and_infinity_values(self):
        """NaN, Infinity, -Infinity, 1e999 and -1e999 as strings of a twin
        declared float raise type-error (value kept as text, result valid
        JSON). As JSON numbers: NaN, Infinity and -Infinity are not JSON
        (parse errors); 1e999 and -1e999 are JSON numbers that overflow a
        double: infinite, so type-error too. No range result for any."""
        words = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"]
        items = [(twin_update_topic("str-%d" % i, ns=NS), twin_update({"v": (w, "float")}))
                 for i, w in enumerate(words)]
        items += [(twin_update_topic("num-%d" % i, ns=NS), raw_twin(b"v", w.encode()))
                  for i, w in enumerate(words)]
        self.run_batch("NaN/Inf", items, parse_errors=3)
        for i, w in enumerate(words):
            r = self.results_for("str-%d" % i)
            self.assertEqual([(x["kind"], x["anomaly"]) for x in r], [("type-error", True)],
                             "string %r: %r" % (w, r))
            self.assertEqual(r[0]["value"], w)
        for i, w in enumerate(words):
            r = self.results_for("num-%d" % i)
            if w in ("NaN", "Infinity", "-Infinity"):
                self.assertEqual(r, [], "number %s (not JSON) gave results %r" % (w, r))
            else:
                self.assertEqual([(x["kind"], x["anomaly"]) for x in r], [("type-error", True)],
                                 "number %s: %r" % (w, r))

    def test_non_utf8_bytes(self):
        """Bytes that are not UTF-8: a binary payload (parse error); a float
        value holding \\xff\\xfe (type-error; the result replaces the bytes
        and stays valid UTF-8 JSON); a property name with \\xff (that
        property is skipped, the valid one beside it raises out-of-range);
        an event_id with invalid bytes (ignored: analysed normally); a
        UTF-8-encoded surrogate in a value (type-error)."""
        items = [
            (twin_update_topic("u8-binary", ns=NS), b"\xff\xfe\xfd\x80\x00\x01" * 100),
            (twin_update_topic("u8-value", ns=NS), raw_twin(b"temperature", b'"\xff\xfe21"')),
            (twin_update_topic("u8-name", ns=NS),
             b'{"twin":{"t\xffemp":{"actual":{"value":"500"},"metadata":{"type":"float"}},'
             b'"ok":{"actual":{"value":"500"},"metadata":{"type":"float"}}}}'),
            (twin_update_topic("u8-only-bad-name", ns=NS),
             b'{"twin":{"\xc3\x28":{"actual":{"value":"500"},"metadata":{"type":"float"}}}}'),
            (twin_update_topic("u8-event", ns=NS),
             b'{"event_id":"\xff\xfe\x80","timestamp":1761552000000,'
             b'"twin":{"temperature":{"actual":{"value":"500"},"metadata":{"type":"float"}}}}'),
            (twin_update_topic("u8-surrogate", ns=NS), raw_twin(b"temperature", b'"\xed\xa0\x80"')),
        ]
        self.run_batch("non-UTF-8", items, parse_errors=1)
        self.assertEqual(self.results_for("u8-binary"), [])
        r = self.results_for("u8-value")
        self.assertEqual([(x["property"], x["kind"], x["anomaly"]) for x in r],
                         [("temperature", "type-error", True)], r)
        self.assertIn("\ufffd", r[0]["value"])
        self.assertTrue(r[0]["value"].endswith("21"), r[0]["value"])
        r = self.results_for("u8-name")
        self.assertEqual([(x["property"], x["kind"], x["anomaly"]) for x in r],
                         [("ok", "out-of-range", True)], r)
        self.assertEqual(self.results_for("u8-only-bad-name"), [])
        r = self.results_for("u8-event")
        self.assertEqual([(x["kind"], x["anomaly"]) for x in r], [("out-of-range", True)], r)
        r = self.results_for("u8-surrogate")
        self.assertEqual([(x["kind"], x["anomaly"]) for x in r], [("type-error", True)], r)

    def test_unknown_fields_everywhere(self):
        """Unknown fields at every level of a twin update (top, twin,
        property, actual, expected, both metadata), of a twin document and
        of a state update are ignored: no parse error, and the values are
        analysed (out-of-range, device-state offline)."""
        ts = 1761552000000
        update = {
            "event_id": "u1", "timestamp": ts, "version": 3, "extra": {"a": [1, 2, {"b": None}], "c": True},
            "twin": {
                "temperature": {
                    "actual": {"value": "500", "metadata": {"timestamp": ts, "unit": "C", "foo": [1]},
                               "quality": "good"},
                    "expected": {"value": "20", "metadata": {"timestamp": ts}, "x": 1},
                    "optional": True, "actual_version": 7, "expected_version": 3, "unknown": "field",
                    "metadata": {"type": "float", "unit": "C", "bar": {"baz": 1}},
                },
            },
            "trailer": [],
        }
        document = {
            "event_id": "d1", "timestamp": ts, "extra": 1,
            "twin": {"temperature": {
                "last": {"actual": {"value": "20"}, "metadata": {"type": "float"}, "x": 1},
                "current": {"actual": {"value": "600", "metadata": {"timestamp": ts, "y": 2}, "z": 3},
                            "metadata": {"type": "float", "w": 4}, "v": 5},
                "unknown": {"deep": [1]},
            }},
        }
        state = json.loads(state_update("offline", timestamp=ts))
        state.update({"extra": {"k": "v"}, "reason": "maintenance"})
        items = [
            (twin_update_topic("unk-update", ns=NS), json.dumps(update).encode()),
            (twin_document_topic("unk-doc", ns=NS), json.dumps(document).encode()),
            (state_update_topic("unk-state", ns=NS), json.dumps(state).encode()),
        ]
        d = self.run_batch("unknown fields", items, parse_errors=0)
        self.assertEqual(d["messages/unsupported_topics"], 0, d)
        r = self.results_for("unk-update")
        self.assertEqual([(x["kind"], x["anomaly"], x["value"]) for x in r], [("out-of-range", True, 500)], r)
        r = self.results_for("unk-doc")
        self.assertEqual([(x["kind"], x["anomaly"], x["value"]) for x in r], [("out-of-range", True, 600)], r)
        r = self.results_for("unk-state")
        self.assertEqual([(x["kind"], x["anomaly"]) for x in r], [("device-state", True)], r)

    def test_topic_of_maximum_mqtt_length(self):
        """Topics of exactly 65,535 bytes under $hw/events/device/... (a
        one-level id, a namespace/name id, a document topic) are delivered
        byte-identical; the plugin taps them and counts them in
        messages/unsupported_topics (names longer than 256 bytes), with no
        parse error and no result."""
        def fill(prefix, suffix):
            return prefix + "x" * (MAX_TOPIC - len(prefix) - len(suffix)) + suffix
        ns_len = 30000
        topics = [
            fill("$hw/events/device/", "/twin/update"),
            fill("$hw/events/device/" + "n" * ns_len + "/", "/twin/update"),
            fill("$hw/events/device/", "/twin/update/document"),
        ]
        for t in topics:
            self.assertEqual(len(t.encode()), MAX_TOPIC)
        payload = twin_update({"temperature": ("500", "float")})
        d = self.run_batch("65535-byte topics", [(t, payload) for t in topics], parse_errors=0)
        self.assertEqual(d["messages/unsupported_topics"], len(topics), d)
        self.assertEqual(d["samples/received"], 0, d)

    def test_property_names_with_topic_wildcards(self):
        """Properties named with '/', '+' and '#' each give their result,
        with the name unchanged in the JSON and '_' for those characters in
        the result topic (a topic level cannot hold them; the broker would
        refuse a wildcard): edge-anomaly/bad/wild/a_b and so on; none
        failed to publish."""
        names = ["a/b", "c+d", "e#f", "#", "+", "/", "a/+/#", "sensor/temperature/+"]
        payload = twin_update({n: ("500", "float") for n in names})
        d = self.run_batch("wildcard names", [(twin_update_topic("wild", ns=NS), payload)], parse_errors=0)
        self.assertEqual(d["samples/received"], len(names), d)
        got = {}
        for m, r in result_messages(self.res, device="wild", ns=NS):
            got[r["property"]] = (m.topic, r["kind"], r["anomaly"])
        self.assertEqual(sorted(got), sorted(names))
        for n in names:
            topic, kind, anomaly = got[n]
            want = "edge-anomaly/%s/wild/%s" % (NS, n.replace("/", "_").replace("+", "_").replace("#", "_"))
            self.assertEqual(topic, want, n)
            self.assertEqual((kind, anomaly), ("out-of-range", True), n)


class LargePayloadAnalysedTest(BatchMixin, unittest.TestCase):
    """queue: {max_payload: 16MiB, max_bytes: 32MiB}: a 10 MB payload fits
    the limits."""

    @classmethod
    def setUpClass(cls):
        require_broker()
        cls.broker = start_broker(cls, config_yaml=CONFIG + "queue: {max_payload: 16MiB, max_bytes: 32MiB}\n")
        cls.sub = connect(cls, cls.broker.port)
        cls.sub.subscribe("$hw/#", qos=1)
        cls.res = connect(cls, cls.broker.port)
        cls.res.subscribe(RESULT_PREFIX + "#", qos=1)
        cls.stats = sys_stats(cls, cls.broker.port)
        cls.pub = connect(cls, cls.broker.port)

    def test_ten_megabyte_payload_analysed(self):
        """With max_payload 16MiB the same valid 10 MB twin update is either
        analysed (its value 900 raises out-of-range) or, should the byte
        budget be spent, counted in messages/dropped/byte_budget; never in
        too_large. Delivered byte-identical either way."""
        big = ten_mb_twin("900")
        d = self.run_batch("10 MB, max_payload 16MiB", [(twin_update_topic("big-16m", ns=NS), big)])
        self.assertEqual(d["messages/dropped/too_large"], 0, d)
        r = self.results_for("big-16m")
        if d["messages/dropped/byte_budget"] == 1:
            self.assertEqual(d["samples/received"], 0, d)
            self.assertEqual(r, [])
            print("\n10 MB payload with max_payload 16MiB: counted in byte_budget", file=sys.stderr)
        else:
            self.assertEqual(d["messages/dropped"], 0, d)
            self.assertEqual(d["samples/received"], 1, d)
            self.assertEqual([(x["kind"], x["anomaly"], x["value"]) for x in r], [("out-of-range", True, 900)], r)
            print("\n10 MB payload with max_payload 16MiB: analysed", file=sys.stderr)


MILLION = 1000000
MAX_SERIES = 20000
MILLION_WORKERS = 2
MILLION_CAPACITY = 8192
MILLION_PENDING = 1000
MILLION_CONFIG = """\
workers: %d
queue:
  capacity: %d
max_series: %d
max_pending_results: %d
stats_interval: 1s
""" % (MILLION_WORKERS, MILLION_CAPACITY, MAX_SERIES, MILLION_PENDING)
# loadgen publishes at this rate for this long: 1,200,000 twin updates of
# dev-0 .. dev-999999 (the first 200,000 devices get a second one; the
# margin keeps it at 1,000,000 or more should loadgen fall behind its pace).
MILLION_RATE = 50000
MILLION_SECONDS = 24
KIB = 1024
MIB = 1024 * KIB
# The broker's peak RSS may grow by at most: every queue slot (512 bytes) of
# every worker, every pending result at its largest (16 KiB), max_series
# series of 2 KiB, and 32 MiB of slack. Messages are small (inline slots):
# queue.max_bytes is not used.
MILLION_RSS_BOUND = (MILLION_CAPACITY * 512 * MILLION_WORKERS + MILLION_PENDING * 16 * KIB
                     + MAX_SERIES * 2 * KIB + 32 * MIB)


class MillionDevicesTest(unittest.TestCase):
    """max_series: 20000 against 1,000,000 distinct devices from
    build/bench-loadgen."""

    @classmethod
    def setUpClass(cls):
        require_broker()
        if not os.path.exists(LOADGEN):
            raise AssertionError("%s is missing: run `make build/bench-loadgen` first" % LOADGEN)
        cls.broker = start_broker(cls, config_yaml=MILLION_CONFIG)
        cls.stats = sys_stats(cls, cls.broker.port)

    def test_one_million_devices_bounded_series(self):
        """1,200,000 twin updates for 1,000,000 devices (loadgen --devices
        1000000 --rate 50000 --duration 24, QoS 0): the broker received at
        least 1,000,000; series/tracked <= 20000; series/evicted >= (devices
        processed - 20000), and tracked + evicted == samples processed (every
        sample was of a device without a series: a device comes back only
        1,000,000 messages later); tapped == dropped + processed; the
        broker's peak RSS grows by at most MILLION_RSS_BOUND; a normal update
        afterwards is still detected. The time taken is printed."""
        b = self.broker
        before = self.stats.batch()
        hwm_before = b.status_kib("VmHWM")
        t0 = time.monotonic()
        proc = subprocess.run([LOADGEN, "--port", str(b.port), "--devices", str(MILLION), "--rate", str(MILLION_RATE),
                               "--duration", str(MILLION_SECONDS), "--namespace", "million"],
                              capture_output=True, timeout=MILLION_SECONDS + 120)
        t_sent = time.monotonic()
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        out = json.loads(proc.stdout.decode())
        self.assertTrue(b.running(), "the broker died; log:\n" + b.log()[-5000:])
        final = self.stats.wait_until(
            lambda x: x["messages/received"] - before["messages/received"] >= out["sent"] and x["queue/depth"] == 0,
            timeout=120, what="all of loadgen's messages received and handled")
        final = self.stats.batch()
        t_done = time.monotonic()
        d = {k: final[k] - before.get(k, 0) for k in final}
        received, tapped, dropped, samples = (d["messages/received"], d["messages/tapped"], d["messages/dropped"],
                                              d["samples/received"])
        tracked, evicted = final["series/tracked"], d["series/evicted"]
        hwm_after = b.status_kib("VmHWM")
        growth = (hwm_after - hwm_before) * KIB
        print("\none million devices: loadgen sent %d in %.1f s; broker received %d, tapped %d, dropped %d, "
              "processed %d; series tracked %d, evicted %d; VmHWM %.1f -> %.1f MiB (+%.1f MiB, bound +%.1f MiB); "
              "%.1f s from the first message to all handled"
              % (out["sent"], t_sent - t0, received, tapped, dropped, samples, tracked, evicted,
                 hwm_before / KIB, hwm_after / KIB, growth / MIB, MILLION_RSS_BOUND / MIB, t_done - t0),
              file=sys.stderr)
        self.assertGreaterEqual(out["sent"], MILLION)
        self.assertGreaterEqual(received, MILLION)
        self.assertEqual(tapped, received)
        self.assertEqual(tapped, dropped + samples, d)
        self.assertLessEqual(tracked, MAX_SERIES)
        devices_processed = min(samples, MILLION)
        self.assertGreaterEqual(evicted, devices_processed - MAX_SERIES)
        self.assertEqual(tracked + evicted, samples, "series created != samples processed: %r" % d)
        self.assertLessEqual(growth, MILLION_RSS_BOUND, "peak RSS grew by %.1f MiB, over the bound %.1f MiB"
                             % (growth / MIB, MILLION_RSS_BOUND / MIB))
        res = connect(self, b.port)
        res.subscribe(RESULT_PREFIX + "#", qos=1)
        pub = connect(self, b.port)
        pub.publish(twin_update_topic("dev-7", ns="million"), twin_update({"temperature": ("abc", "float")}), qos=1)
        wait_result(res, timeout=20, namespace="million", device="dev-7", kind="type-error", anomaly=True)


if __name__ == "__main__":
    unittest.main()
