# SPDX-License-Identifier: Apache-2.0
"""Configuration at broker start: errors stop mosquitto with a message that
names the file, line, column and key; no config runs on the defaults."""
import re
import unittest

from broker import (RESULT_PREFIX, Broker, connect, require_broker, start_broker, twin_update,
                    twin_update_topic, wait_result)


def pos(text, needle, nth=1):
    """1-based (line, column) of the nth occurrence of needle in text."""
    at = -1
    for _ in range(nth):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at) + 1
    col = at - (text.rfind("\n", 0, at) + 1) + 1
    return line, col


class ConfigErrorTest(unittest.TestCase):
    """A config with an error makes mosquitto exit non-zero at start."""

    @classmethod
    def setUpClass(cls):
        require_broker()

    def refused(self, config_yaml=None, plugin_opts=()):
        b = Broker(config_yaml=config_yaml, plugin_opts=plugin_opts)
        self.addCleanup(b.cleanup)
        rc, log = b.run_until_exit(timeout=15)
        self.assertNotEqual(rc, 0, "mosquitto accepted the config; log:\n" + log)
        self.assertIn("Error: Plugin returned", log, "mosquitto did not refuse the plugin; log:\n" + log)
        return b, log

    def assertNamed(self, config_yaml, needle, key, what, nth=1):
        """The log has '<path>:<line>:<col>: key '<key>'' at the position of
        `needle` in the YAML, and `what` in the same line."""
        b, log = self.refused(config_yaml)
        line, col = pos(config_yaml, needle, nth)
        want = "%s:%d:%d: key '%s'" % (b.config_path, line, col, key)
        lines = [l for l in log.splitlines() if want in l]
        self.assertTrue(lines, "no %r in the log:\n%s" % (want, log))
        self.assertIn(what, lines[0])
        return log

    def test_unknown_top_level_key(self):
        """An unknown top-level key (a typo) is refused at its position."""
        yaml = "workers: 2\nstats_interval: 1s\nwrkers: 3\n"
        self.assertNamed(yaml, "wrkers", "wrkers", "unknown key")

    def test_unknown_nested_key(self):
        """An unknown key inside a mapping is named by its full path."""
        yaml = "queue:\n  capacity: 64\n  max_payloads: 1KiB\n"
        self.assertNamed(yaml, "max_payloads", "queue.max_payloads", "unknown key")

    def test_bad_duration(self):
        """A duration that does not parse is refused at the value."""
        yaml = "stats_interval: 1s\nidle_check: 5 parsecs\n"
        self.assertNamed(yaml, "5 parsecs", "idle_check", "duration")

    def test_bad_nested_duration(self):
        """results.repeat_interval with a bad duration names its full path."""
        yaml = "results:\n  qos: 1\n  repeat_interval: ten minutes\n"
        self.assertNamed(yaml, "ten minutes", "results.repeat_interval", "duration")

    def test_unknown_detector(self):
        """An unknown detector name in a route is refused at the name, with
        the route and list index in the key."""
        yaml = ("routes:\n"
                "  - name: r\n"
                "    detectors:\n"
                "      - range: {min: 0, max: 1}\n"
                "      - spikes\n")
        self.assertNamed(yaml, "spikes", "routes[0].detectors[1]", "unknown detector 'spikes'")

    def test_range_min_above_max(self):
        """range with min > max is refused at its parameters, key
        routes[0].detectors[0].range."""
        yaml = ("routes:\n"
                "  - match: {device: \"x*\"}\n"
                "    detectors:\n"
                "      - range: {min: 10, max: 0}\n")
        self.assertNamed(yaml, "{min: 10", "routes[0].detectors[0].range", "above max")

    def test_range_min_above_max_second_route(self):
        """The index of a later route is right too (routes[1])."""
        yaml = ("routes:\n"
                "  - detectors: [type]\n"
                "  - detectors:\n"
                "      - type\n"
                "      - range:\n"
                "          min: 5\n"
                "          max: 1\n")
        self.assertNamed(yaml, "min: 5", "routes[1].detectors[1].range", "above max")

    def test_yaml_syntax_error(self):
        """A YAML syntax error names the file, line and column."""
        yaml = "workers: 2\nqueue: 1: 2\n"
        b, log = self.refused(yaml)
        want = "%s:2:9: YAML syntax error" % b.config_path
        self.assertIn(want, log)

    def test_missing_config_file(self):
        """A plugin_opt_config naming no file is refused, naming the path."""
        b = Broker(config_yaml=None, plugin_opts=[("config", "/nonexistent/ea-it/config.yaml")])
        self.addCleanup(b.cleanup)
        rc, log = b.run_until_exit(timeout=15)
        self.assertNotEqual(rc, 0, log)
        self.assertIn("/nonexistent/ea-it/config.yaml", log)

    def test_unknown_plugin_opt_refused(self):
        """An unknown plugin_opt_ key (plugin_opt_confg) is refused and named."""
        b, log = self.refused(None, plugin_opts=[("confg", "/tmp/x.yaml")])
        self.assertIn("plugin_opt_confg", log)


class DefaultsTest(unittest.TestCase):
    """No plugin_opt_config: the plugin runs on its built-in defaults."""

    @classmethod
    def setUpClass(cls):
        require_broker()
        cls.broker = start_broker(cls, config_yaml=None)

    def test_defaults_detect_type_error(self):
        """Without any config the default topics are tapped and the default
        chain still reports a type error ("abc" for a float) on the default
        result topic."""
        self.assertTrue(re.search(r"edge-anomaly .*config \(defaults\)", self.broker.log()), self.broker.log())
        sub = connect(self, self.broker.port)
        sub.subscribe(RESULT_PREFIX + "#", qos=1)
        pub = connect(self, self.broker.port)
        pub.publish(twin_update_topic("dflt-dev", ns="ns1"), twin_update({"temperature": ("abc", "float")}), qos=1)
        m, r = wait_result(sub, device="dflt-dev", anomaly=True)
        self.assertEqual(m.topic, "edge-anomaly/ns1/dflt-dev/temperature")
        self.assertEqual(r["kind"], "type-error")
        self.assertEqual(m.qos, 1, "default results.qos is 1")


if __name__ == "__main__":
    unittest.main()
