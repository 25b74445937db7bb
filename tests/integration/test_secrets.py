# SPDX-License-Identifier: Apache-2.0
"""Nothing secret leaves through the outputs: one real broker with the
plugin using every credential it can hold (MQTT passwords of its users, a
bearer token and a client key for an external StreamDetect route, a token
file for the DeviceStatus sink over HTTPS) and every output switched on
(log_type all, results, $SYS counters, the data mirror, DeviceStatus
patches), beside a detectord with mutual TLS, a token and an access file.

After traffic that exercises each path (and each path is checked to have
worked, so the test cannot pass by doing nothing), the secrets (passwords,
tokens, the private keys' base64 body) are searched for in: the broker log,
every message a subscriber to '#' and '$SYS/#' received, the mirror's
database file, the bodies the MetaServer received, detectord's log and
`edge-anomaly check-config`'s output. The MetaServer is a local fake (the
Kubernetes API server cannot run on these machines)."""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import paho.mqtt.client as mqtt

from broker import BUILD_DIR, RESULT_PREFIX, connect, require_broker, start_broker, sys_stats, twin_update, \
    twin_update_topic, wait_result
from test_detectord import Detectord, free_port, make_certs
from test_status import FakeMetaServer, wait_until

PASSWORDS = {"mapper-1": "Mqtt-Pa55-mapper-8e1f", "app-1": "Mqtt-Pa55-app-03c2"}
WRONG_PASSWORD = "Mqtt-Wr0ng-guess-77aa"
EXTERNAL_TOKEN = "Ext-T0ken-4b9d2c61e0"
STATUS_TOKEN = "Sa-T0ken-a1b2c3d4e5f6"

SERVER_CONFIG = """\
routes:
  - match: {property: pressure}
    detectors: [{range: {min: 0, max: 100}}]
"""


