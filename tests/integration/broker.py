# SPDX-License-Identifier: Apache-2.0
"""Helpers of the integration tests: a real mosquitto broker with the
edge-anomaly plugin, paho-based clients, KubeEdge payload builders and a
reader of the plugin's $SYS counters.

Run with Debian's Python (/usr/bin/python3), which has paho-mqtt 1.6.

    with Broker(config_yaml="stats_interval: 1s\n") as b:
        sub = Client(b.port)
        sub.subscribe("edge-anomaly/#", qos=1)
        pub = Client(b.port)
        pub.publish(twin_update_topic("dev1", ns="ns1"),
                    twin_update({"temperature": ("200", "float")}), qos=1)
        msg = sub.wait_for(lambda m: m.topic.startswith("edge-anomaly/"))
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import namedtuple

import paho.mqtt.client as mqtt

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
# EA_BUILD_DIR: the build directory to test (default build/).
BUILD_DIR = os.environ.get("EA_BUILD_DIR", os.path.join(REPO, "build"))
PLUGIN = os.path.join(BUILD_DIR, "edge_anomaly.so")
CLI = os.path.join(BUILD_DIR, "edge-anomaly")
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PUB = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"
MOSQUITTO_SUB = shutil.which("mosquitto_sub") or "/usr/bin/mosquitto_sub"
LOADGEN = os.path.join(BUILD_DIR, "bench-loadgen")
VALGRIND = shutil.which("valgrind")

SYS_PREFIX = "$SYS/broker/edge-anomaly/"
RESULT_PREFIX = "edge-anomaly/"


class BrokerError(Exception):
    """The broker did not start (or stop) as expected; the message holds its log."""


def mosquitto_available():
    return os.path.exists(MOSQUITTO)


def plugin_available():
    return os.path.exists(PLUGIN)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


class Broker:
    """A real `mosquitto -c conf` on a free loopback port.

    config_yaml:   text of the plugin's YAML config (written to config.yaml in
                   a temp dir and given as plugin_opt_config), or None for no
                   plugin_opt_config line (built-in defaults).
    plugin:        False runs a plain broker without the plugin.
    plugin_opts:   extra (key, value) pairs written as plugin_opt_<key> <value>.
    global_conf:   extra mosquitto.conf lines before the listener (for
                   example "per_listener_settings true").
    listener_conf: extra lines after the listener line.
    valgrind:      run under valgrind (definite leaks are errors, exit code
                   99); the start timeout is then longer.
    """

    def __init__(self, config_yaml=None, plugin=True, plugin_opts=(), global_conf=(),
                 listener_conf=(), valgrind=False, start_timeout=None, log_all=False,
                 config_name="config.yaml"):
        self.config_yaml = config_yaml
        self.plugin = plugin
        self.plugin_opts = list(plugin_opts)
        self.global_conf = list(global_conf)
        self.listener_conf = list(listener_conf)
        self.valgrind = valgrind
        self.start_timeout = start_timeout if start_timeout is not None else (90.0 if valgrind else 10.0)
        self.log_all = log_all
        self.dir = tempfile.mkdtemp(prefix="ea-it-")
        os.chmod(self.dir, 0o755)  # mosquitto may drop privileges when run as root
        self.conf_path = os.path.join(self.dir, "mosquitto.conf")
        self.config_path = os.path.join(self.dir, config_name) if config_yaml is not None else None
        self.log_path = os.path.join(self.dir, "mosquitto.log")
        self.valgrind_log_path = os.path.join(self.dir, "valgrind.log")
        self.port = None
        self.proc = None
        self.returncode = None
        self.start_time = None
        self._logf = None

    # -- configuration ------------------------------------------------

    def _write_files(self):
        if self.config_yaml is not None:
            with open(self.config_path, "w") as f:
                f.write(self.config_yaml)
            os.chmod(self.config_path, 0o644)
        lines = list(self.global_conf)
        lines += ["listener %d 127.0.0.1" % self.port, "allow_anonymous true"]
        lines += self.listener_conf
        if self.plugin:
            lines.append("plugin " + PLUGIN)
            if self.config_path is not None:
                lines.append("plugin_opt_config " + self.config_path)
            for k, v in self.plugin_opts:
                lines.append("plugin_opt_%s %s" % (k, v))
        # stderr is unbuffered: the log can be read while the broker runs.
        lines.append("log_dest stderr")
        if self.log_all:
            lines.append("log_type all")
        else:
            lines += ["log_type error", "log_type warning", "log_type notice", "log_type information"]
        lines.append("log_timestamp true")
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.conf_path, 0o644)

    def _command(self):
        cmd = [MOSQUITTO, "-c", self.conf_path]
        if self.valgrind:
            cmd = [VALGRIND, "--leak-check=full", "--errors-for-leak-kinds=definite",
                   "--error-exitcode=99", "--vgdb=no", "--log-file=" + self.valgrind_log_path] + cmd
        return cmd

    # -- life cycle ---------------------------------------------------

    def _spawn(self):
        self.port = free_port()
        self._write_files()
        if self._logf is not None:
            self._logf.close()
        self._logf = open(self.log_path, "wb")
        self.start_time = time.monotonic()
        self.proc = subprocess.Popen(self._command(), stdin=subprocess.DEVNULL, stdout=self._logf,
                                     stderr=subprocess.STDOUT, cwd=self.dir)

    def start(self):
        """Starts the broker and waits until its port accepts connections.
        Raises BrokerError (with the log) if it exits or does not listen."""
        for attempt in range(3):
            self._spawn()
            deadline = time.monotonic() + self.start_timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                        return self
                except OSError:
                    time.sleep(0.05)
            if self.proc.poll() is None:
                self.kill()
                raise BrokerError("mosquitto did not listen on port %d within %.0f s; log:\n%s"
                                  % (self.port, self.start_timeout, self.log()))
            self.returncode = self.proc.returncode
            if "Address already in use" in self.log() and attempt < 2:
                continue  # lost the race for the free port: try another
            raise BrokerError("mosquitto exited with %d at start; log:\n%s" % (self.returncode, self.log()))
        raise BrokerError("no free port")

    def run_until_exit(self, timeout=15.0):
        """Starts the broker expecting it to exit by itself (a refused
        config). Returns (exit code, log); raises BrokerError if it is
        still running after `timeout` seconds (then it is killed)."""
        self._spawn()
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise BrokerError("mosquitto still running after %.0f s; log:\n%s" % (timeout, self.log()))
        self._close_log()
        return self.returncode, self.log()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=None):
        """SIGTERM, then waits. Returns (exit code, log). Kills it (and
        raises BrokerError) if it does not exit in time."""
        if timeout is None:
            timeout = 120.0 if self.valgrind else 15.0
        if self.proc is None:
            return None, self.log()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise BrokerError("mosquitto did not exit within %.0f s of SIGTERM; log:\n%s"
                                  % (timeout, self.log()))
        self.returncode = self.proc.returncode
        self._close_log()
        return self.returncode, self.log()

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None:
            self.returncode = self.proc.returncode
        self._close_log()

    def _close_log(self):
        if self._logf is not None:
            self._logf.close()
            self._logf = None

    def cleanup(self):
        """Stops the broker if it runs and removes the temp dir. Never raises."""
        try:
            self.kill()
        finally:
            if os.environ.get("EA_IT_KEEP") is None:
                shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        try:
            if self.running():
                self.stop()
        finally:
            self.cleanup()

    # -- logs -----------------------------------------------------------

    def log(self):
        return _read(self.log_path)

    def valgrind_log(self):
        return _read(self.valgrind_log_path)

    def wait_log(self, needle, timeout=10.0):
        """Waits until the log contains `needle` (a string); returns the log.
        Raises AssertionError with the log on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log()
            if needle in text:
                return text
            if time.monotonic() >= deadline:
                raise AssertionError("%r not in the broker log after %.1f s; log:\n%s" % (needle, timeout, text))
            time.sleep(0.05)

    def plugin_log_lines(self):
        return [l for l in self.log().splitlines() if "edge-anomaly" in l]

    # -- process and config ---------------------------------------------

    def status_kib(self, field):
        """A "kB" field of /proc/<pid>/status of the mosquitto process
        (e.g. "VmHWM", peak resident set; "VmRSS"), in KiB. Not meaningful
        under valgrind (the process is valgrind's)."""
        return proc_status_kib(self.proc.pid, field)

    def rewrite_config(self, config_yaml):
        """Replaces the plugin's YAML file (atomically: a reader sees the old
        or the new text, never half of it). The broker reads it again on
        SIGHUP (see reload())."""
        tmp = self.config_path + ".new"
        with open(tmp, "w") as f:
            f.write(config_yaml)
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.config_path)
        self.config_yaml = config_yaml

    def reload(self, timeout=10.0):
        """Sends SIGHUP and waits until mosquitto logged one more "Reloading
        config." line than before (signals that arrive before the broker
        handled the previous one would be merged into one reload)."""
        before = self.log().count("Reloading config.")
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while self.log().count("Reloading config.") <= before:
            if time.monotonic() >= deadline:
                raise AssertionError("no new 'Reloading config.' within %.1f s of SIGHUP; log:\n%s"
                                     % (timeout, self.log()))
            if not self.running():
                raise AssertionError("the broker exited after SIGHUP; log:\n" + self.log())
            time.sleep(0.02)


