# SPDX-License-Identifier: Apache-2.0
"""edge-anomaly-detectord driven by python3-grpcio, an independent gRPC
implementation: StreamDetect over plaintext, TLS and mutual TLS
(certificates made by openssl in the test), bearer tokens, many concurrent
streams, bad messages, the health check and a graceful SIGTERM.

The protobuf messages are encoded and decoded by hand below (a few string,
double and integer fields), so the test does not share generated code with
the server."""
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

from broker import BUILD_DIR

try:
    import grpc
except ImportError:  # pragma: no cover
    grpc = None

DETECTORD = os.path.join(BUILD_DIR, "edge-anomaly-detectord")
METHOD = "/kubeedge.anomalydetector.v1.AnomalyDetectionService/StreamDetect"
CONFIG = """\
routes:
  - match: {property: temp}
    detectors: [{range: {min: 0, max: 100}}]
"""


# -- protobuf wire format, the few fields used ---------------------------

def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def encode_data(device="", namespace="", prop="", value="", timestamp="", value_type=""):
    out = b""
    for num, text in ((1, device), (2, namespace), (3, prop), (4, value), (5, timestamp), (6, value_type)):
        if text:
            raw = text.encode("utf-8")
            out += _varint(num << 3 | 2) + _varint(len(raw)) + raw
    return out


def decode_response(buf):
    names = {1: "status", 2: "message", 3: "timestamp", 4: "score", 5: "confidence", 6: "detector",
             7: "kind", 8: "device_name", 9: "namespace", 10: "property_name", 11: "sequence"}
    out = {"status": "", "message": "", "score": 0.0, "detector": "", "kind": "", "sequence": 0}
    i = 0
    while i < len(buf):
        key = 0
        shift = 0
        while True:
            b = buf[i]
            i += 1
            key |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        num, wire = key >> 3, key & 7
        if wire == 2:
            n = 0
            shift = 0
            while True:
                b = buf[i]
                i += 1
                n |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            out[names.get(num, str(num))] = buf[i:i + n].decode("utf-8")
            i += n
        elif wire == 1:
            out[names.get(num, str(num))] = struct.unpack("<d", buf[i:i + 8])[0]
            i += 8
        elif wire == 0:
            n = 0
            shift = 0
            while True:
                b = buf[i]
                i += 1
                n |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            out[names.get(num, str(num))] = n
        else:
            raise ValueError("unexpected wire type %d" % wire)
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Detectord:
    def __init__(self, testcase, extra=(), config=CONFIG, port=None, wrapper=(), start_timeout=10):
        self.dir = tempfile.mkdtemp(prefix="ea-detectord-")
        testcase.addCleanup(shutil.rmtree, self.dir, True)
        self.config = os.path.join(self.dir, "config.yaml")
        with open(self.config, "w") as f:
            f.write(config)
        self.port = port if port is not None else free_port()
        self.log_path = os.path.join(self.dir, "detectord.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([*wrapper, DETECTORD, "--listen", "127.0.0.1:%d" % self.port,
                                      "--config", self.config, *extra], stdout=self.log, stderr=subprocess.STDOUT)
        testcase.addCleanup(self.stop)
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("detectord exited: " + self.text())
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError("detectord did not listen: " + self.text())

    def text(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def make_certs(testcase):
    """A CA, a server certificate for localhost/127.0.0.1 and a client
    certificate, made by openssl in a temp dir removed by the test's
    cleanup; returns (dir, read(name) -> bytes)."""
    d = tempfile.mkdtemp(prefix="ea-certs-")
    testcase.addCleanup(shutil.rmtree, d, True)

    def ossl(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=edge-anomaly test CA")
    for name in ("server", "client"):
        ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
             "-subj", "/CN=" + ("localhost" if name == "server" else "mapper-1"))
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n" if name == "server"
                    else "extendedKeyUsage=clientAuth\n")
        ossl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext")

    def read(name):
        with open(os.path.join(d, name), "rb") as f:
            return f.read()
    return d, read


