# SPDX-License-Identifier: Apache-2.0
"""Every Kubernetes manifest in conf/kubeedge and docker/k8s parses and
carries the fields its kind needs, cross-references resolve (a Rule's
endpoints, a Device's model), and the example plugin configs load. No
cluster runs on these machines, so nothing is applied."""
import glob
import os
import shutil
import subprocess
import tempfile
import unittest

import yaml

from broker import CLI, REPO

MANIFESTS = sorted(glob.glob(os.path.join(REPO, "conf", "kubeedge", "*.yaml"))
                   + glob.glob(os.path.join(REPO, "docker", "k8s", "*.yaml")))


def documents():
    for path in MANIFESTS:
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc is not None:
                    yield os.path.relpath(path, REPO), doc


class ManifestTest(unittest.TestCase):
    def test_every_manifest_has_kind_name_and_its_fields(self):
        docs = list(documents())
        self.assertGreaterEqual(len(docs), 10)
        kinds = {}
        for path, d in docs:
            where = "%s: %s" % (path, d.get("kind"))
            self.assertIn("apiVersion", d, where)
            self.assertIn("kind", d, where)
            self.assertTrue(d.get("metadata", {}).get("name"), where)
            kinds.setdefault(d["kind"], []).append(d)
            check = getattr(self, "check_" + d["kind"], None)
            if check is not None:
                check(d, where)
        for kind in ("CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "DeviceModel", "Device",
                     "Rule", "RuleEndpoint", "Deployment", "Service", "DaemonSet", "ConfigMap"):
            self.assertIn(kind, kinds)
        endpoints = {e["metadata"]["name"] for e in kinds["RuleEndpoint"]}
        for rule in kinds["Rule"]:
            self.assertIn(rule["spec"]["source"], endpoints)
            self.assertIn(rule["spec"]["target"], endpoints)
        models = {m["metadata"]["name"] for m in kinds["DeviceModel"]}
        for dev in kinds["Device"]:
            self.assertIn(dev["spec"]["deviceModelRef"]["name"], models)

    def check_CustomResourceDefinition(self, d, where):
        spec = d["spec"]
        self.assertEqual(d["metadata"]["name"], "%s.%s" % (spec["names"]["plural"], spec["group"]), where)
        self.assertEqual(sum(1 for v in spec["versions"] if v["storage"]), 1, where)
        if spec["names"]["kind"] == "DeviceStatus":
            self.assertEqual(spec["group"], "devices.kubeedge.io")
            self.assertEqual(spec["scope"], "Namespaced")
            v1beta1 = [v for v in spec["versions"] if v["name"] == "v1beta1"][0]
            status = v1beta1["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
            self.assertTrue(status["extensions"]["x-kubernetes-preserve-unknown-fields"], where)
            self.assertIn("twins", status)

    def check_ClusterRole(self, d, where):
        rules = [r for r in d["rules"] if "devicestatuses" in r["resources"]]
        self.assertTrue(rules and "patch" in rules[0]["verbs"], where)

    def check_DeviceModel(self, d, where):
        for p in d["spec"]["properties"]:
            self.assertTrue(p["name"] and p["type"] in ("INT", "FLOAT", "DOUBLE", "STRING", "BOOLEAN", "BYTES", "STREAM"),
                            where)
            self.assertIn(p["accessMode"], ("ReadWrite", "ReadOnly"), where)
            if "minimum" in p:
                self.assertIsInstance(p["minimum"], str, where)  # strings in v1beta1
                self.assertLess(float(p["minimum"]), float(p["maximum"]), where)

    def check_Device(self, d, where):
        self.assertTrue(d["spec"]["nodeName"], where)
        self.assertTrue(all(p["name"] for p in d["spec"]["properties"]), where)

    def check_RuleEndpoint(self, d, where):
        self.assertIn(d["spec"]["ruleEndpointType"], ("rest", "eventbus", "servicebus"), where)

    def check_Rule(self, d, where):
        for key in ("source", "sourceResource", "target", "targetResource"):
            self.assertIn(key, d["spec"], where)
        self.assertIn("topic", d["spec"]["sourceResource"], where)

    def check_Deployment(self, d, where):
        containers = d["spec"]["template"]["spec"]["containers"]
        self.assertTrue(containers and all(c.get("image") for c in containers), where)
        self.assertEqual(d["spec"]["selector"]["matchLabels"].items() <= d["spec"]["template"]["metadata"]["labels"].items(),
                         True, where)

    def check_DaemonSet(self, d, where):
        pod = d["spec"]["template"]["spec"]
        self.assertTrue(pod["hostNetwork"], where)  # EdgeCore and mappers use 127.0.0.1:1883
        self.assertIn("node-role.kubernetes.io/edge", pod["nodeSelector"], where)
        self.assertTrue(any(t["key"] == "node-role.kubernetes.io/edge" for t in pod["tolerations"]), where)
        self.assertTrue(pod["securityContext"]["runAsNonRoot"], where)
        mounts = {m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
        self.assertIn("/mosquitto/config", mounts, where)

    def test_daemonset_config_is_a_valid_plugin_config(self):
        cm = [d for _, d in documents() if d["kind"] == "ConfigMap" and "edge-anomaly.yaml" in d.get("data", {})][0]
        d = tempfile.mkdtemp(prefix="ea-manifest-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "edge-anomaly.yaml")
        with open(path, "w") as f:
            f.write(cm["data"]["edge-anomaly.yaml"])
        r = subprocess.run([CLI, "check-config", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("plugin_opt_config /mosquitto/config/edge-anomaly.yaml", cm["data"]["mosquitto.conf"])

    def test_router_rule_topic_matches_the_plugin_config(self):
        rule = [d for _, d in documents() if d["kind"] == "Rule"][0]
        with open(os.path.join(REPO, "conf", "router.yaml")) as f:
            cfg = yaml.safe_load(f)
        self.assertEqual(cfg["results"]["topic"], "%s/%s" % (rule["metadata"]["namespace"],
                                                             rule["spec"]["sourceResource"]["topic"]))

    def test_example_configs_load(self):
        for name in ("config.yaml", "demo.yaml", "router.yaml"):
            r = subprocess.run([CLI, "check-config", os.path.join(REPO, "conf", name)], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, name + ": " + r.stderr)


if __name__ == "__main__":
    unittest.main()