def proc_status_kib(pid, field):
    """A "kB" field of /proc/<pid>/status (e.g. "VmHWM", "VmRSS"), in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError("%s not in /proc/%d/status" % (field, pid))


# ----------------------------------------------------------------------
# Clients

Msg = namedtuple("Msg", "seq topic payload qos retain time")


class Client:
    """A paho client with a background loop that records every message
    received (thread-safe), and blocking helpers to subscribe, publish and
    wait."""

    def __init__(self, port, client_id=None, connect_timeout=10.0, max_inflight=20):
        self._lock = threading.Condition()
        self.messages = []
        self._seq = 0
        self._connected = False
        self._connect_rc = None
        self._subacks = {}
        self.port = port
        self.client = mqtt.Client(client_id=client_id or "", clean_session=True, protocol=mqtt.MQTTv311)
        self.client.max_inflight_messages_set(max_inflight)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.connect("127.0.0.1", port, keepalive=60)
        self.client.loop_start()
        with self._lock:
            if not self._lock.wait_for(lambda: self._connect_rc is not None, connect_timeout):
                self.close()
                raise BrokerError("no CONNACK from the broker on port %d" % port)
            if self._connect_rc != 0:
                self.close()
                raise BrokerError("connection refused: rc %s" % self._connect_rc)

    def _on_connect(self, client, userdata, flags, rc):
        with self._lock:
            self._connect_rc = rc
            self._connected = rc == 0
            self._lock.notify_all()

    def _on_subscribe(self, client, userdata, mid, granted_qos):
        with self._lock:
            # the SUBACK comes after every packet the broker queued for this
            # client before it handled the SUBSCRIBE: a sync point (see sync())
            self._subacks[mid] = (granted_qos, self._seq)
            self._lock.notify_all()

    def _on_message(self, client, userdata, message):
        with self._lock:
            self._seq += 1
            self.messages.append(Msg(self._seq, message.topic, bytes(message.payload), message.qos,
                                     bool(message.retain), time.monotonic()))
            self._lock.notify_all()

    def subscribe(self, topics, qos=0, timeout=10.0):
        """Subscribes to one filter or a list of filters and waits for the SUBACK."""
        if isinstance(topics, str):
            topics = [topics]
        rc, mid = self.client.subscribe([(t, qos) for t in topics])
        if rc != mqtt.MQTT_ERR_SUCCESS:
            raise BrokerError("subscribe failed: rc %d" % rc)
        with self._lock:
            if not self._lock.wait_for(lambda: mid in self._subacks, timeout):
                raise BrokerError("no SUBACK for %s" % topics)
            granted, self.last_suback_seq = self._subacks[mid]
        if any(g == 0x80 for g in granted):
            raise BrokerError("subscription refused: %s" % (granted,))
        return granted

    def sync(self, timeout=10.0):
        """Returns the sequence number of the last message received before a
        round trip to the broker: every message the broker sent to this
        client before it handled the round trip has arrived by then, and
        every later message was sent after. Uses SUBSCRIBE/SUBACK, which the
        plugin does not see (a PUBLISH would count in messages/received)."""
        self.subscribe("ea-it/sync/never-published", qos=0, timeout=timeout)
        return self.last_suback_seq

    def publish(self, topic, payload, qos=0, retain=False, timeout=30.0):
        """Publishes; for QoS > 0 waits until the broker acknowledged it."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise BrokerError("publish to %s failed: rc %d" % (topic, info.rc))
        if qos > 0:
            info.wait_for_publish(timeout)
            if not info.is_published():
                raise BrokerError("publish to %s not acknowledged within %.0f s" % (topic, timeout))
        return info

    def publish_many(self, items, qos=1, timeout=60.0):
        """Publishes (topic, payload) pairs in order and waits for all acks."""
        infos = []
        for topic, payload in items:
            info = self.client.publish(topic, payload, qos=qos)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                raise BrokerError("publish to %s failed: rc %d" % (topic, info.rc))
            infos.append(info)
        deadline = time.monotonic() + timeout
        for info in infos:
            if qos > 0:
                info.wait_for_publish(max(0.1, deadline - time.monotonic()))
                if not info.is_published():
                    raise BrokerError("publish not acknowledged within %.0f s" % timeout)
        return infos

    # -- received messages ---------------------------------------------

    def snapshot(self, prefix=None):
        with self._lock:
            if prefix is None:
                return list(self.messages)
            return [m for m in self.messages if m.topic.startswith(prefix)]

    def count(self, prefix=None):
        with self._lock:
            if prefix is None:
                return len(self.messages)
            return sum(1 for m in self.messages if m.topic.startswith(prefix))

    def wait_for(self, predicate, timeout=10.0, what="a matching message"):
        """Waits for a message satisfying predicate(msg); returns it.
        Raises AssertionError listing what was received on timeout."""
        deadline = time.monotonic() + timeout
        start = 0
        with self._lock:
            while True:
                for m in self.messages[start:]:
                    if predicate(m):
                        return m
                start = len(self.messages)
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(left)
            seen = [(m.topic, m.payload[:300]) for m in self.messages if not m.topic.startswith(SYS_PREFIX)]
        raise AssertionError("timed out after %.1f s waiting for %s; received (non-$SYS): %r"
                             % (timeout, what, seen[-40:]))

    def wait_count(self, n, prefix=None, timeout=10.0):
        """Waits until at least n messages (with topic prefix) arrived; returns the count."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                c = len(self.messages) if prefix is None else sum(
                    1 for m in self.messages if m.topic.startswith(prefix))
                left = deadline - time.monotonic()
                if c >= n or left <= 0:
                    return c
                self._lock.wait(min(left, 0.5))

    def wait_quiet(self, quiet=0.5, timeout=30.0, prefix=None):
        """Waits until no message (with prefix) arrived for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        last = self.count(prefix)
        last_change = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            c = self.count(prefix)
            if c != last:
                last, last_change = c, time.monotonic()
            elif time.monotonic() - last_change >= quiet:
                return c
        return self.count(prefix)

    def close(self):
        try:
            self.client.disconnect()
        except Exception:
            pass
        self.client.loop_stop()