def stream(channel, messages, metadata=None, timeout=10):
    call = channel.stream_stream(METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)
    return [decode_response(r) for r in call(iter(messages), metadata=metadata, timeout=timeout)]


@unittest.skipIf(grpc is None, "python3-grpcio is not installed")
class DetectordTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(DETECTORD):
            raise AssertionError("%s is missing: run `make all` first" % DETECTORD)

    def test_one_response_per_message_in_order(self):
        d = Detectord(self)
        with grpc.insecure_channel("127.0.0.1:%d" % d.port) as ch:
            msgs = [encode_data("boiler-1", "plant-a", "temp", v, "2026-11-22T08:00:%02dZ" % i)
                    for i, v in enumerate(["20", "25", "180", "30", "31"])]
            out = stream(ch, msgs)
        self.assertEqual([r["sequence"] for r in out], [1, 2, 3, 4, 5])
        self.assertEqual([r["status"] for r in out], ["ok", "ok", "anomaly", "ok", "ok"])
        alert = out[2]
        self.assertEqual(alert["detector"], "range")
        self.assertEqual(alert["kind"], "out-of-range")
        self.assertIn("180", alert["message"])
        self.assertGreater(alert["score"], 0.5)
        self.assertEqual(alert["device_name"], "boiler-1")
        self.assertEqual(alert["namespace"], "plant-a")
        self.assertEqual(alert["property_name"], "temp")
        self.assertTrue(out[0]["timestamp"].endswith("Z"))

    def test_state_is_shared_between_streams(self):
        d = Detectord(self, config="default_chain: [{stuck: {samples: 4}}]\n")
        with grpc.insecure_channel("127.0.0.1:%d" % d.port) as ch:
            first = stream(ch, [encode_data("pump-2", "", "pressure", "3.1")] * 2)
            second = stream(ch, [encode_data("pump-2", "", "pressure", "3.1")] * 2)
        self.assertEqual([r["status"] for r in first], ["ok", "ok"])
        self.assertEqual([r["status"] for r in second], ["ok", "anomaly"])
        self.assertEqual(second[1]["kind"], "stuck")

    def test_bad_messages_get_an_error_response_and_the_stream_goes_on(self):
        d = Detectord(self)
        with grpc.insecure_channel("127.0.0.1:%d" % d.port) as ch:
            out = stream(ch, [b"\xff\xff\xff", encode_data("", "", "temp", "1"),
                              encode_data("a", "", "temp", "1", "yesterday"), encode_data("a", "", "temp", "1")])
        self.assertEqual([r["status"] for r in out], ["error", "error", "error", "ok"])
        self.assertIn("DevicePropertyData", out[0]["message"])
        self.assertIn("device_name", out[1]["message"])
        self.assertIn("timestamp", out[2]["message"])

    def test_many_concurrent_streams(self):
        d = Detectord(self)
        results = {}
        errors = []

        def one(n):
            try:
                with grpc.insecure_channel("127.0.0.1:%d" % d.port) as ch:
                    msgs = [encode_data("dev-%d" % n, "", "temp", str(150 if i == 25 else 20 + i % 3))
                            for i in range(50)]
                    results[n] = stream(ch, msgs, timeout=30)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=one, args=(n,)) for n in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 20)
        for n, out in results.items():
            self.assertEqual(len(out), 50)
            self.assertEqual([i for i, r in enumerate(out) if r["status"] == "anomaly"], [25])

    def test_health_check(self):
        d = Detectord(self)
        with grpc.insecure_channel("127.0.0.1:%d" % d.port) as ch:
            check = ch.unary_unary("/grpc.health.v1.Health/Check", request_serializer=lambda b: b,
                                   response_deserializer=lambda b: b)
            self.assertEqual(check(b"", timeout=5), b"\x08\x01")  # status: SERVING

    def test_bearer_token(self):
        d0 = tempfile.mkdtemp(prefix="ea-token-")
        self.addCleanup(shutil.rmtree, d0, True)
        token_file = os.path.join(d0, "token")
        with open(token_file, "w") as f:
            f.write("s3cret\n")
        d = Detectord(self, extra=("--token-file", token_file))
        with grpc.insecure_channel("127.0.0.1:%d" % d.port) as ch:
            with self.assertRaises(grpc.RpcError) as cm:
                stream(ch, [encode_data("a", "", "temp", "1")])
            self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
            with self.assertRaises(grpc.RpcError):
                stream(ch, [encode_data("a", "", "temp", "1")], metadata=[("authorization", "Bearer wrong")])
            out = stream(ch, [encode_data("a", "", "temp", "1")], metadata=[("authorization", "Bearer s3cret")])
            self.assertEqual(out[0]["status"], "ok")

    def test_tls_and_mutual_tls(self):
        d, read = make_certs(self)
        tls = Detectord(self, extra=("--tls-cert", os.path.join(d, "server.pem"),
                                     "--tls-key", os.path.join(d, "server.key")))
        creds = grpc.ssl_channel_credentials(root_certificates=read("ca.pem"))
        with grpc.secure_channel("localhost:%d" % tls.port, creds) as ch:
            self.assertEqual(stream(ch, [encode_data("a", "", "temp", "500")])[0]["status"], "anomaly")
        with grpc.insecure_channel("127.0.0.1:%d" % tls.port) as ch:
            with self.assertRaises(grpc.RpcError):
                stream(ch, [encode_data("a", "", "temp", "1")], timeout=3)

        mtls = Detectord(self, extra=("--tls-cert", os.path.join(d, "server.pem"),
                                      "--tls-key", os.path.join(d, "server.key"),
                                      "--tls-client-ca", os.path.join(d, "ca.pem")))
        with grpc.secure_channel("localhost:%d" % mtls.port, creds) as ch:
            with self.assertRaises(grpc.RpcError):  # no client certificate
                stream(ch, [encode_data("a", "", "temp", "1")], timeout=3)
        client = grpc.ssl_channel_credentials(root_certificates=read("ca.pem"), private_key=read("client.key"),
                                              certificate_chain=read("client.pem"))
        with grpc.secure_channel("localhost:%d" % mtls.port, client) as ch:
            self.assertEqual(stream(ch, [encode_data("a", "", "temp", "1")])[0]["status"], "ok")

    @unittest.skipIf(shutil.which("valgrind") is None, "valgrind is not installed")
    def test_valgrind_clean(self):
        """Streams, a bad message, a health check and SIGTERM under valgrind:
        no invalid access, no definite leak."""
        d = Detectord(self, wrapper=("valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite",
                                     "--error-exitcode=9"), start_timeout=60)
        with grpc.insecure_channel("127.0.0.1:%d" % d.port) as ch:
            out = stream(ch, [encode_data("a", "", "temp", str(v)) for v in (20, 500, 30)] + [b"\xff"], timeout=60)
            self.assertEqual([r["status"] for r in out], ["ok", "anomaly", "ok", "error"])
            check = ch.unary_unary("/grpc.health.v1.Health/Check", request_serializer=lambda b: b,
                                   response_deserializer=lambda b: b)
            self.assertEqual(check(b"", timeout=30), b"\x08\x01")
        d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(d.proc.wait(timeout=120), 0, d.text()[-3000:])
        self.assertIn("ERROR SUMMARY: 0 errors", d.text())

    def test_sigterm_stops_gracefully(self):
        d = Detectord(self)
        with grpc.insecure_channel("127.0.0.1:%d" % d.port) as ch:
            self.assertEqual(len(stream(ch, [encode_data("a", "", "temp", "1")] * 3)), 3)
        d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(d.proc.wait(timeout=10), 0)
        text = d.text()
        self.assertIn("stopping", text)
        self.assertIn("messages 3", text)


if __name__ == "__main__":
    unittest.main()
