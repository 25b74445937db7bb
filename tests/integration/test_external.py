# SPDX-License-Identifier: Apache-2.0
"""The plugin's StreamDetect client against a real edge-anomaly-detectord:
a route with `external:` sends its samples to the server, whose verdicts
come back as results like a local detector's; when the server is killed
mid-stream the broker keeps delivering, samples wait in the buffer and
are counted, and the stream resumes when the server is back (the
reconnect time is measured and printed)."""
import os
import time
import unittest

from broker import (RESULT_PREFIX, connect, require_broker, start_broker, sys_stats, twin_update,
                    twin_update_topic, wait_result)
from test_detectord import Detectord, free_port, make_certs

SERVER_CONFIG = """\
routes:
  - match: {property: temp}
    detectors: [{range: {min: 0, max: 100}}]
"""


def broker_config(port):
    return """\
stats_interval: 1s
routes:
  - name: to detectord
    match: {property: temp}
    detectors: []
    external: {target: "127.0.0.1:%d", timeout: 2s, buffer: 1000}
""" % port


class ExternalTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_broker()

    def test_results_from_the_server_and_recovery_after_it_dies(self):
        port = free_port()
        server = Detectord(self, config=SERVER_CONFIG, port=port)
        broker = start_broker(self, config_yaml=broker_config(port))
        results = connect(self, broker.port)
        results.subscribe(RESULT_PREFIX + "#", qos=1)
        raw = connect(self, broker.port)
        raw.subscribe("$hw/events/device/#", qos=1)
        stats = sys_stats(self, broker.port)
        pub = connect(self, broker.port)
        topic = twin_update_topic("boiler-9")

        for value in ("20", "180"):
            pub.publish(topic, twin_update({"temp": value}), qos=1)
        _, r = wait_result(results, timeout=15, device="boiler-9", anomaly=True)
        self.assertEqual(r["detector"], "range")
        self.assertEqual(r["kind"], "out-of-range")
        self.assertIn("180", r["reason"])
        pub.publish(topic, twin_update({"temp": "30"}), qos=1)
        wait_result(results, timeout=15, device="boiler-9", anomaly=False)
        b = stats.wait_until(lambda s: s.get("external/answered", 0) >= 3 and s.get("external/connected") == 1,
                             what="three answers on a connected stream")
        self.assertEqual(b["external/servers"], 1)

        # the server dies mid-stream
        server.stop()
        stats.wait_until(lambda s: s.get("external/connected") == 0, what="the stream noticed as gone")
        before = raw.count("$hw/events/device/")
        outage = ["150", "40", "160", "45", "170"]
        for value in outage:
            pub.publish(topic, twin_update({"temp": value}), qos=1)
        raw.wait_count(before + len(outage), prefix="$hw/events/device/", timeout=10)  # delivery goes on
        self.assertTrue(broker.running())

        # back on the same port: the buffered samples go through
        restarted = time.monotonic()
        Detectord(self, config=SERVER_CONFIG, port=port)
        b = stats.wait_until(lambda s: s.get("external/connected") == 1 and s.get("external/answered", 0) >= 3 + 5,
                             timeout=30, what="the stream resumed and the buffered samples answered")
        reconnect_s = time.monotonic() - restarted
        print("\nexternal: stream resumed %.2f s after detectord restarted; reconnects %d, lost in flight %d, "
              "dropped %d" % (reconnect_s, b["external/reconnects"], b["external/lost_in_flight"],
                               b["external/dropped"]), flush=True)
        self.assertGreaterEqual(b["external/reconnects"], 1)
        self.assertEqual(b["external/dropped"], 0)
        raised = [r for _, r in results_of(results, "boiler-9") if r["anomaly"]]
        self.assertGreaterEqual(len(raised), 2, "the outage's out-of-range samples raised again after the restart")


    def test_tls_client_certificate_and_token(self):
        """The route's tls (CA, client certificate) and token reach a
        detectord that requires mutual TLS and a bearer token."""
        certs, _ = make_certs(self)
        # mosquitto started as root runs the plugin as user mosquitto: let it read the test's keys
        os.chmod(certs, 0o755)
        for name in os.listdir(certs):
            os.chmod(os.path.join(certs, name), 0o644)
        token = os.path.join(certs, "token")
        with open(token, "w") as f:
            f.write("t0ken\n")
        port = free_port()
        Detectord(self, config=SERVER_CONFIG, port=port,
                  extra=("--tls-cert", os.path.join(certs, "server.pem"), "--tls-key", os.path.join(certs, "server.key"),
                         "--tls-client-ca", os.path.join(certs, "ca.pem"), "--token-file", token))
        config = """\
routes:
  - match: {property: temp}
    detectors: []
    external:
      target: "localhost:%d"
      tls: {ca: %s, cert: %s, key: %s}
      token: t0ken
""" % (port, os.path.join(certs, "ca.pem"), os.path.join(certs, "client.pem"), os.path.join(certs, "client.key"))
        broker = start_broker(self, config_yaml=config)
        results = connect(self, broker.port)
        results.subscribe(RESULT_PREFIX + "#", qos=1)
        pub = connect(self, broker.port)
        pub.publish(twin_update_topic("boiler-tls"), twin_update({"temp": "500"}), qos=1)
        _, r = wait_result(results, timeout=15, device="boiler-tls", anomaly=True)
        self.assertEqual(r["kind"], "out-of-range")


def results_of(client, device):
    from broker import result_messages
    return result_messages(client, device=device)


if __name__ == "__main__":
    unittest.main()
