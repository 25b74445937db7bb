# SPDX-License-Identifier: Apache-2.0
"""edge-anomaly-detectord --authz: namespaces authorised per client
identity, driven by python3-grpcio clients holding different certificates
(made by openssl in the test, all signed by one test CA) or different
bearer tokens.

What must hold: a client's messages for its own namespaces are detected as
before; messages for any other namespace are answered "error", never reach
a detector, and leave one audit line per stream and namespace plus a count
at the end of the stream; a caller that is no client of the access file is
refused (PERMISSION_DENIED) and audited; tokens never appear in the log;
control characters sent by a client cannot forge audit lines."""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from test_detectord import Detectord, encode_data, stream

try:
    import grpc
except ImportError:  # pragma: no cover
    grpc = None

CONFIG = """\
routes:
  - match: {property: temp}
    detectors: [{range: {min: 0, max: 100}}]
"""

ACCESS = """\
clients:
  - name: team-a-mapper
    cert_cn: mapper.team-a
    namespaces: [team-a]
  - name: team-b-mapper
    cert_subject: CN=mapper.team-b,O=plant
    namespaces: [team-b, "shared-*"]
"""

TOKEN_ACCESS = """\
clients:
  - name: model-a
    token_file: a.token
    namespaces: [team-a]
  - name: ops
    token_file: ops.token
    namespaces: ["*"]
"""

TOKEN_A = "tok-A-5d41402abc4b2a76b9719d911017c592"
TOKEN_OPS = "tok-OPS-7d793037a0760186574b0282f2f435e7"


