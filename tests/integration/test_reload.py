# SPDX-License-Identifier: Apache-2.0
"""SIGHUP re-reads the plugin's YAML file (MOSQ_EVT_RELOAD): new detector
parameters apply at once, series whose chain did not change keep their
state, a config that became invalid is refused (file:line:column in the
log) and the running one stays, keys that size threads and memory wait for
a restart, and a storm of reloads under traffic breaks nothing. One run is
under valgrind."""
import re
import sys
import threading
import time
import unittest

from broker import (RESULT_PREFIX, VALGRIND, Client, SysStats, require_broker, result_messages, start_broker,
                    twin_update, twin_update_topic, wait_result)

NS = "hup"

TEMPLATE = """\
workers: %(workers)d
stats_interval: %(stats)s
routes:
  - name: temperature
    match: {property: temperature}
    detectors:
      - range: {min: 0, max: %(max)s}
  - name: level
    match: {property: level}
    detectors:
      - stuck: {samples: 6}
"""


def config(max_=120, workers=1, stats="1s"):
    return TEMPLATE % {"max": max_, "workers": workers, "stats": stats}


class FreshSync:
    """Client.sync() subscribes to the same filter each time; mosquitto
    2.0.11 leaks the filter string when a client subscribes again to a
    filter it already has (20 bytes for "x/y", reported by valgrind as
    definitely lost, without the plugin too). These clients sync on a new
    filter each time, so that a valgrind leak report is about the plugin."""

    _syncs = 0

    def sync(self, timeout=10.0):
        self._syncs += 1
        self.subscribe("ea-it/sync/%d" % self._syncs, qos=0, timeout=timeout)
        return self.last_suback_seq


class SyncClient(FreshSync, Client):
    pass


class SyncStats(FreshSync, SysStats):
    pass


def connect(testcase, port, cls=SyncClient, **kw):
    c = cls(port, **kw)
    testcase.addCleanup(c.close)
    return c


def pos(text, needle):
    """1-based (line, column) of needle in text."""
    at = text.index(needle)
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


class ReloadBase(unittest.TestCase):
    valgrind = False

    @classmethod
    def setUpClass(cls):
        require_broker()

    def start(self, config_yaml):
        kw = {"valgrind": True} if self.valgrind else {}
        self.b = start_broker(self, config_yaml=config_yaml, **kw)
        timeout = 60 if self.valgrind else 10
        self.res = connect(self, self.b.port, connect_timeout=timeout)
        self.res.subscribe(RESULT_PREFIX + "#", qos=1)
        self.stats = connect(self, self.b.port, cls=SyncStats, connect_timeout=timeout)
        self.pub = connect(self, self.b.port, connect_timeout=timeout)
        self.t = 1761552000000
        return self.b

    @property
    def slow(self):
        return 10 if self.valgrind else 1

    def send(self, device, prop, value):
        self.t += 1000
        self.pub.publish(twin_update_topic(device, ns=NS), twin_update({prop: (value, "float")}, timestamp=self.t),
                         qos=1)

    def handled(self, before):
        """Waits until every sample sent since the batch `before` is handled
        and its results are published, and the results client has them."""
        sent = self.pub_count - before["_sent"]
        self.stats.wait_until(
            lambda x: x["samples/received"] - before["samples/received"] >= sent and x["queue/depth"] == 0
            and x["results/pending"] == 0, timeout=20 * self.slow, what="samples handled")
        self.res.sync(timeout=10 * self.slow)

    def mark(self):
        b = self.stats.batch(timeout=10 * self.slow)
        b["_sent"] = self.pub_count
        return b

    pub_count = 0

    def send_counted(self, device, prop, value):
        self.send(device, prop, value)
        self.pub_count += 1

    def results_for(self, device):
        return [r for _, r in result_messages(self.res, device=device, ns=NS)]

    def reload(self, config_yaml, expect):
        """Writes the YAML file, sends SIGHUP and waits for the plugin's log
        line containing `expect` (one more than before); returns that line."""
        n = self.b.log().count(expect)
        self.b.rewrite_config(config_yaml)
        self.b.reload(timeout=10 * self.slow)
        deadline = time.monotonic() + 10 * self.slow
        while self.b.log().count(expect) <= n:
            if time.monotonic() > deadline:
                raise AssertionError("no new %r in the log after SIGHUP; log:\n%s" % (expect, self.b.log()[-4000:]))
            time.sleep(0.02)
        return [l for l in self.b.log().splitlines() if expect in l][-1]

    def assertNotFlagged(self, device, value):
        before = self.mark()
        self.send_counted(device, "temperature", value)
        self.handled(before)
        self.assertEqual(self.results_for(device), [], "value %s on %s was flagged" % (value, device))

    def assertFlagged(self, device, value, limit):
        self.send_counted(device, "temperature", value)
        _, r = wait_result(self.res, timeout=20 * self.slow, namespace=NS, device=device, property="temperature",
                           kind="out-of-range", anomaly=True)
        if limit is not None:
            self.assertIn("maximum %s" % limit, r["reason"])
        return r

    # the two scenarios run again under valgrind

    def scenario_new_max(self):
        """(a) range max 120 -> 50: a value of 80 is not flagged before the
        reload and flagged after it."""
        self.start(config(max_=120))
        self.assertNotFlagged("a-1", "80")
        line = self.reload(config(max_=50), "edge-anomaly: reloaded")
        self.assertIn(self.b.config_path, line)
        self.assertFlagged("a-1", "80", 50)   # the same series: its chain changed, it starts again
        self.assertFlagged("a-2", "80", 50)   # a new series
        self.assertTrue(self.b.running())

    def scenario_refused(self):
        """(c) a config that became invalid is refused at each SIGHUP with
        file:line:column, and the running one (max 50) keeps flagging 80: a
        YAML syntax error, an unknown key, a bad value. A valid file
        afterwards applies again."""
        good = config(max_=50)
        self.start(good)
        self.assertFlagged("c-0", "80", 50)

        broken = good.replace("{min: 0, max: 50}", "{min: 0, max: 50")
        line = self.reload(broken, "reload refused")
        self.assertRegex(line, re.escape(self.b.config_path) + r":\d+:\d+: YAML syntax error")
        self.assertIn("the running config stays", line)
        self.assertFlagged("c-1", "80", 50)

        unknown = good + "wrkers: 3\n"
        line = self.reload(unknown, "reload refused")
        l, c = pos(unknown, "wrkers")
        self.assertIn("%s:%d:%d: key 'wrkers': unknown key" % (self.b.config_path, l, c), line)
        self.assertFlagged("c-2", "80", 50)

        bad_value = good.replace("max: 50}", "max: hot}")
        line = self.reload(bad_value, "reload refused")
        l, c = pos(bad_value, "hot")
        self.assertIn("%s:%d:%d: key 'routes[0].detectors[0].range.max'" % (self.b.config_path, l, c), line)
        self.assertFlagged("c-3", "80", 50)

        self.reload(config(max_=120), "edge-anomaly: reloaded")
        self.assertNotFlagged("c-4", "80")
        self.assertFlagged("c-5", "130", 120)
        self.assertTrue(self.b.running())