# ----------------------------------------------------------------------
# Results

def result_messages(client, device=None, ns=None, prop=None):
    """The edge-anomaly results a client received, as (Msg, dict), oldest first."""
    out = []
    for m in client.snapshot(RESULT_PREFIX):
        r = json.loads(m.payload.decode("utf-8"))
        if device is not None and r.get("device") != device:
            continue
        if ns is not None and r.get("namespace") != ns:
            continue
        if prop is not None and r.get("property") != prop:
            continue
        out.append((m, r))
    return out


def wait_result(client, timeout=10.0, **match):
    """Waits for a result whose JSON fields equal `match` (e.g. device=...,
    kind=..., anomaly=True); returns (Msg, dict)."""
    def pred(m):
        if not m.topic.startswith(RESULT_PREFIX):
            return False
        try:
            r = json.loads(m.payload.decode("utf-8"))
        except ValueError:
            return False
        return all(r.get(k) == v for k, v in match.items())
    m = client.wait_for(pred, timeout, what="a result with %r" % (match,))
    return m, json.loads(m.payload.decode("utf-8"))


# ----------------------------------------------------------------------
# $SYS counters

class SysStats(Client):
    """Subscribes to $SYS/broker/edge-anomaly/# and reads counters. The
    plugin publishes them all in one batch (messages/received first,
    workers last) every stats_interval, retained."""

    def __init__(self, port, **kw):
        Client.__init__(self, port, **kw)
        self.subscribe(SYS_PREFIX + "#", qos=0)

    def batch(self, timeout=10.0):
        """The next complete batch of counters that the broker started
        publishing after this call (not one already on its way when called):
        a dict name -> int."""
        since = self.sync(timeout)
        first = self.wait_for(lambda m: m.seq > since and m.topic == SYS_PREFIX + "messages/received",
                              timeout, what="a fresh $SYS messages/received")
        last = self.wait_for(lambda m: m.seq > first.seq and m.topic == SYS_PREFIX + "workers",
                             timeout, what="the end of a $SYS batch")
        out = {}
        with self._lock:
            for m in self.messages:
                if first.seq <= m.seq <= last.seq and m.topic.startswith(SYS_PREFIX):
                    out[m.topic[len(SYS_PREFIX):]] = int(m.payload)
        return out

    def fresh(self, name, timeout=10.0):
        """A value of counter `name` published after this call."""
        return self.batch(timeout)[name]

    def wait_until(self, predicate, timeout=20.0, what="counters"):
        """Reads fresh batches until predicate(batch) is true; returns that batch.
        Raises AssertionError with the last batch on timeout."""
        deadline = time.monotonic() + timeout
        b = None
        while time.monotonic() < deadline:
            try:
                b = self.batch(timeout=max(0.5, min(5.0, deadline - time.monotonic())))
            except AssertionError:
                continue
            if predicate(b):
                return b
        raise AssertionError("%s: condition not met within %.0f s; last batch: %r" % (what, timeout, b))


