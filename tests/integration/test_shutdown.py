# SPDX-License-Identifier: Apache-2.0
"""Clean shutdown of the real broker with the plugin, checked by valgrind.

valgrind is the sanitizer for the plugin inside the real broker: the unit
tests build the library with ASan and UBSan, but the plugin runs inside
Debian's uninstrumented mosquitto, where only valgrind can see its leaks
and memory errors."""
import re
import signal
import unittest

from broker import (RESULT_PREFIX, VALGRIND, connect, require_broker, start_broker, state_update,
                    state_update_topic, sys_stats, twin_document, twin_document_topic, twin_update,
                    twin_update_topic, wait_result)

CONFIG = """\
workers: 2
stats_interval: 1s
idle_check: 200ms
results:
  repeat_interval: 1s
routes:
  - match: {device: "quiet-*"}
    detectors:
      - staleness: {interval: 1s, min_silence: 1s}
  - detectors:
      - type
      - range: {min: 0, max: 100}
      - spike
      - stuck: {samples: 5}
"""


class ValgrindShutdownTest(unittest.TestCase):
    """VALGRIND is the sanitizer here: mosquitto + plugin under
    `valgrind --leak-check=full --errors-for-leak-kinds=definite
    --error-exitcode=99`."""

    @classmethod
    def setUpClass(cls):
        require_broker()
        if VALGRIND is None:
            raise unittest.SkipTest("valgrind is not installed")

    def test_sigterm_exits_cleanly_without_leaks(self):
        """(valgrind is the sanitizer for the plugin inside the real broker.)
        A few hundred twin updates, documents and states with anomalies and
        malformed payloads, results received, a last burst still queued,
        then SIGTERM: mosquitto exits 0 (valgrind's error exit code 99 did
        not fire) and valgrind reports no definite leak."""
        b = start_broker(self, config_yaml=CONFIG, valgrind=True)
        sub = connect(self, b.port, connect_timeout=30)
        sub.subscribe(RESULT_PREFIX + "#", qos=1)
        stats = sys_stats(self, b.port)
        pub = connect(self, b.port, connect_timeout=30)
        items = []
        base = 1761552000000
        for i in range(300):
            dev = "vg-%d" % (i % 6)
            v = "%d" % (20 + i % 5)
            if i % 6 == 0:
                v = "250"  # out of range
            elif i % 6 == 3:
                v = "abc"  # type error
            elif i % 14 == 1:
                v = "-7"   # out of range
            if i % 5 == 0:
                items.append((twin_document_topic(dev, ns="ns1"),
                              twin_document({"temperature": (v, "float", base + i)}, timestamp=base + i)))
            items.append((twin_update_topic(dev, ns="ns1"),
                          twin_update({"temperature": (v, "float", base + i), "humidity": ("%d" % (i % 90), "int")},
                                      timestamp=base + i)))
            if i % 25 == 0:
                items.append((twin_update_topic(dev, ns="ns1"), b'{"twin":{"temperature":'))  # malformed
                items.append((twin_update_topic(dev), b"\xff\xfe" * 40))  # binary
                items.append((state_update_topic(dev, ns="ns1"), state_update("offline" if i % 50 else "online")))
                items.append((twin_update_topic("big-%d" % i, ns="ns1"), b'{"twin":{"p":{"actual":{"value":"'
                              + b"9" * 3000 + b'"}}}}'))  # overflow path of the queue
        items.append((twin_update_topic("quiet-1", ns="ns1"), twin_update({"temperature": ("1", "float")})))
        pub.publish_many(items, qos=1, timeout=180)
        wait_result(sub, timeout=60, kind="out-of-range", anomaly=True)
        wait_result(sub, timeout=60, kind="type-error", anomaly=True)
        wait_result(sub, timeout=60, kind="device-state", anomaly=True)
        wait_result(sub, timeout=60, device="quiet-1", kind="stale", anomaly=True)
        batch = stats.wait_until(lambda x: x["messages/tapped"] >= len(items) and x["queue/depth"] == 0,
                                 timeout=120, what="all messages handled")
        self.assertGreater(batch["messages/parse_errors"], 0)
        self.assertGreater(batch["results/published"], 0)
        # a last burst without waiting for acks: some of it may still sit in
        # the queues or the result list when SIGTERM arrives
        for topic, payload in items[:200]:
            pub.client.publish(topic, payload, qos=0)
        for c in (sub, stats, pub):
            c.close()

        rc, log = b.stop(timeout=120)
        vg = b.valgrind_log()
        self.assertTrue(vg, "no valgrind log")
        self.assertNotEqual(rc, 99, "valgrind reported errors (definite leaks count); valgrind log:\n" + vg[-6000:])
        self.assertEqual(rc, 0, "mosquitto exited %s; log tail:\n%s\nvalgrind tail:\n%s" % (rc, log[-3000:], vg[-3000:]))
        no_leak = re.search(r"definitely lost: 0 bytes in 0 blocks", vg) or "All heap blocks were freed" in vg \
            or "no leaks are possible" in vg
        self.assertTrue(no_leak, "definite leaks; valgrind log:\n" + vg[-6000:])
        self.assertIn("mosquitto version", log)
        self.assertRegex(log, r"terminating")


class ReloadTest(unittest.TestCase):
    """SIGHUP (sent by logrotate) reloads mosquitto's config."""

    @classmethod
    def setUpClass(cls):
        require_broker()

    def test_sighup_keeps_plugin_and_series_state(self):
        """After SIGHUP the broker keeps running, the plugin keeps
        detecting, and a series raised before the reload is cleared by its
        next normal value after it (its state survived)."""
        b = start_broker(self, config_yaml=CONFIG)
        sub = connect(self, b.port)
        sub.subscribe(RESULT_PREFIX + "#", qos=1)
        pub = connect(self, b.port)
        pub.publish(twin_update_topic("hup-1", ns="ns1"), twin_update({"temperature": ("500", "float")}), qos=1)
        wait_result(sub, device="hup-1", anomaly=True)
        b.proc.send_signal(signal.SIGHUP)
        b.wait_log("Reloading config", timeout=10)
        pub.publish(twin_update_topic("hup-2", ns="ns1"), twin_update({"temperature": ("abc", "float")}), qos=1)
        wait_result(sub, device="hup-2", kind="type-error", anomaly=True)
        pub.publish(twin_update_topic("hup-1", ns="ns1"), twin_update({"temperature": ("50", "float")}), qos=1)
        wait_result(sub, device="hup-1", kind="out-of-range", anomaly=False)
        self.assertTrue(b.running(), b.log())
        rc, log = b.stop()
        self.assertEqual(rc, 0, log)


if __name__ == "__main__":
    unittest.main()
