# SPDX-License-Identifier: Apache-2.0
"""Isolation by namespace on a real mosquitto with the plugin and
conf/acl/mosquitto.acl (and, in a second test, the same rules from
conf/acl/dynamic-security.json in mosquitto's dynamic-security plugin): clients log in as different users; each team's
application receives its own namespace's results and nothing of the
other's; a mapper cannot publish twin updates for the other namespace (so
nothing is analysed for it either); no password appears in the broker log
or in any published message."""
import base64
import glob
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import paho.mqtt.client as mqtt

from broker import REPO, free_port, require_broker, start_broker, twin_update, twin_update_topic

DYNSEC = (glob.glob("/usr/lib/*/mosquitto_dynamic_security.so") + glob.glob("/usr/lib/mosquitto_dynamic_security.so")
          + [""])[0]
CONFIG = "routes:\n  - match: {property: temp}\n    detectors: [{range: {max: 100}}]\n"
PASSWORDS = {"edgecore": "ec-S3cret-1", "app-team-a": "a-S3cret-2", "app-team-b": "b-S3cret-3",
             "mapper-team-a": "ma-S3cret-4", "mapper-team-b": "mb-S3cret-5"}


class User:
    """An MQTT client logged in as `name`: with its password, or (certs
    given) over TLS with a client certificate whose CN is `name`."""

    def __init__(self, testcase, port, name, certs=None):
        self.messages = []
        try:
            self.c = mqtt.Client(client_id="it-" + name, callback_api_version=mqtt.CallbackAPIVersion.VERSION1)
        except AttributeError:  # paho 1.x
            self.c = mqtt.Client(client_id="it-" + name)
        if certs is None:
            self.c.username_pw_set(name, PASSWORDS[name])
        else:
            self.c.tls_set(ca_certs=os.path.join(certs, "ca.pem"), certfile=os.path.join(certs, name + ".pem"),
                           keyfile=os.path.join(certs, name + ".key"))
        self.c.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload.decode("utf-8", "replace")))
        self.c.connect("localhost" if certs is not None else "127.0.0.1", port)
        self.c.loop_start()
        testcase.addCleanup(self.close)

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


class IsolationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_broker()
        if shutil.which("mosquitto_passwd") is None:
            raise unittest.SkipTest("mosquitto_passwd is not installed")

    def test_each_team_sees_only_its_namespace(self):
        d = tempfile.mkdtemp(prefix="ea-acl-")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        pw = os.path.join(d, "passwd")
        for i, (user, password) in enumerate(PASSWORDS.items()):
            subprocess.run(["mosquitto_passwd", "-b"] + (["-c"] if i == 0 else []) + [pw, user, password], check=True)
        os.chmod(pw, 0o644)
        acl = os.path.join(d, "mosquitto.acl")
        shutil.copy(os.path.join(REPO, "conf", "acl", "mosquitto.acl"), acl)
        os.chmod(acl, 0o644)
        b = start_broker(self, config_yaml=CONFIG,
                         listener_conf=["allow_anonymous false", "password_file " + pw, "acl_file " + acl])
        self.check_isolation(b)

    @unittest.skipIf(not DYNSEC, "mosquitto's dynamic-security plugin is not installed")
    def test_dynamic_security_equivalent(self):
        """conf/acl/dynamic-security.json in mosquitto's dynamic-security
        plugin, loaded beside edge-anomaly: the same isolation. The test
        adds the users' password hashes in the plugin's own format (PBKDF2-
        SHA512, 12-byte salt) to a copy of the file."""
        d = tempfile.mkdtemp(prefix="ea-dynsec-")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o777)  # the plugin rewrites its file, possibly as user mosquitto
        with open(os.path.join(REPO, "conf", "acl", "dynamic-security.json")) as f:
            dynsec = json.load(f)
        for client in dynsec["clients"]:
            salt = os.urandom(12)
            client["salt"] = base64.b64encode(salt).decode()
            client["iterations"] = 101
            client["password"] = base64.b64encode(hashlib.pbkdf2_hmac(
                "sha512", PASSWORDS[client["username"]].encode(), salt, 101, 64)).decode()
        path = os.path.join(d, "dynamic-security.json")
        with open(path, "w") as f:
            json.dump(dynsec, f)
        os.chmod(path, 0o666)
        b = start_broker(self, config_yaml=CONFIG,
                         listener_conf=["plugin " + DYNSEC, "plugin_opt_config_file " + path])
        self.check_isolation(b)

    def test_tls_client_certificates_as_identities(self):
        """The commented TLS listener of conf/acl/mosquitto-acl.conf:
        require_certificate and use_identity_as_username, so a client
        certificate's CN is the user the ACL names; no password at all."""
        from test_detectord_authz import make_certs
        users = ["app-team-a", "app-team-b", "mapper-team-a", "mapper-team-b"]
        certs, _ = make_certs(self, [(u, "/CN=" + u) for u in users] + [("stranger", "/CN=stranger")])
        os.chmod(certs, 0o755)
        for name in os.listdir(certs):
            os.chmod(os.path.join(certs, name), 0o644)
        acl = os.path.join(certs, "mosquitto.acl")
        shutil.copy(os.path.join(REPO, "conf", "acl", "mosquitto.acl"), acl)
        os.chmod(acl, 0o644)
        tls_port = free_port()
        b = start_broker(self, config_yaml=CONFIG, listener_conf=[
            "acl_file " + acl, "listener %d 127.0.0.1" % tls_port,
            "certfile " + os.path.join(certs, "server.pem"), "keyfile " + os.path.join(certs, "server.key"),
            "cafile " + os.path.join(certs, "ca.pem"), "require_certificate true", "use_identity_as_username true"])
        stranger = User(self, tls_port, "stranger", certs)  # a valid certificate the ACL gives nothing
        stranger.c.subscribe("edge-anomaly/#", qos=1)
        self.check_isolation(b, port=tls_port, certs=certs)
        self.assertEqual(stranger.messages, [])
        # a client without a certificate does not get in
        try:
            plain = mqtt.Client(client_id="it-nocert", callback_api_version=mqtt.CallbackAPIVersion.VERSION1)
        except AttributeError:  # paho 1.x
            plain = mqtt.Client(client_id="it-nocert")
        plain.tls_set(ca_certs=os.path.join(certs, "ca.pem"))
        with self.assertRaises(Exception):
            plain.connect("localhost", tls_port)
            for _ in range(50):  # the handshake failure may surface on the first read
                if plain.loop(timeout=0.1) != 0:
                    raise ConnectionError("refused")

    def check_isolation(self, b, port=None, certs=None):
        port = port if port is not None else b.port
        app_a = User(self, port, "app-team-a", certs)
        app_b = User(self, port, "app-team-b", certs)
        # the broad filter is accepted by acl_file (which filters what is
        # delivered) and refused by dynamic security; the other team's
        # prefix is accepted or refused likewise: delivery must be the same
        for app in (app_a, app_b):
            app.c.subscribe([("edge-anomaly/#", 1), ("edge-anomaly/team-a/#", 1), ("edge-anomaly/team-b/#", 1)])
        mapper_a = User(self, port, "mapper-team-a", certs)
        mapper_b = User(self, port, "mapper-team-b", certs)
        time.sleep(0.5)
        mapper_a.c.publish(twin_update_topic("boiler-a", ns="team-a"), twin_update({"temp": "150"}), qos=1)
        mapper_b.c.publish(twin_update_topic("boiler-b", ns="team-b"), twin_update({"temp": "160"}), qos=1)
        # a mapper of team a trying to feed team b's device: denied by the ACL
        mapper_a.c.publish(twin_update_topic("boiler-x", ns="team-b"), twin_update({"temp": "170"}), qos=1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (app_a.messages and app_b.messages):
            time.sleep(0.05)
        time.sleep(1.0)  # anything else would have arrived by now
        self.assertEqual({t for t, _ in app_a.messages}, {"edge-anomaly/team-a/boiler-a/temp"})
        self.assertEqual({t for t, _ in app_b.messages}, {"edge-anomaly/team-b/boiler-b/temp"})
        self.assertNotIn("boiler-x", " ".join(p for _, p in app_a.messages + app_b.messages))
        # no secret in the log or the results
        text = b.log() + " ".join(p for _, p in app_a.messages + app_b.messages)
        for secret in PASSWORDS.values():
            self.assertNotIn(secret, text)


if __name__ == "__main__":
    unittest.main()
