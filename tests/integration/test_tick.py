# SPDX-License-Identifier: Apache-2.0
"""mosquitto 2.0.11-2.0.14 never call MOSQ_EVT_TICK with
per_listener_settings true: the plugin says so at start and, once 3 s pass
without a tick, publishes results from the message callback."""
import time
import unittest

from broker import (RESULT_PREFIX, connect, require_broker, start_broker, twin_update, twin_update_topic,
                    wait_result)

CONFIG = "stats_interval: 1s\n"
FALLBACK = "has not called MOSQ_EVT_TICK"


def broker_version():
    import subprocess
    from broker import MOSQUITTO
    out = subprocess.run([MOSQUITTO, "-h"], capture_output=True, text=True).stdout
    for word in out.split():
        if word.startswith("2.0."):
            return word
    return None


class PerListenerTickTest(unittest.TestCase):
    """per_listener_settings true, the plugin line under the listener."""

    @classmethod
    def setUpClass(cls):
        require_broker()
        version = broker_version()
        if version is None or int(version.split(".")[2]) >= 15:
            raise unittest.SkipTest("mosquitto %s ticks plugins with per_listener_settings true" % version)
        cls.version = version
        cls.broker = start_broker(cls, config_yaml=CONFIG, global_conf=["per_listener_settings true"])

    def test_start_error_and_fallback_publishing(self):
        """At start the log has an error naming per_listener_settings and the
        broker version (2.0.11); after >3 s of traffic without a tick the
        plugin logs the fallback, and a bad-type value published after that
        still gives its result while messages keep flowing."""
        start_lines = [l for l in self.broker.log().splitlines()
                       if "edge-anomaly" in l and "per_listener_settings" in l]
        self.assertTrue(start_lines, "no start error about per_listener_settings; log:\n" + self.broker.log())
        self.assertIn(self.version, start_lines[0])
        self.assertIn(self.broker.conf_path, start_lines[0])
        self.assertNotIn(FALLBACK, self.broker.log(), "fallback before any traffic")

        sub = connect(self, self.broker.port)
        sub.subscribe(RESULT_PREFIX + "#", qos=1)
        pub = connect(self, self.broker.port)
        deadline = time.monotonic() + 15
        while FALLBACK not in self.broker.log():
            self.assertLess(time.monotonic(), deadline, "no fallback message; log:\n" + self.broker.log())
            pub.publish("traffic/heartbeat", b"hb", qos=1)
            time.sleep(0.2)
        self.assertGreaterEqual(time.monotonic() - self.broker.start_time, 3.0,
                                "fallback before 3 s without a tick")
        fallback = [l for l in self.broker.log().splitlines() if FALLBACK in l]
        self.assertEqual(len(fallback), 1, fallback)
        self.assertIn("per_listener_settings", fallback[0])

        # wait 3.5 s of uptime at least, then a bad value and a few more messages
        while time.monotonic() - self.broker.start_time < 3.5:
            time.sleep(0.05)
        pub.publish(twin_update_topic("tick-dev", ns="ns1"), twin_update({"temperature": ("abc", "float")}), qos=1)
        found = None
        deadline = time.monotonic() + 10
        while found is None and time.monotonic() < deadline:
            pub.publish("traffic/heartbeat", b"hb", qos=1)
            try:
                found = wait_result(sub, timeout=0.1, device="tick-dev", anomaly=True)
            except AssertionError:
                pass
        self.assertIsNotNone(found, "no result in fallback mode; log:\n" + self.broker.log())
        self.assertEqual(found[1]["kind"], "type-error")
        self.assertTrue(self.broker.running())


class NormalTickTest(unittest.TestCase):
    """per_listener_settings false (the default): no tick warning."""

    @classmethod
    def setUpClass(cls):
        require_broker()
        cls.broker = start_broker(cls, config_yaml=CONFIG)

    def test_no_tick_warning(self):
        """Without per_listener_settings the plugin logs no tick problem,
        neither at start nor after 3 s of traffic."""
        pub = connect(self, self.broker.port)
        while time.monotonic() - self.broker.start_time < 3.5:
            pub.publish("traffic/heartbeat", b"hb", qos=1)
            time.sleep(0.2)
        pub.publish("traffic/heartbeat", b"hb", qos=1)
        log = self.broker.log()
        self.assertNotIn("per_listener_settings", log)
        self.assertNotIn(FALLBACK, log)


if __name__ == "__main__":
    unittest.main()