class ReloadTest(ReloadBase):
    """A broker per test; the YAML file is rewritten and SIGHUP sent."""

    def tearDown(self):
        b = getattr(self, "b", None)
        if b is not None and b.proc is not None:
            self.assertTrue(b.running(), "the broker died; log:\n" + b.log()[-5000:])
            rc, log = b.stop()
            self.assertEqual(rc, 0, "mosquitto exited %s; log:\n%s" % (rc, log[-3000:]))

    def test_a_changed_range_max_applies(self):
        """(a) A route's range max changed from 120 to 50 in the file,
        SIGHUP, "edge-anomaly: reloaded" logged: a value of 80 that was not
        flagged before now raises out-of-range (on the series that saw 80
        before and on a new one)."""
        self.scenario_new_max()

    def test_b_series_state_survives_unrelated_change(self):
        """(b) stuck {samples: 6}: 4 equal values, a reload that changes only
        stats_interval, 2 more equal values: stuck raises on the 6th (the
        series kept its run of 4 across the reload); nothing was raised
        before."""
        self.start(config(max_=120, stats="1s"))
        before = self.mark()
        for _ in range(4):
            self.send_counted("b-1", "level", "7")
        self.handled(before)
        self.assertEqual(self.results_for("b-1"), [])
        self.reload(config(max_=120, stats="2s"), "edge-anomaly: reloaded")
        for _ in range(2):
            self.send_counted("b-1", "level", "7")
        _, r = wait_result(self.res, timeout=20, namespace=NS, device="b-1", property="level", kind="stuck",
                           anomaly=True)
        self.assertRegex(r["reason"], r"for 6 readings")

    def test_c_invalid_config_refused_old_one_kept(self):
        """(c) A syntax error, an unknown key and a bad value, each on its
        own SIGHUP: "reload refused" with file:line:column, and the old
        config keeps working (80 is still flagged by the max-50 route)."""
        self.scenario_refused()

    def test_d_workers_change_needs_restart(self):
        """(d) workers changed from 1 to 2 in the file: the log says it
        takes effect at the next restart, the broker keeps running on 1
        worker ($SYS workers stays 1) and the rest of the file applies (the
        new max 50 flags 80)."""
        self.start(config(max_=120, workers=1))
        line = self.reload(config(max_=50, workers=2), "take effect at the next broker restart")
        self.assertIn("workers", line)
        self.b.wait_log("edge-anomaly: reloaded", timeout=10)
        self.assertTrue(self.b.running())
        self.assertFlagged("d-1", "80", 50)
        self.assertEqual(self.stats.fresh("workers"), 1)

    def test_e_sighup_storm_under_traffic(self):
        """(e) 20 SIGHUPs in a row (each one handled before the next is
        sent), alternating between two valid configs whose range differs,
        while a publisher keeps sending values that raise and clear: the
        broker stays up, every SIGHUP gives the plugin's "reloaded" line or
        its "try again" warning (at most 8 replaced configs wait for the
        workers), results keep arriving during the storm and after it, and
        the broker then exits 0 on SIGTERM."""
        self.start(config(max_=120))
        stop = threading.Event()
        sent = [0]
        errors = []
        traffic = connect(self, self.b.port)

        def publish():
            i = 0
            try:
                while not stop.is_set():
                    value = "500" if i % 2 == 0 else "50"
                    traffic.publish(twin_update_topic("e-%d" % (i % 8), ns=NS),
                                    twin_update({"temperature": (value, "float")}), qos=1)
                    sent[0] += 1
                    i += 1
                    time.sleep(0.002)
            except Exception as e:
                errors.append(e)
        t = threading.Thread(target=publish, daemon=True)
        t.start()
        self.addCleanup(stop.set)
        wait_result(self.res, timeout=10, namespace=NS, kind="out-of-range", anomaly=True)
        counts = []
        n0 = self.res.count(RESULT_PREFIX)
        configs = [config(max_=100, stats="2s"), config(max_=120, stats="1s")]
        for k in range(20):
            self.b.rewrite_config(configs[k % 2])
            self.b.reload(timeout=10)
            counts.append(self.res.count(RESULT_PREFIX))
        # the plugin handles each reload on the broker thread right after
        # mosquitto's "Reloading config." line
        deadline = time.monotonic() + 10
        while True:
            log = self.b.log()
            done = log.count("edge-anomaly: reloaded") + log.count("try again in a second")
            if done >= 20 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(done, 20, "plugin reload lines: %d of 20; log:\n%s" % (done, log[-4000:]))
        self.assertEqual(log.count("reload refused"), 0, log[-4000:])
        during = self.res.count(RESULT_PREFIX) - n0
        stop.set()
        t.join(10)
        self.assertEqual(errors, [], "publishing failed during the storm")
        self.assertTrue(self.b.running(), "the broker died; log:\n" + log[-5000:])
        self.assertGreater(during, 0, "no result during the storm")
        print("\nSIGHUP storm: 20 reloads (%d reloaded, %d deferred), %d messages published, %d results "
              "during the storm" % (log.count("edge-anomaly: reloaded"), log.count("try again in a second"),
                                   sent[0], during), file=sys.stderr)
        # results still arrive after the storm (130 is above both maxima), and
        # a reload after it still applies
        self.assertFlagged("e-after", "130", None)
        self.reload(config(max_=50), "edge-anomaly: reloaded")
        self.assertFlagged("e-after-50", "80", 50)


