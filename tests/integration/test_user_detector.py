# SPDX-License-Identifier: Apache-2.0
"""A user's detector library inside the real broker: the example library
(examples/detectors/hysteresis.c) named in the YAML raises and clears
results like a built-in detector; a library built for another detector ABI
stops the broker at start with a message saying so."""
import os
import unittest

from broker import (BUILD_DIR, Broker, connect, require_broker, start_broker, twin_update,
                    twin_update_topic, wait_result)

EXAMPLE = os.path.join(BUILD_DIR, "examples", "libea_example_hysteresis.so")
OTHER_ABI = os.path.join(BUILD_DIR, "examples", "libea_test_abi_other.so")


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