# ----------------------------------------------------------------------
# KubeEdge payloads (see /work/shared/DESIGN.md)

def now_ms():
    return int(time.time() * 1000)


def _json(obj):
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def _msg_twin(value, vtype, ts):
    twin = {"actual": {"value": value, "metadata": {"timestamp": ts}}}
    if vtype is not None:
        twin["metadata"] = {"type": vtype}
    return twin


def _props(props, ts):
    """props: name -> value string, or (value, type), or (value, type, timestamp ms)."""
    out = {}
    for name, spec in props.items():
        if isinstance(spec, tuple):
            value, vtype = spec[0], spec[1]
            t = spec[2] if len(spec) > 2 else ts
        else:
            value, vtype, t = spec, None, ts
        out[name] = (value, vtype, t)
    return out


def twin_update(props, timestamp=None, event_id=""):
    """A KubeEdge twin update: {"event_id","timestamp","twin":{P:{"actual":
    {"value":"..","metadata":{"timestamp":ms}},"metadata":{"type":".."}}}}.
    Values are strings; `props` maps a property to a value string, or to
    (value, type) or (value, type, timestamp ms)."""
    ts = now_ms() if timestamp is None else timestamp
    twin = {name: _msg_twin(v, t, pts) for name, (v, t, pts) in _props(props, ts).items()}
    return _json({"event_id": event_id, "timestamp": ts, "twin": twin})