@unittest.skipIf(VALGRIND is None, "valgrind is not installed")
class ReloadValgrindTest(ReloadBase):
    """valgrind is the sanitizer for the plugin inside the real broker:
    mosquitto + plugin under `valgrind --leak-check=full
    --errors-for-leak-kinds=definite --error-exitcode=99`."""

    valgrind = True

    def test_reload_scenarios_under_valgrind(self):
        """(a) then (c) under valgrind, each on its own broker, then SIGTERM:
        both behave as without valgrind, mosquitto exits 0 (valgrind's error
        exit code 99 did not fire) and valgrind reports no definite leak."""
        for scenario in (self.scenario_new_max, self.scenario_refused):
            with self.subTest(scenario.__name__):
                scenario()
                for c in (self.res, self.stats, self.pub):
                    c.close()
                rc, log = self.b.stop(timeout=120)
                vg = self.b.valgrind_log()
                self.assertTrue(vg, "no valgrind log")
                self.assertNotEqual(rc, 99, "valgrind reported errors; valgrind log:\n" + vg[-6000:])
                self.assertEqual(rc, 0, "mosquitto exited %s; log:\n%s\nvalgrind:\n%s" % (rc, log[-3000:], vg[-3000:]))
                no_leak = re.search(r"definitely lost: 0 bytes in 0 blocks", vg) or "All heap blocks were freed" in vg \
                    or "no leaks are possible" in vg
                self.assertTrue(no_leak, "definite leaks; valgrind log:\n" + vg[-6000:])
                self.assertRegex(vg, r"ERROR SUMMARY: 0 errors")


if __name__ == "__main__":
    unittest.main()
