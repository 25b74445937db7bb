# SPDX-License-Identifier: Apache-2.0
"""A user's detector library inside the real broker: the example library
(examples/detectors/hysteresis.c) named in the YAML raises and clears
results like a built-in detector; SIGHUP reloads keep it working (the
library stays loaded) with new parameters, and refuse a file that uses its
detector without naming the library; a library built for another detector
ABI stops the broker at start with a message saying so. One run is under
valgrind (no errors, no definite leak, exit 0 on SIGTERM)."""
import os
import re
import time
import unittest

from broker import (BUILD_DIR, VALGRIND, Broker, connect, require_broker, start_broker, twin_update,
                    twin_update_topic, wait_result)

EXAMPLE = os.path.join(BUILD_DIR, "examples", "libea_example_hysteresis.so")
OTHER_ABI = os.path.join(BUILD_DIR, "examples", "libea_test_abi_other.so")


def reload_and_expect(broker, config_yaml, expect, timeout=10.0):
    """Rewrites the YAML file, sends SIGHUP and returns the new log line
    that contains `expect`."""
    n = broker.log().count(expect)
    broker.rewrite_config(config_yaml)
    broker.reload(timeout=timeout)
    deadline = time.monotonic() + timeout
    while broker.log().count(expect) <= n:
        if time.monotonic() > deadline:
            raise AssertionError("no new %r in the log after SIGHUP; log:\n%s" % (expect, broker.log()[-4000:]))
        time.sleep(0.02)
    return [line for line in broker.log().splitlines() if expect in line][-1]


class UserDetectorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_broker()
        if not os.path.exists(EXAMPLE):
            raise AssertionError("%s is missing: run `make all` first" % EXAMPLE)

    def test_example_library_raises_and_clears(self):
        config = ("detector_libraries: ['%s']\n"
                  "routes:\n"
                  "  - match: {property: pressure}\n"
                  "    detectors: [{hysteresis: {high: 8, low: 6}}]\n" % EXAMPLE)
        broker = start_broker(self, config_yaml=config)
        sub = connect(self, broker.port)
        sub.subscribe("edge-anomaly/#", qos=1)
        pub = connect(self, broker.port)
        topic = twin_update_topic("pump-1")
        for value in ("5", "9", "7"):
            pub.publish(topic, twin_update({"pressure": value}), qos=1)
        _, raised = wait_result(sub, device="pump-1", kind="hysteresis", anomaly=True)
        self.assertEqual(raised["detector"], "hysteresis")
        self.assertEqual(float(raised["value"]), 9)
        self.assertIn("went above 8", raised["reason"])
        pub.publish(topic, twin_update({"pressure": "5.5"}), qos=1)
        _, cleared = wait_result(sub, device="pump-1", kind="hysteresis", anomaly=False)
        self.assertEqual(float(cleared["value"]), 5.5)
        self.assertTrue(broker.running())

    def reload_scenario(self, valgrind=False):
        template = ("%s"
                    "routes:\n"
                    "  - match: {property: pressure}\n"
                    "    detectors: [{hysteresis: {high: %d, low: %d}}]\n")
        names_it = "detector_libraries: ['%s']\n" % EXAMPLE
        timeout = 60 if valgrind else 10
        broker = start_broker(self, config_yaml=template % (names_it, 8, 6), valgrind=valgrind)
        sub = connect(self, broker.port, connect_timeout=timeout)
        sub.subscribe("edge-anomaly/#", qos=1)
        pub = connect(self, broker.port, connect_timeout=timeout)
        pub.publish(twin_update_topic("pump-1"), twin_update({"pressure": "9"}), qos=1)
        wait_result(sub, timeout=timeout, device="pump-1", kind="hysteresis", anomaly=True)

        reload_and_expect(broker, template % (names_it, 20, 10), "edge-anomaly: reloaded", timeout)
        topic = twin_update_topic("pump-2")
        for value in ("15", "25"):
            pub.publish(topic, twin_update({"pressure": value}), qos=1)
        _, raised = wait_result(sub, timeout=timeout, device="pump-2", kind="hysteresis", anomaly=True)
        self.assertEqual(float(raised["value"]), 25)
        self.assertIn("went above 20 and has not come back below 10", raised["reason"])

        line = reload_and_expect(broker, template % ("", 30, 10), "reload refused", timeout)
        self.assertIn("detector 'hysteresis' comes from ", line)
        self.assertIn("which this file does not list under detector_libraries", line)
        # the running config (high 20) stays
        topic = twin_update_topic("pump-3")
        pub.publish(topic, twin_update({"pressure": "21"}), qos=1)
        _, raised = wait_result(sub, timeout=timeout, device="pump-3", kind="hysteresis", anomaly=True)
        self.assertIn("went above 20", raised["reason"])
        self.assertTrue(broker.running())
        return broker, (sub, pub)

    def test_reload_keeps_the_library_and_refuses_a_file_that_does_not_name_it(self):
        self.reload_scenario()

    def test_under_valgrind(self):
        if VALGRIND is None:
            raise unittest.SkipTest("valgrind is not installed")
        broker, clients = self.reload_scenario(valgrind=True)
        for c in clients:
            c.close()
        rc, log = broker.stop(timeout=120)
        vg = broker.valgrind_log()
        self.assertNotEqual(rc, 99, "valgrind reported errors; valgrind log:\n" + vg[-6000:])
        self.assertEqual(rc, 0, "mosquitto exited %s; log tail:\n%s" % (rc, log[-3000:]))
        no_leak = re.search(r"definitely lost: 0 bytes in 0 blocks", vg) or "All heap blocks were freed" in vg \
            or "no leaks are possible" in vg
        self.assertTrue(no_leak, "definite leaks; valgrind log:\n" + vg[-6000:])

    def test_library_for_another_abi_stops_the_broker(self):
        config = "detector_libraries: ['%s']\n" % OTHER_ABI
        b = Broker(config_yaml=config)
        self.addCleanup(b.cleanup)
        rc, log = b.run_until_exit(timeout=15)
        self.assertNotEqual(rc, 0, "mosquitto accepted the config; log:\n" + log)
        self.assertIn("was built for detector ABI 2; this edge-anomaly speaks ABI 1", log)
        self.assertIn("%s:1:" % b.config_path, log)


if __name__ == "__main__":
    unittest.main()