def make_certs(testcase, clients):
    """A CA, a server certificate for localhost and one client certificate
    per (file name, subject) in `clients`; returns (dir, read)."""
    d = tempfile.mkdtemp(prefix="ea-authz-certs-")
    testcase.addCleanup(shutil.rmtree, d, True)

    def ossl(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=edge-anomaly test CA")
    for name, subject, ext in [("server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\n")] + \
            [(n, s, "extendedKeyUsage=clientAuth\n") for n, s in clients]:
        ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj", subject)
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(ext)
        ossl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext")

    def read(name):
        with open(os.path.join(d, name), "rb") as f:
            return f.read()
    return d, read


def audit_lines(text):
    return [line for line in text.splitlines() if line.startswith("edge-anomaly-detectord: audit:")]


@unittest.skipIf(grpc is None, "python3-grpcio is not installed")
class DetectordAuthzTest(unittest.TestCase):
    def stop(self, d):
        d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(d.proc.wait(timeout=30), 0, d.text()[-3000:])
        return d.text()

    def test_client_certificates_limit_namespaces(self):
        certs, read = make_certs(self, [("a", "/CN=mapper.team-a"), ("b", "/O=plant/CN=mapper.team-b"),
                                        ("b_other_org", "/O=elsewhere/CN=mapper.team-b"),
                                        ("intruder", "/CN=intruder")])
        access = os.path.join(certs, "access.yaml")
        with open(access, "w") as f:
            f.write(ACCESS)
        d = Detectord(self, config=CONFIG, extra=("--tls-cert", os.path.join(certs, "server.pem"),
                                                  "--tls-key", os.path.join(certs, "server.key"),
                                                  "--tls-client-ca", os.path.join(certs, "ca.pem"),
                                                  "--authz", access))

        def channel(who):
            creds = grpc.ssl_channel_credentials(root_certificates=read("ca.pem"), private_key=read(who + ".key"),
                                                 certificate_chain=read(who + ".pem"))
            return grpc.secure_channel("localhost:%d" % d.port, creds)

        with channel("a") as ch:
            out = stream(ch, [encode_data("boiler-1", "team-a", "temp", "20"),
                              encode_data("boiler-9", "team-b", "temp", "500"),   # not team-a's
                              encode_data("boiler-1", "team-a", "temp", "500"),
                              encode_data("boiler-9", "team-b", "temp", "30"),    # again: no second audit line
                              encode_data("boiler-1", "", "temp", "40"),          # "default": not team-a's
                              encode_data("evil\nedge-anomaly-detectord: audit: forged", "team-c", "temp", "1")])
        self.assertEqual([r["status"] for r in out], ["ok", "error", "anomaly", "error", "error", "error"])
        self.assertEqual([r.get("sequence") for r in out], [1, 2, 3, 4, 5, 6])
        self.assertEqual(out[1]["message"], "namespace 'team-b' is not allowed for client 'team-a-mapper'")
        self.assertFalse(out[1].get("detector"))  # no detector looked at it
        self.assertEqual(out[2]["detector"], "range")

        with channel("b") as ch:
            out = stream(ch, [encode_data("boiler-9", "team-b", "temp", "500"),
                              encode_data("hall", "shared-north", "temp", "20"),
                              encode_data("boiler-1", "team-a", "temp", "500")])
        self.assertEqual([r["status"] for r in out], ["anomaly", "ok", "error"])

        for who in ("intruder", "b_other_org"):  # same CA, but no client of the access file
            with channel(who) as ch:
                with self.assertRaises(grpc.RpcError) as cm:
                    stream(ch, [encode_data("boiler-1", "team-a", "temp", "20")])
                self.assertEqual(cm.exception.code(), grpc.StatusCode.PERMISSION_DENIED, who)

        text = self.stop(d)
        audit = audit_lines(text)
        self.assertTrue(any("is client 'team-a-mapper'" in line and "CN=mapper.team-a" in line for line in audit),
                        audit)
        self.assertTrue(any("is client 'team-b-mapper'" in line for line in audit), audit)
        refused_b = [line for line in audit if "client 'team-a-mapper'" in line and "namespace 'team-b'" in line]
        self.assertEqual(len(refused_b), 1, audit)
        self.assertIn("device 'boiler-9'", refused_b[0])
        self.assertTrue(any("client 'team-a-mapper'" in line and "namespace 'default'" in line for line in audit))
        self.assertTrue(any("client 'team-b-mapper'" in line and "namespace 'team-a'" in line for line in audit))
        self.assertTrue(any("ended with 4 messages refused" in line and "team-a-mapper" in line for line in audit),
                        audit)
        nobody = [line for line in audit if "matches no client" in line]
        self.assertEqual(len(nobody), 2, audit)
        self.assertTrue(any("CN=intruder" in line for line in nobody), nobody)
        # the newline in a device name is shown as '?', never as a new line
        self.assertIn("device 'evil?edge-anomaly-detectord: audit: forged'", text)
        self.assertFalse(any(line.startswith("edge-anomaly-detectord: audit: forged") for line in text.splitlines()))
        # counters: 4 + 1 messages refused, 2 anomalies (refused 500s never reached a detector)
        self.assertIn("anomalies 2,", text)
        self.assertIn("messages refused 5", text)
        self.assertIn("calls refused 2", text)

    def test_bearer_tokens_limit_namespaces_and_stay_secret(self):
        certs, read = make_certs(self, [])
        access = os.path.join(certs, "access.yaml")
        with open(access, "w") as f:
            f.write(TOKEN_ACCESS)
        for name, token in (("a.token", TOKEN_A), ("ops.token", TOKEN_OPS)):
            with open(os.path.join(certs, name), "w") as f:
                f.write(token + "\n")
        d = Detectord(self, config=CONFIG, extra=("--tls-cert", os.path.join(certs, "server.pem"),
                                                  "--tls-key", os.path.join(certs, "server.key"),
                                                  "--authz", access))
        creds = grpc.ssl_channel_credentials(root_certificates=read("ca.pem"))
        with grpc.secure_channel("localhost:%d" % d.port, creds) as ch:
            out = stream(ch, [encode_data("m", "team-a", "temp", "500"), encode_data("m", "team-b", "temp", "500")],
                         metadata=[("authorization", "Bearer " + TOKEN_A)])
            self.assertEqual([r["status"] for r in out], ["anomaly", "error"])
            out = stream(ch, [encode_data("m", "team-a", "temp", "500"), encode_data("m", "team-b", "temp", "500")],
                         metadata=[("authorization", "Bearer " + TOKEN_OPS)])
            self.assertEqual([r["status"] for r in out], ["anomaly", "anomaly"])
            # a client alternating forbidden namespaces cannot flood the audit log
            out = stream(ch, [encode_data("m", "team-%s" % "bc"[i % 2], "temp", "1") for i in range(30)],
                         metadata=[("authorization", "Bearer " + TOKEN_A)])
            self.assertEqual({r["status"] for r in out}, {"error"})
            for md in ([("authorization", "Bearer " + TOKEN_A[:-1])], [("authorization", "Bearer " + TOKEN_A + "x")],
                       None):
                with self.assertRaises(grpc.RpcError) as cm:
                    stream(ch, [encode_data("m", "team-a", "temp", "1")], metadata=md)
                self.assertEqual(cm.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
            # a burst of refused callers cannot flood the log either
            t0 = time.monotonic()
            for _ in range(20):
                with self.assertRaises(grpc.RpcError):
                    stream(ch, [encode_data("m", "team-a", "temp", "1")],
                           metadata=[("authorization", "Bearer burst-guess")])
            burst_seconds = time.monotonic() - t0
            time.sleep(1.1)
            with self.assertRaises(grpc.RpcError):
                stream(ch, [encode_data("m", "team-a", "temp", "1")], metadata=[("authorization", "Bearer late")])
            # health checks need no identity
            check = ch.unary_unary("/grpc.health.v1.Health/Check", request_serializer=lambda b: b,
                                   response_deserializer=lambda b: b)
            self.assertEqual(check(b"", timeout=10), b"\x08\x01")
        text = self.stop(d)
        audit = audit_lines(text)
        self.assertTrue(any("is client 'model-a'" in line for line in audit), audit)
        self.assertTrue(any("is client 'ops'" in line for line in audit), audit)
        nobody = [line for line in audit if "matches no client" in line]
        # 3 + 20 + 1 refused; at most 5 lines per second are written
        self.assertLessEqual(len(nobody), 3 + 5 * (int(burst_seconds) + 2) + 1, audit)
        if len(nobody) < 24:  # some were left out: the next line says how many
            self.assertIn("refused calls not logged before this one", nobody[-1])
        self.assertIn("calls refused 24", text)
        self.assertTrue(any("bearer token presented" in line for line in audit))
        self.assertTrue(any("bearer token none" in line for line in audit))
        flood = [line for line in audit if "stream 3 " in line and "sent data for namespace" in line]
        self.assertEqual(len(flood), 10, audit)
        self.assertIn("further refusals on this stream are only counted", flood[-1])
        self.assertTrue(any("stream 3 " in line and "ended with 30 messages refused" in line for line in audit), audit)
        for secret in (TOKEN_A, TOKEN_OPS, TOKEN_A[:-1], "tok-A", "tok-OPS"):
            self.assertNotIn(secret, text)

    @unittest.skipIf(shutil.which("valgrind") is None, "valgrind is not installed")
    def test_valgrind_clean_with_refusals(self):
        """Allowed and refused messages, a refused caller and SIGTERM under
        valgrind: no invalid access, no definite leak."""
        d0 = tempfile.mkdtemp(prefix="ea-authz-vg-")
        self.addCleanup(shutil.rmtree, d0, True)
        access = os.path.join(d0, "access.yaml")
        with open(access, "w") as f:
            f.write(TOKEN_ACCESS)
        for name, token in (("a.token", TOKEN_A), ("ops.token", TOKEN_OPS)):
            with open(os.path.join(d0, name), "w") as f:
                f.write(token + "\n")
        d = Detectord(self, config=CONFIG, extra=("--authz", access), start_timeout=60,
                      wrapper=("valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite",
                               "--error-exitcode=9"))
        with grpc.insecure_channel("127.0.0.1:%d" % d.port) as ch:
            out = stream(ch, [encode_data("m", "team-a", "temp", "500"), encode_data("m", "team-b", "temp", "5"),
                              encode_data("m", "team-a", "temp", "5")],
                         metadata=[("authorization", "Bearer " + TOKEN_A)], timeout=60)
            self.assertEqual([r["status"] for r in out], ["anomaly", "error", "ok"])
            with self.assertRaises(grpc.RpcError):
                stream(ch, [encode_data("m", "team-a", "temp", "1")], timeout=60)
        d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(d.proc.wait(timeout=120), 0, d.text()[-3000:])
        self.assertIn("ERROR SUMMARY: 0 errors", d.text())
        self.assertIn("tokens cross the network in clear", d.text())  # the warning without TLS

    def test_example_access_file_loads(self):
        from broker import REPO
        d = Detectord(self, config=CONFIG, extra=("--authz", os.path.join(REPO, "conf", "acl", "detectord-access.yaml")))
        self.stop(d)
        self.assertIn("detectord-access.yaml (3 clients)", d.text())

    def test_bad_access_file_stops_with_the_place(self):
        d = tempfile.mkdtemp(prefix="ea-authz-bad-")
        self.addCleanup(shutil.rmtree, d, True)
        access = os.path.join(d, "access.yaml")
        with open(access, "w") as f:
            f.write("clients:\n  - name: a\n    cert_cn: a\n    namespaces: team-a\n")
        from test_detectord import DETECTORD
        proc = subprocess.run([DETECTORD, "--listen", "127.0.0.1:0", "--authz", access], capture_output=True,
                              text=True, timeout=30)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(access + ":4:17: key 'clients[1].namespaces': expects a list of namespaces", proc.stderr)


if __name__ == "__main__":
    unittest.main()
