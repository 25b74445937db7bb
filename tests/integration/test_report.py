# SPDX-License-Identifier: Apache-2.0
"""`edge-anomaly report` on a mirror filled by the real broker, rendered
in headless Chromium (Debian's chromium): the screenshot shows the plotted
line and the red anomaly markers where the HTML says they are, and the
anomaly table lists the reasons. The HTML needs no network (no external
reference at all)."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from broker import CLI, connect, require_broker, start_broker, sys_stats, twin_update, twin_update_topic, wait_result

CHROMIUM = shutil.which("chromium")

try:
    from PIL import Image  # Debian's python3-pil
except ImportError:  # pragma: no cover
    Image = None


@unittest.skipIf(CHROMIUM is None or Image is None, "needs chromium and python3-pil")
class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_broker()

    def test_report_renders_points_markers_and_reasons(self):
        d = tempfile.mkdtemp(prefix="ea-report-")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o777)
        db = os.path.join(d, "mirror.db")
        b = start_broker(self, config_yaml="stats_interval: 1s\nmirror: {path: %s}\nroutes:\n"
                         "  - match: {device: boiler-*}\n    detectors: [{range: {max: 100}}]\n" % db)
        res = connect(self, b.port)
        res.subscribe("edge-anomaly/#", qos=1)
        stats = sys_stats(self, b.port)
        pub = connect(self, b.port)
        t0 = 1795000000000
        values = [50 + (i % 10) for i in range(60)]
        values[20] = values[21] = 180  # one excursion of two samples
        values[45] = 150               # and a single one
        pub.publish_many([(twin_update_topic("boiler-1"), twin_update({"temp": str(v)}, timestamp=t0 + i * 60000))
                          for i, v in enumerate(values)], qos=1)
        wait_result(res, timeout=10, device="boiler-1", value=150, anomaly=True)
        stats.wait_until(lambda s: s.get("mirror/samples", 0) >= 60 and s.get("mirror/results", 0) >= 4,
                         what="the mirror written")

        html_path = os.path.join(d, "report.html")
        r = subprocess.run([CLI, "report", "--db", db, "--output", html_path], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(html_path) as f:
            html = f.read()
        self.assertNotRegex(html, r"(src|href)=\"(https?:)?//")  # self-contained
        self.assertEqual(html.count('class="series-line"'), 1)
        self.assertEqual(len(re.findall(r'class="anomaly" ', html)), 3)
        self.assertEqual(len(re.findall(r'class="raise" ', html)), 2)
        self.assertEqual(len(re.findall(r'class="anomaly-row"', html)), 2)
        self.assertIn("value 180 is above the maximum 100", html)
        points = re.search(r'class="series-line"[^>]*points="([^"]+)"', html).group(1).split()
        self.assertEqual(len(points), 60)

        png = os.path.join(d, "report.png")
        profile = tempfile.mkdtemp(prefix="ea-chromium-")
        self.addCleanup(shutil.rmtree, profile, True)
        shot = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                               "--disable-background-networking", "--disable-component-update", "--disable-sync",
                               "--user-data-dir=" + profile, "--hide-scrollbars", "--window-size=1100,700",
                               "--screenshot=" + png, "file://" + html_path],
                              capture_output=True, text=True, timeout=120)
        self.assertTrue(os.path.exists(png), shot.stderr[-2000:])
        img = Image.open(png).convert("RGB")
        # each anomaly dot, where the SVG puts it (the page is not scaled), is
        # drawn red; the series line is drawn blue
        ox, oy = self.svg_offset(img)
        dots = [(float(x), float(y)) for x, y in re.findall(r'class="anomaly" cx="([\d.]+)" cy="([\d.]+)"', html)]
        for x, y in dots:
            cx, cy = int(round(x)) + ox, int(round(y)) + oy
            reds = [img.getpixel((cx + dx, cy + dy)) for dx in range(-2, 3) for dy in range(-2, 3)]
            self.assertTrue(any(p[0] > 180 and p[1] < 100 and p[2] < 100 for p in reds),
                            "no red marker at %r (pixels %r)" % ((cx, cy), reds[:5]))
        blue = sum(1 for p in img.getdata() if p[2] - p[0] > 60)
        self.assertGreater(blue, 300, "the series line is not drawn")
        red = sum(1 for p in img.getdata() if p[0] > 180 and p[1] < 100 and p[2] < 100)
        self.assertGreater(red, 3 * 30, "too few red marker pixels")

    def svg_offset(self, img):
        """Where the SVG's origin is on the screenshot: the chart's inner area
        (#fafafa) starts just inside the frame at (PAD_L, PAD_T) = (70, 20)."""
        w, h = img.size
        for y in range(h):
            row = [img.getpixel((x, y)) == (250, 250, 250) for x in range(w)]
            if sum(row) > 500:  # the first row of the chart's 870-pixel-wide area
                return row.index(True) - 71, y - 21
        raise AssertionError("chart area not found in the screenshot")


if __name__ == "__main__":
    unittest.main()