def key_body(path):
    """A long base64 line from the middle of a PEM private key: enough to
    recognise any part of the key that might be printed."""
    with open(path) as f:
        lines = [line.strip() for line in f if line.strip() and not line.startswith("-----")]
    return lines[len(lines) // 2]


class SecretsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_broker()
        if shutil.which("mosquitto_passwd") is None:
            raise unittest.SkipTest("mosquitto_passwd is not installed")

    def login(self, port, user, password, expect_ok=True):
        try:
            c = mqtt.Client(client_id="it-" + user, callback_api_version=mqtt.CallbackAPIVersion.VERSION1)
        except AttributeError:  # paho 1.x
            c = mqtt.Client(client_id="it-" + user)
        c.username_pw_set(user, password)
        result = []
        c.on_connect = lambda cl, u, f, rc: result.append(rc)
        c.connect("127.0.0.1", port)
        c.loop_start()
        self.addCleanup(c.loop_stop)
        deadline = time.monotonic() + 10
        while not result and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(result[:1] == [0], expect_ok, "login of %s: %r" % (user, result))
        return c

    def test_no_secret_in_any_output(self):
        d = tempfile.mkdtemp(prefix="ea-secrets-")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o777)  # the plugin may run as user mosquitto: it writes the mirror here
        certs, _ = make_certs(self)
        os.chmod(certs, 0o755)
        for name in os.listdir(certs):
            os.chmod(os.path.join(certs, name), 0o644)
        secrets = dict(PASSWORDS, wrong=WRONG_PASSWORD, external=EXTERNAL_TOKEN, status=STATUS_TOKEN,
                       client_key=key_body(os.path.join(certs, "client.key")),
                       server_key=key_body(os.path.join(certs, "server.key")))

        # detectord: mutual TLS, the token, and an access file naming the broker's certificate
        token_file = os.path.join(certs, "detectord.token")
        with open(token_file, "w") as f:
            f.write(EXTERNAL_TOKEN + "\n")
        access = os.path.join(certs, "access.yaml")
        with open(access, "w") as f:
            f.write("clients:\n  - {name: edge-broker, cert_cn: mapper-1, namespaces: [plant]}\n")
        det_port = free_port()
        det = Detectord(self, config=SERVER_CONFIG, port=det_port,
                        extra=("--tls-cert", os.path.join(certs, "server.pem"),
                               "--tls-key", os.path.join(certs, "server.key"),
                               "--tls-client-ca", os.path.join(certs, "ca.pem"), "--token-file", token_file,
                               "--authz", access, "--stats-interval", "1"))

        # the MetaServer over HTTPS, checking the ServiceAccount token
        status_token = os.path.join(d, "sa.token")
        with open(status_token, "w") as f:
            f.write(STATUS_TOKEN + "\n")
        os.chmod(status_token, 0o644)
        meta = FakeMetaServer(tls=(os.path.join(certs, "server.pem"), os.path.join(certs, "server.key")),
                              token=STATUS_TOKEN)
        self.addCleanup(meta.close)
        meta.add("plant", "boiler-1")

        pw = os.path.join(d, "passwd")
        for i, (user, password) in enumerate(PASSWORDS.items()):
            subprocess.run(["mosquitto_passwd", "-b"] + (["-c"] if i == 0 else []) + [pw, user, password], check=True)
        os.chmod(pw, 0o644)
        db = os.path.join(d, "mirror.db")
        config = """\
stats_interval: 1s
mirror: {path: %(db)s}
device_status: {url: "https://localhost:%(meta)d", token_file: %(sa)s, ca: %(ca)s, interval: 200ms, timeout: 2s}
routes:
  - name: local
    match: {property: temp}
    detectors: [{range: {max: 100}}]
  - name: remote
    match: {property: pressure}
    detectors: []
    external:
      target: "localhost:%(det)d"
      tls: {ca: %(ca)s, cert: %(cert)s, key: %(key)s}
      token_file: %(token)s
""" % dict(db=db, meta=meta.port, sa=status_token, ca=os.path.join(certs, "ca.pem"), det=det_port,
           cert=os.path.join(certs, "client.pem"), key=os.path.join(certs, "client.key"), token=token_file)
        b = start_broker(self, config_yaml=config, log_all=True, listener_conf=["password_file " + pw])

        everything = connect(self, b.port)
        everything.subscribe(["#", "$SYS/#"], qos=0)
        stats = sys_stats(self, b.port)
        results = connect(self, b.port)
        results.subscribe(RESULT_PREFIX + "#", qos=1)
        mapper = self.login(b.port, "mapper-1", PASSWORDS["mapper-1"])
        self.login(b.port, "app-1", PASSWORDS["app-1"])
        self.login(b.port, "app-1", WRONG_PASSWORD, expect_ok=False)
        for v in ("20", "150", "30"):
            mapper.publish(twin_update_topic("boiler-1", ns="plant"), twin_update({"temp": v, "pressure": "500"}), qos=1)
            time.sleep(0.2)

        # every path worked
        try:
            wait_result(results, timeout=15, device="boiler-1", property="pressure", anomaly=True)  # via detectord
        except AssertionError:
            raise AssertionError("no result through detectord\n-- detectord:\n%s\n-- broker:\n%s"
                                 % (det.text()[-3000:], b.log()[-3000:]))
        wait_result(results, timeout=15, device="boiler-1", property="temp", anomaly=True)
        wait_until(lambda: (meta.extension("plant", "boiler-1") or {}).get("data", {}).get("anomalies"),
                   what="a DeviceStatus patch over HTTPS")
        stats.wait_until(lambda s: s.get("mirror/samples", 0) >= 6 and s.get("mirror/results", 0) >= 1,
                         what="samples and results in the mirror")
        check = subprocess.run([os.path.join(BUILD_DIR, "edge-anomaly"), "check-config", b.config_path],
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stderr)
        self.assertIn("bearer token", check.stdout)  # it says that there is one, not which
        b.stop()
        det.proc.terminate()
        det.proc.wait(timeout=30)

        outputs = {
            "broker log": b.log(),
            "MQTT messages": "\n".join("%s %s" % (m.topic, m.payload.decode("utf-8", "replace"))
                                       for m in everything.snapshot()),
            "mirror database": open(db, "rb").read().decode("latin-1"),
            "DeviceStatus patches": "\n".join(body.decode("utf-8", "replace") for _, _, body in meta.requests),
            "detectord log": det.text(),
            "check-config": check.stdout + check.stderr,
        }
        self.assertIn("mapper-1", outputs["broker log"])  # log_type all: logins are logged, passwords not
        self.assertIn("$SYS/broker/edge-anomaly/", outputs["MQTT messages"])
        self.assertIn("is client 'edge-broker'", outputs["detectord log"])
        for where, text in outputs.items():
            for name, secret in secrets.items():
                self.assertNotIn(secret, text, "%s appears in the %s" % (name, where))


if __name__ == "__main__":
    unittest.main()