def twin_document(props, timestamp=None, event_id=""):
    """A twin/update/document payload: {"event_id","timestamp","twin":{P:
    {"last":null,"current":{"actual":{..},"metadata":{"type":..}}}}}."""
    ts = now_ms() if timestamp is None else timestamp
    twin = {name: {"last": None, "current": _msg_twin(v, t, pts)}
            for name, (v, t, pts) in _props(props, ts).items()}
    return _json({"event_id": event_id, "timestamp": ts, "twin": twin})


def state_update(state, timestamp=None, event_id=""):
    """A device state payload: {"event_id","timestamp","state"}."""
    ts = now_ms() if timestamp is None else timestamp
    return _json({"event_id": event_id, "timestamp": ts, "state": state})


def _device_path(device, ns):
    return device if ns is None else "%s/%s" % (ns, device)


def twin_update_topic(device, ns=None):
    """$hw/events/device/{ns}/{device}/twin/update; one level when ns is None."""
    return "$hw/events/device/%s/twin/update" % _device_path(device, ns)


def twin_document_topic(device, ns=None):
    return "$hw/events/device/%s/twin/update/document" % _device_path(device, ns)


def state_update_topic(device, ns=None):
    return "$hw/events/device/%s/state/update" % _device_path(device, ns)


def rfc3339_ms(text):
    """Milliseconds since the epoch of 'YYYY-MM-DDTHH:MM:SS.mmmZ' (strict)."""
    import calendar
    import re
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z", text)
    if m is None:
        raise ValueError("not RFC3339 UTC with milliseconds: %r" % text)
    y, mo, d, h, mi, s, ms = (int(g) for g in m.groups())
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 1000 + ms


# ----------------------------------------------------------------------
# unittest support

def require_broker():
    """Raises unittest.SkipTest when mosquitto is not installed; fails when
    the plugin is not built (the Makefile builds it before these tests)."""
    import unittest
    if not mosquitto_available():
        raise unittest.SkipTest("mosquitto is not installed")
    if not plugin_available():
        raise AssertionError("%s is missing: run `make all` first" % PLUGIN)


def start_broker(testcase, **kw):
    """Starts a Broker whose stop and cleanup are registered on `testcase`
    (a TestCase, or a TestCase class inside setUpClass)."""
    b = Broker(**kw)
    add = testcase.addClassCleanup if isinstance(testcase, type) else testcase.addCleanup
    add(b.cleanup)
    b.start()
    return b


def connect(testcase, port, **kw):
    """A Client closed by the test's (or class's) cleanup."""
    c = Client(port, **kw)
    add = testcase.addClassCleanup if isinstance(testcase, type) else testcase.addCleanup
    add(c.close)
    return c


def sys_stats(testcase, port):
    s = SysStats(port)
    add = testcase.addClassCleanup if isinstance(testcase, type) else testcase.addCleanup
    add(s.close)
    return s
