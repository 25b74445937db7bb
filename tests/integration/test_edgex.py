# SPDX-License-Identifier: Apache-2.0
"""EdgeX events on a real mosquitto with the plugin: EdgeX 3.x messages
(base64 payload) and 4.x messages (inline payload), as device services
publish them on edgex/events/device/{service}/{profile}/{device}/{source},
give results on edge-anomaly/edgex/{device}/{property} in the configured
namespace; null and binary readings are counted, not scored; delivery to
EdgeX's own subscribers is untouched."""
import base64
import json
import unittest

from broker import connect, require_broker, start_broker, sys_stats, wait_result

CONFIG = """\
stats_interval: 1s
edgex: {namespace: factory-2}
routes:
  - match: {namespace: factory-2, property: Temperature}
    detectors: [type, {range: {min: 0, max: 100}}]
"""


def event(device, readings, origin=1732262400000000000):
    return {"apiVersion": "v3", "requestId": "r", "event": {
        "apiVersion": "v3", "id": "e", "deviceName": device, "profileName": "Boiler-Profile", "sourceName": "Temperature",
        "origin": origin, "readings": readings}}


def reading(name, value, value_type="Float64"):
    return {"id": "x", "origin": 1732262400000000000, "deviceName": "boiler-7", "resourceName": name,
            "profileName": "Boiler-Profile", "valueType": value_type, "value": value}


def envelope(payload, inline):
    body = payload if inline else base64.b64encode(json.dumps(payload).encode()).decode()
    return json.dumps({"apiVersion": "v3", "receivedTopic": "", "correlationID": "c", "requestID": "r", "errorCode": 0,
                       "payload": body, "contentType": "application/json"})


class EdgeXTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_broker()

    def test_edgex_3x_and_4x_events(self):
        b = start_broker(self, config_yaml=CONFIG)
        res = connect(self, b.port)
        res.subscribe("edge-anomaly/#", qos=1)
        edgex_sub = connect(self, b.port)
        edgex_sub.subscribe("edgex/events/device/#", qos=0)
        stats = sys_stats(self, b.port)
        pub = connect(self, b.port)
        topic = "edgex/events/device/device-modbus/Boiler-Profile/boiler-7/Temperature"

        # 3.x: base64 payload; an out-of-range temperature in EdgeX's float form
        pub.publish(topic, envelope(event("boiler-7", [reading("Temperature", "1.800000e+02")]), inline=False), qos=0)
        m, r = wait_result(res, timeout=10, device="boiler-7", anomaly=True)
        self.assertEqual(m.topic, "edge-anomaly/edgex/boiler-7/Temperature")
        self.assertEqual(r["namespace"], "factory-2")
        self.assertEqual(r["kind"], "out-of-range")
        self.assertEqual(r["value"], 180)
        # 4.x: inline payload; back in range clears it; a binary and a null reading are only counted
        pub.publish(topic, envelope(event("boiler-7", [
            reading("Temperature", "2.345670e+01"),
            {"resourceName": "Snapshot", "valueType": "Binary", "binaryValue": "AAEC", "mediaType": "image/png"},
            reading("Spare", None, "Float32")]), inline=True), qos=0)
        _, r = wait_result(res, timeout=10, device="boiler-7", anomaly=False)
        self.assertEqual(r["value"], 23.4567)
        s = stats.wait_until(lambda s: s.get("samples/unscored", 0) >= 2, what="the unscored readings counted")
        self.assertEqual(s["messages/parse_errors"], 0)
        self.assertEqual(s["samples/received"], 4)
        # EdgeX's own subscribers got both messages as published
        edgex_sub.wait_count(2, prefix="edgex/events/device/", timeout=10)

    def test_cbor_and_garbage_are_counted_not_fatal(self):
        b = start_broker(self, config_yaml=CONFIG)
        stats = sys_stats(self, b.port)
        pub = connect(self, b.port)
        topic = "edgex/events/device/svc/P/dev-1/Temperature"
        pub.publish(topic, json.dumps({"apiVersion": "v3", "payload": "oWFhAQ==", "contentType": "application/cbor"}), qos=0)
        pub.publish(topic, "{not json", qos=0)
        pub.publish(topic, json.dumps({"payload": "!!not base64!!"}), qos=0)
        stats.wait_until(lambda s: s.get("messages/parse_errors", 0) >= 2
                         and s.get("messages/unsupported_payloads", 0) >= 1, what="the bad messages counted")
        self.assertTrue(b.running())


if __name__ == "__main__":
    unittest.main()
