# SPDX-License-Identifier: Apache-2.0
"""Device anomaly state sent to DeviceStatus through EdgeCore's MetaServer.

The Kubernetes API server (behind EdgeCore's MetaServer) cannot run on
these machines, so the MetaServer is FAKED here: a local HTTP server that
applies JSON merge patches (RFC 7386) to DeviceStatus objects it holds and
that can answer 503, stall past the client's timeout, or not listen at
all, on command. The broker and the plugin are real."""
import json
import os
import shutil
import socket
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from broker import (Broker, connect, require_broker, start_broker, sys_stats, twin_update, twin_update_topic,
                    wait_result)

PREFIX = "/apis/devices.kubeedge.io/v1beta1/namespaces/"


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


class FakeMetaServer:
    """DeviceStatus objects by (namespace, name); mode 'ok', 'fail' (503) or
    'stall' (answers after 3 s)."""

    def __init__(self, port=0, tls=None, token=None):
        self.objects = {}
        self.token = token
        self.requests = []
        self.mode = "ok"
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_PATCH(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with fake.lock:
                    fake.requests.append((self.path, self.headers.get("Content-Type"), body))
                    mode = fake.mode
                if fake.token is not None and self.headers.get("Authorization") != "Bearer " + fake.token:
                    self.send_response(401)
                    self.end_headers()
                    return
                if mode == "stall":
                    time.sleep(3)
                if mode != "ok":
                    self.send_response(503)
                    self.end_headers()
                    return
                if not self.path.startswith(PREFIX) or "/devicestatuses/" not in self.path:
                    self.send_response(400)
                    self.end_headers()
                    return
                ns, _, name = self.path[len(PREFIX):].partition("/devicestatuses/")
                with fake.lock:
                    if (ns, name) not in fake.objects:
                        self.send_response(404)
                        self.end_headers()
                        return
                    fake.objects[(ns, name)] = merge_patch(fake.objects[(ns, name)], json.loads(body))
                    out = json.dumps(fake.objects[(ns, name)]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        if tls is not None:  # (cert file, key file): HTTPS, as with the requireAuthorization gate
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add(self, ns, name):
        with self.lock:
            self.objects[(ns, name)] = {"apiVersion": "devices.kubeedge.io/v1beta1", "kind": "DeviceStatus",
                                        "metadata": {"name": name, "namespace": ns}, "status": {"twins": []}}

    def extension(self, ns, name):
        with self.lock:
            return self.objects.get((ns, name), {}).get("status", {}).get("extensions", {}).get("edge-anomaly")

    def count(self, name):
        with self.lock:
            return sum(1 for p, _, _ in self.requests if p.endswith("/" + name))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def wait_until(pred, timeout=15, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def config(port, backlog):
    return """\
stats_interval: 1s
device_status: {url: "http://127.0.0.1:%d", interval: 200ms, timeout: 1s, backlog: %s}
routes:
  - match: {property: temp}
    detectors: [{range: {max: 100}}]
""" % (port, backlog)


class DeviceStatusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_broker()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ea-status-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        os.chmod(self.dir, 0o777)
        self.backlog = os.path.join(self.dir, "backlog.json")
        self.meta = FakeMetaServer()
        self.addCleanup(self.meta.close)

    def publish(self, broker, device, value, ns="plant"):
        pub = connect(self, broker.port)
        pub.publish(twin_update_topic(device, ns=ns), twin_update({"temp": value}), qos=1)

    def test_raise_and_clear_reach_the_devicestatus(self):
        self.meta.add("plant", "boiler-1")
        b = start_broker(self, config_yaml=config(self.meta.port, self.backlog))
        self.publish(b, "boiler-1", "180")
        ext = wait_until(lambda: (self.meta.extension("plant", "boiler-1") or {}).get("data", {}).get("anomalies", {})
                         .get("temp"), what="the anomaly in status.extensions")
        self.assertEqual(ext["kind"], "out-of-range")
        self.assertEqual(ext["detector"], "range")
        self.assertEqual(ext["value"], "180")
        self.assertIn("180", ext["reason"])
        self.assertTrue(ext["timestamp"].endswith("Z"))
        whole = self.meta.extension("plant", "boiler-1")
        self.assertGreater(whole["data"]["anomalyScore"], 0.5)
        self.assertTrue(whole["lastUpdated"].endswith("Z"))
        self.assertEqual(self.meta.requests[0][1], "application/merge-patch+json")
        # the twins CloudCore writes are not touched
        self.assertEqual(self.meta.objects[("plant", "boiler-1")]["status"]["twins"], [])
        self.publish(b, "boiler-1", "50")
        wait_until(lambda: "temp" not in self.meta.extension("plant", "boiler-1")["data"]["anomalies"],
                   what="the cleared property removed")
        self.assertEqual(self.meta.extension("plant", "boiler-1")["data"]["anomalyScore"], 0)

    def test_a_missing_devicestatus_is_reported_once_not_hammered(self):
        b = start_broker(self, config_yaml=config(self.meta.port, self.backlog))
        self.publish(b, "ghost-1", "180")
        wait_until(lambda: self.meta.count("ghost-1") >= 1, what="a first attempt")
        self.publish(b, "ghost-1", "50")
        self.publish(b, "ghost-1", "190")
        time.sleep(3)
        self.assertLessEqual(self.meta.count("ghost-1"), 2)  # retried once a minute, not per change
        self.assertEqual(b.log().count("no DeviceStatus plant/ghost-1"), 1)

    def test_https_with_a_token_file(self):
        """With the MetaServer's requireAuthorization gate: HTTPS with a
        ServiceAccount token (here a local TLS server checking the token)."""
        from test_detectord import make_certs
        certs, _ = make_certs(self)
        os.chmod(certs, 0o755)
        for name in os.listdir(certs):
            os.chmod(os.path.join(certs, name), 0o644)
        token = "sa-T0ken-9f8e7d"
        token_file = os.path.join(self.dir, "token")
        with open(token_file, "w") as f:
            f.write(token + "\n")
        os.chmod(token_file, 0o644)
        meta = FakeMetaServer(tls=(os.path.join(certs, "server.pem"), os.path.join(certs, "server.key")), token=token)
        self.addCleanup(meta.close)
        meta.add("plant", "boiler-3")
        config = """\
device_status: {url: "https://localhost:%d", token_file: %s, ca: %s, interval: 200ms, timeout: 2s}
routes:
  - match: {property: temp}
    detectors: [{range: {max: 100}}]
""" % (meta.port, token_file, os.path.join(certs, "ca.pem"))
        b = start_broker(self, config_yaml=config)
        self.publish(b, "boiler-3", "190")
        ext = wait_until(lambda: (meta.extension("plant", "boiler-3") or {}).get("data", {}).get("anomalies", {})
                         .get("temp"), what="the anomaly over HTTPS")
        self.assertEqual(ext["value"], "190")

        # the token rotates: the MetaServer takes only the new one at once,
        # the file is replaced a moment later (as kubelet does)
        new_token = "sa-T0ken-rotated-4a5b"
        meta.token = new_token
        self.publish(b, "boiler-3", "20")  # clears: a patch that is refused first
        b.wait_log("refused (HTTP 401): the token was not accepted", timeout=10)
        with open(token_file + ".new", "w") as f:
            f.write(new_token + "\n")
        os.chmod(token_file + ".new", 0o644)
        os.rename(token_file + ".new", token_file)
        wait_until(lambda: "temp" not in (meta.extension("plant", "boiler-3") or {}).get("data", {})
                   .get("anomalies", {"temp": 1}), timeout=20, what="the clear sent with the new token")
        self.assertIn("read the token again", b.log())
        for secret in (token, new_token):
            self.assertNotIn(secret, b.log())  # tokens never reach the log

    def test_outage_restart_during_outage_and_recovery(self):
        self.meta.add("plant", "boiler-2")
        self.meta.mode = "fail"
        b = start_broker(self, config_yaml=config(self.meta.port, self.backlog))
        stats = sys_stats(self, b.port)
        self.publish(b, "boiler-2", "170")
        stats.wait_until(lambda s: s.get("status/failures", 0) >= 1 and s.get("status/pending") == 1,
                         what="a failed attempt, the state kept")
        wait_until(lambda: os.path.exists(self.backlog), what="the backlog file")
        b.stop()  # the broker restarts while the MetaServer is still down

        self.meta.mode = "stall"  # and then it hangs past the client's 1 s timeout
        b2 = start_broker(self, config_yaml=config(self.meta.port, self.backlog))
        stats2 = sys_stats(self, b2.port)
        stats2.wait_until(lambda s: s.get("status/failures", 0) >= 1, what="a timed-out attempt")
        self.assertIsNone(self.meta.extension("plant", "boiler-2"))
        recovered = time.monotonic()
        self.meta.mode = "ok"
        ext = wait_until(lambda: (self.meta.extension("plant", "boiler-2") or {}).get("data", {}).get("anomalies", {})
                         .get("temp"), timeout=30, what="the state from before the restart")
        print("\nstatus: sent %.1f s after the MetaServer recovered" % (time.monotonic() - recovered), flush=True)
        self.assertEqual(ext["value"], "170")  # this broker never saw that result: it came from the backlog
        wait_until(lambda: not os.path.exists(self.backlog), what="the backlog removed once sent")


if __name__ == "__main__":
    unittest.main()
