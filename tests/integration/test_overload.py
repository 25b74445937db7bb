# SPDX-License-Identifier: Apache-2.0
"""Overload: a flood larger than the plugin's queue is dropped by the plugin
(counted), never by the broker, and never slows delivery into losses."""
import json
import subprocess
import unittest

from broker import (MOSQUITTO_PUB, connect, require_broker, start_broker, sys_stats,
                    twin_update, twin_update_topic)

CONFIG = """\
workers: 1
queue:
  capacity: 16
  max_payload: 4KiB
stats_interval: 1s
routes:
  - detectors:
      - type
      - range: {min: 0, max: 40}
      - spike: {window: 64}
      - stuck
"""

FLOOD = 20000


class OverloadTest(unittest.TestCase):
    """workers: 1, queue capacity 16: one worker cannot keep up with a
    flood from a C publisher."""

    @classmethod
    def setUpClass(cls):
        require_broker()
        cls.broker = start_broker(cls, config_yaml=CONFIG)
        cls.stats = sys_stats(cls, cls.broker.port)

    def test_flood_is_dropped_by_the_plugin_not_the_broker(self):
        """20,000 QoS 0 twin updates as fast as mosquitto_pub -l sends them:
        the broker stays up, messages/dropped/queue_full > 0,
        messages/tapped == 20,000 == dropped + samples/received (one sample a
        message), and the QoS 0 subscriber of the twin topic gets all
        20,000 (on loopback nothing may be lost)."""
        before = self.stats.batch()
        sub = connect(self, self.broker.port)
        sub.subscribe("$hw/events/device/+/+/twin/update", qos=0)
        lines = []
        base = 1761552000000
        for i in range(FLOOD):
            v = "%d" % (20 + i % 17) if i % 100 else "99"
            lines.append(twin_update({"temperature": (v, "float", base + i)}, timestamp=base + i))
        data = b"\n".join(lines) + b"\n"
        topic = twin_update_topic("flood-dev", ns="load")
        proc = subprocess.run([MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(self.broker.port), "-q", "0",
                               "-t", topic, "-l"], input=data, capture_output=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))

        got = sub.wait_count(FLOOD, timeout=60)
        self.assertTrue(self.broker.running(), "the broker died; log:\n" + self.broker.log())
        b = self.stats.wait_until(
            lambda b: b["messages/tapped"] - before["messages/tapped"] >= FLOOD and b["queue/depth"] == 0,
            timeout=60, what="flood handled")
        tapped = b["messages/tapped"] - before["messages/tapped"]
        dropped = b["messages/dropped"] - before["messages/dropped"]
        full = b["messages/dropped/queue_full"] - before["messages/dropped/queue_full"]
        samples = b["samples/received"] - before["samples/received"]
        self.assertEqual(b["messages/received"] - before["messages/received"], FLOOD)
        self.assertEqual(tapped, FLOOD)
        self.assertGreater(full, 0, "the queue never filled: %r" % b)
        self.assertEqual(tapped, dropped + samples,
                         "tapped %d != dropped %d + processed %d" % (tapped, dropped, samples))
        self.assertEqual(got, FLOOD, "the subscriber got %d of %d QoS 0 messages" % (got, FLOOD))
        payloads = [m.payload for m in sub.snapshot() if m.topic == topic]
        self.assertEqual(payloads[:3], lines[:3])
        self.assertEqual(payloads[-1], lines[-1])
        # still serving
        probe = connect(self, self.broker.port)
        probe.subscribe("probe/t", qos=1)
        probe.publish("probe/t", b"alive", qos=1)
        probe.wait_for(lambda m: m.topic == "probe/t" and m.payload == b"alive", timeout=10)

    def test_too_large_counted_and_still_delivered(self):
        """Payloads larger than queue.max_payload (4 KiB) are counted in
        messages/dropped/too_large, not processed, and still delivered
        byte-identical."""
        before = self.stats.batch()
        sub = connect(self, self.broker.port)
        sub.subscribe("$hw/events/device/+/+/twin/update", qos=1)
        pub = connect(self, self.broker.port)
        topic = twin_update_topic("big-dev", ns="load")
        big = []
        for i in range(5):
            doc = json.loads(twin_update({"temperature": ("999", "float")}))
            doc["padding"] = ("%d" % i) * 8192
            big.append(json.dumps(doc).encode())
        small = twin_update({"temperature": ("25", "float")})
        for p in big + [small]:
            self.assertTrue(len(p) > 4096 or p is small)
            pub.publish(topic, p, qos=1)
        sub.wait_count(6, timeout=20)
        self.assertEqual([m.payload for m in sub.snapshot()], big + [small])
        b = self.stats.wait_until(
            lambda b: b["samples/received"] - before["samples/received"] >= 1 and b["queue/depth"] == 0,
            what="small message handled")
        self.assertEqual(b["messages/dropped/too_large"] - before["messages/dropped/too_large"], 5)
        self.assertEqual(b["messages/tapped"] - before["messages/tapped"], 6)
        self.assertEqual(b["samples/received"] - before["samples/received"], 1)
        self.assertEqual(b["messages/dropped"] - before["messages/dropped"], 5)


MEMORY_CONFIG = """\
stats_interval: 1s
routes:
  - detectors:
      - range: {min: 0, max: 100}
"""


class MemoryAccountingTest(unittest.TestCase):
    """mosquitto frees result payloads with its own accounting: they must
    come from mosquitto_malloc (DESIGN.md, 2.0.11 pitfalls), or
    memory_limit soon refuses everything."""

    @classmethod
    def setUpClass(cls):
        require_broker()
        cls.broker = start_broker(cls, config_yaml=MEMORY_CONFIG,
                                  global_conf=["memory_limit 20000000", "sys_interval 1"])

    def test_many_results_keep_memory_accounting(self):
        """3,000 results (raise/clear on every message) under memory_limit
        20 MB: the broker's $SYS/broker/heap/current stays small and sane,
        new clients still connect and messages still flow."""
        sub = connect(self, self.broker.port)
        sub.subscribe("edge-anomaly/#", qos=1)
        heap = connect(self, self.broker.port)
        heap.subscribe("$SYS/broker/heap/current", qos=0)
        pub = connect(self, self.broker.port)
        topic = twin_update_topic("mem-dev", ns="mem")
        items = [(topic, twin_update({"temperature": ("500" if i % 2 == 0 else "50", "float")}))
                 for i in range(3000)]
        pub.publish_many(items, qos=1, timeout=120)
        n = sub.wait_count(3000, prefix="edge-anomaly/", timeout=60)
        self.assertEqual(n, 3000)
        since = heap.sync()
        m = heap.wait_for(lambda m: m.seq > since and m.topic == "$SYS/broker/heap/current", timeout=5,
                          what="$SYS/broker/heap/current")
        current = int(m.payload)
        self.assertLess(current, 20000000, "heap/current %d: the accounting is off" % current)
        probe = connect(self, self.broker.port)
        probe.subscribe("probe/mem", qos=1)
        probe.publish("probe/mem", b"ok", qos=1)
        probe.wait_for(lambda m: m.topic == "probe/mem", timeout=10)
        self.assertNotIn("memory", self.broker.log().lower().replace("memory_limit", ""))


if __name__ == "__main__":
    unittest.main()
