# SPDX-License-Identifier: Apache-2.0
"""The broker image's build steps, run on the host: no Docker engine runs
on the CI machines, so docker/build.sh (what both Dockerfiles run) is run
here into a staging directory, the staged broker config starts a real
mosquitto with the staged plugin, and the Dockerfiles are checked to use
the script and the staged layout. Building for Alpine/musl is not tried
here: the musl builds of libcjson, libyaml, gRPC, protobuf-c, SQLite and
libcurl that it needs are not Debian packages."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from broker import BUILD_DIR, MOSQUITTO, REPO, require_broker


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ImageBuildTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_broker()

    def test_build_script_stages_a_working_broker(self):
        stage = tempfile.mkdtemp(prefix="ea-stage-")
        self.addCleanup(shutil.rmtree, stage, True)
        r = subprocess.run([os.path.join(REPO, "docker", "build.sh"), stage], capture_output=True, text=True,
                           env=dict(os.environ, BUILD=BUILD_DIR), timeout=600)
        self.assertEqual(r.returncode, 0, r.stdout[-2000:] + r.stderr[-2000:])
        for path in ("usr/lib/edge-anomaly/edge_anomaly.so", "usr/bin/edge-anomaly", "usr/bin/edge-anomaly-detectord",
                     "usr/lib/edge-anomaly/detectors/libea_example_hysteresis.so",
                     "usr/include/edge-anomaly/detector.h", "mosquitto/config/mosquitto.conf",
                     "mosquitto/config/edge-anomaly.yaml"):
            self.assertTrue(os.path.exists(os.path.join(stage, path)), path)
        version = subprocess.run([os.path.join(stage, "usr/bin/edge-anomaly"), "--version"], capture_output=True, text=True)
        self.assertEqual(version.returncode, 0)

        # the staged mosquitto.conf, with the staged paths and a free port
        for root, dirs, files in os.walk(stage):
            os.chmod(root, 0o755)  # mosquitto started as root runs as user mosquitto
        with open(os.path.join(stage, "mosquitto/config/mosquitto.conf")) as f:
            conf = f.read()
        port = free_port()
        conf = conf.replace("listener 1883", "listener %d 127.0.0.1" % port)
        conf = conf.replace("/usr/lib/", stage + "/usr/lib/").replace("/mosquitto/config/", stage + "/mosquitto/config/")
        conf_path = os.path.join(stage, "test.conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        os.chmod(conf_path, 0o644)
        proc = subprocess.Popen([MOSQUITTO, "-c", conf_path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                self.assertIsNone(proc.poll(), "mosquitto exited")
                time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=10)
        self.assertIn("edge-anomaly 0.1.0: config %s/mosquitto/config/edge-anomaly.yaml" % stage, out)
        self.assertEqual(proc.returncode, 0, out)

    def test_dockerfiles_use_the_script_and_its_layout(self):
        for name, base in (("Dockerfile", "eclipse-mosquitto:2.0"), ("Dockerfile.debian", "debian:12")):
            with open(os.path.join(REPO, "docker", name)) as f:
                text = f.read()
            self.assertEqual(re.findall(r"^FROM (\S+)", text, re.M)[-1], base, name)
            self.assertEqual(len(re.findall(r"^FROM ", text, re.M)), 2, name + ": multi-stage")
            self.assertIn("RUN docker/build.sh /stage", text, name)
            self.assertIn("COPY --from=build /stage/usr/ /usr/", text, name)
            self.assertRegex(text, r"(?m)^USER mosquitto$")
            self.assertRegex(text, r"(?m)^HEALTHCHECK ")
            self.assertIn("/mosquitto/config/mosquitto.conf", text, name)


if __name__ == "__main__":
    unittest.main()
