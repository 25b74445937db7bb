# SPDX-License-Identifier: Apache-2.0
"""The plugin never changes what subscribers get: same topics, same bytes,
same order, same count as a broker without the plugin."""
import random
import unittest

from broker import (Broker, Client, require_broker, state_update, state_update_topic, twin_document,
                    twin_document_topic, twin_update, twin_update_topic, SysStats)

CONFIG = "stats_interval: 1s\n"

TWO_MB = 2 * 1024 * 1024


def message_mix():
    """(topic, payload bytes) in publishing order, and the number of them on
    topics the plugin taps."""
    rnd = random.Random(20240607)
    ts = 1761552000000
    mix = []
    for i in range(120):
        dev = "dev%d" % (i % 7)
        v = "%.2f" % (20 + rnd.random() * 5)
        if i % 10 == 3:
            v = "999"  # out of range for nobody (defaults), spike after learning
        if i % 10 == 7:
            v = "abc"  # type error: the plugin publishes a result elsewhere
        mix.append((twin_update_topic(dev, ns="ns-a"), twin_update({"temperature": (v, "float", ts + i)},
                                                                    timestamp=ts + i)))
        if i % 4 == 0:
            mix.append((twin_document_topic(dev, ns="ns-a"),
                        twin_document({"temperature": (v, "float", ts + i)}, timestamp=ts + i)))
        if i % 15 == 0:
            mix.append((twin_update_topic("legacy%d" % i), twin_update({"t": "1", "h": ("x", "int")})))
            mix.append((state_update_topic(dev, ns="ns-a"), state_update("offline" if i % 30 else "online")))
        if i % 20 == 5:
            mix.append(("other/sensor/%d" % i, b"plain text %d" % i))
    bad = [
        (twin_update_topic("bad1", ns="ns-a"), b'{"event_id":"","twin":{"temperature":{"actual":'),  # malformed
        (twin_update_topic("bad2", ns="ns-a"), b""),  # empty
        (twin_update_topic("bad3", ns="ns-a"), bytes(range(256)) * 3 + b"\xff\xfe\xc3\x28"),  # binary, not UTF-8
        (twin_update_topic("bad4", ns="ns-a"), b"[1,2,3]"),  # JSON, not an object
        (twin_update_topic("bad5", ns="ns-a"), b'{"twin":5}'),  # no twin object
        (twin_document_topic("bad6", ns="ns-a"), b'{"twin":{"p":{"last":null,"current":"nope"}}}'),
        (state_update_topic("bad7", ns="ns-a"), b'{"state":7}'),
        (twin_update_topic("big", ns="ns-a"), bytes(rnd.getrandbits(8) for _ in range(1024)) * (TWO_MB // 1024)),
        ("other/big", b"B" * TWO_MB),
        ("$hw/events/device/dev1/twin/get", b'{"event_id":"x"}'),  # KubeEdge, not tapped
        ("$hw/events/device/ns-a/dev1/twin/update/result", b'{"event_id":"x"}'),
        ("$hw/events/device/a/b/c/twin/update", twin_update({"temperature": ("1", "float")})),  # 3 id levels
        ("other/binary", b"\x00\x01\x02\x80\xff"),
        ("other/empty", b""),
    ]
    # spread the odd ones through the valid traffic
    for k, item in enumerate(bad):
        mix.insert(7 + k * 11, item)
    tapped = sum(1 for t, _ in mix if t.startswith("$hw/events/device/") and
                 (t.endswith("/twin/update") or t.endswith("/twin/update/document") or t.endswith("/state/update"))
                 and len(t.split("/")) - 3 - (3 if t.endswith("/document") else 2) in (1, 2))
    return mix, tapped


def deliver(broker, mix, tapped=None):
    """Publishes the mix at QoS 1 from one client to a QoS 1 subscriber of
    $hw/# and other/#; returns the received (topic, payload, qos) list and,
    when `tapped` (the number of tapped messages) is given, the $SYS batch
    once they are all handled."""
    sub = Client(broker.port)
    pub = Client(broker.port)
    stats = SysStats(broker.port) if tapped is not None else None
    try:
        sub.subscribe(["$hw/#", "other/#"], qos=1)
        pub.publish_many(mix, qos=1, timeout=120)
        n = sub.wait_count(len(mix), timeout=60)
        if n >= len(mix):
            sub.wait_quiet(0.5, timeout=10)  # anything extra would show up now
        got = [(m.topic, m.payload, m.qos) for m in sub.snapshot()]
        batch = None
        if stats is not None:
            # every tapped message counted and no queue holds one any more
            batch = stats.wait_until(lambda b: b["messages/tapped"] >= tapped and b["queue/depth"] == 0,
                                     what="tapped messages handled")
        return got, batch
    finally:
        for c in (sub, pub, stats):
            if c is not None:
                c.close()


class DeliveryTest(unittest.TestCase):
    """One run against a broker with the plugin, one against a plain
    broker; both compared with what was sent."""

    @classmethod
    def setUpClass(cls):
        require_broker()
        cls.mix, cls.tapped = message_mix()
        with Broker(config_yaml=CONFIG) as b:
            cls.with_plugin, cls.batch = deliver(b, cls.mix, tapped=cls.tapped)
            cls.plugin_log = b.log()
            cls.plugin_alive = b.running()
        with Broker(plugin=False) as b:
            cls.without_plugin, _ = deliver(b, cls.mix)

    def test_plugin_delivers_identical_bytes_in_order(self):
        """With the plugin loaded, the subscriber gets every message sent
        (valid, malformed, empty, binary, 2 MB, non-KubeEdge) with the same
        topic and byte-identical payload, in order, at QoS 1, and nothing
        more."""
        self.assertTrue(self.plugin_alive, self.plugin_log)
        sent = [(t, p, 1) for t, p in self.mix]
        self.assertEqual(len(self.with_plugin), len(sent))
        for i, (got, want) in enumerate(zip(self.with_plugin, sent)):
            self.assertEqual(got[0], want[0], "message %d: topic differs" % i)
            self.assertEqual(got[1], want[1], "message %d on %s: payload differs (%d vs %d bytes)"
                             % (i, want[0], len(got[1]), len(want[1])))
            self.assertEqual(got[2], 1, "message %d delivered at QoS %d" % (i, got[2]))

    def test_same_as_without_plugin(self):
        """The sequence received with the plugin is identical to the one a
        broker without the plugin delivers."""
        self.assertEqual(len(self.without_plugin), len(self.mix), "the plain broker lost messages")
        self.assertTrue(self.with_plugin == self.without_plugin,
                        "received sequences differ with and without the plugin")

    def test_plugin_saw_the_traffic(self):
        """The plugin did tap the KubeEdge messages of the mix (so the
        comparison above is meaningful): messages/tapped counts them, the
        2 MB one is dropped as too large, the bad ones are parse errors."""
        b = self.batch
        self.assertEqual(b["messages/tapped"], self.tapped)
        self.assertEqual(b["messages/dropped/too_large"], 1)
        self.assertEqual(b["messages/dropped"], 1)
        self.assertEqual(b["messages/parse_errors"], 6)
        self.assertGreater(b["anomalies/raised"], 0)
        self.assertGreater(b["results/published"], 0)


if __name__ == "__main__":
    unittest.main()
