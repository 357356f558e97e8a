"""How `ocidoctor matrix` shows a fleet: order, reasons, progress, formats.

A slow scriptable registry (every answer delayed) listed first, a good one,
one without the Referrers API and a refused port make the fleet. Rows must
come in the targets file's order even though the slow target finishes last;
every row that is not pass carries its reason (text, HTML, Markdown); the
progress bar is drawn on stderr only when stdout and stderr are terminals
(or --progress asks for it) and never shares a line with a row, even when
both go to the same terminal; junit (valid against the Jenkins/Ant schema,
a testsuite per target), markdown and prometheus (a series per target)
are there; the HTML table fits a 1280-pixel window and has a legend, the
start time and the version.
"""

import os
import pty
import re
import select
import shutil
import signal
import subprocess
import unittest
import xml.etree.ElementTree as ET

import harness as h
import scripted_registry as sr

CHROMIUM = "/usr/bin/chromium"
XSD = os.path.join(h.REPO_ROOT, "tests", "junit-jenkins.xsd")


def read_all(fd, timeout=60):
    chunks = []
    while True:
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            break
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode("utf-8", "replace")


def screen(text):
    """The lines a terminal shows for text: "\\r" starts the line again,
    "\\033[K" erases what follows the cursor (all of it, after "\\r")."""
    lines, current = [], ""
    i = 0
    while i < len(text):
        if text.startswith("\033[K", i):
            current = ""
            i += 3
            continue
        if text.startswith("\r\n", i):   # a terminal's newline
            i += 1
            continue
        c = text[i]
        if c == "\r":
            current = ""   # the bar always redraws its whole line
        elif c == "\n":
            lines.append(current)
            current = ""
        else:
            current += c
        i += 1
    if current:
        lines.append(current)
    return lines


class MatrixDisplayTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.slow = cls.start_server(sr.ScriptedRegistry(delay_ms=150))
        cls.good = cls.start_server(sr.ScriptedRegistry())
        cls.poor = cls.start_server(sr.ScriptedRegistry(referrers="404-plain"))
        cls.refused = "http://127.0.0.1:%d" % h.free_port()
        cls.dir = h.scratch_dir("matrix-display-")
        cls.order = [cls.slow.url, cls.good.url, cls.poor.url, cls.refused]
        cls.targets = os.path.join(cls.dir, "targets.txt")
        with open(cls.targets, "w") as f:
            f.write("".join("%s library/alpine:latest\n" % url for url in cls.order))

    def matrix(self, *args):
        return self.doctor(["matrix", "--targets", self.targets, "--parallel", "4",
                            "--timeout", "20"] + list(args))

    def test_rows_in_file_order_with_reasons(self):
        code, out, err = self.matrix("--no-progress")
        self.assertEqual(code, h.EXIT_FAIL, err)
        rows = [line for line in out.splitlines() if line.startswith("http://")]
        self.assertEqual([row.split()[0] for row in rows], self.order)
        self.assertIn("REASON", out.splitlines()[0])
        self.assertIn("connection refused", rows[3])
        self.assertIn("Referrers API not supported", rows[2])
        code, out, err = self.matrix("--no-progress", "--format", "json")
        self.assertEqual([line.split('"registry":"')[1].split('"')[0]
                          for line in out.splitlines()], self.order)

    def test_no_bar_when_stdout_is_not_a_terminal(self):
        master, slave = pty.openpty()
        proc = subprocess.Popen([h.doctor_binary(), "matrix", "--targets", self.targets],
                                stdout=subprocess.PIPE, stderr=slave,
                                stdin=subprocess.DEVNULL, env=h.doctor_env())
        os.close(slave)
        out = proc.stdout.read().decode()
        proc.stdout.close()
        err = read_all(master)
        os.close(master)
        proc.wait(60)
        self.assertNotIn("targets,", err)
        self.assertEqual(len([l for l in out.splitlines() if l.startswith("http://")]), 4)

    def test_bar_when_asked(self):
        code, out, err = self.matrix("--progress")
        self.assertIn("] 0/4 targets, 0 failing", err)
        # (text mode turns the "\r" before the erase into a newline)
        self.assertTrue(err.endswith("\033[K"), repr(err[-40:]))
        self.assertNotIn("targets,", out)

    def test_bar_never_shares_a_line_with_a_row(self):
        master, slave = pty.openpty()
        proc = subprocess.Popen([h.doctor_binary(), "matrix", "--targets", self.targets,
                                 "--parallel", "4"], stdout=slave, stderr=slave,
                                stdin=subprocess.DEVNULL, env=h.doctor_env())
        os.close(slave)
        shown = read_all(master)
        os.close(master)
        proc.wait(60)
        self.assertIn("targets, ", shown, "no bar was drawn on the terminal")
        lines = screen(shown)
        self.assertTrue(lines[0].startswith("TARGET"), lines)
        for line in lines:
            self.assertNotIn("targets, ", line, "the bar is left on the screen: %r" % lines)
        rows = [line for line in lines if line.startswith("http://")]
        self.assertEqual([row.split()[0] for row in rows], self.order, lines)

    def test_junit_one_testsuite_per_target(self):
        code, out, err = self.matrix("--no-progress", "--format", "junit")
        root = ET.fromstring(out)
        suites = root.findall("testsuite")
        self.assertEqual([s.get("name").split()[0] for s in suites], self.order)
        for suite in suites:
            cases = suite.findall("testcase")
            self.assertEqual(int(suite.get("tests")), len(cases))
            self.assertEqual(int(suite.get("failures")), len(suite.findall("testcase/failure")))
            for case in cases:
                self.assertEqual(case.get("classname"), "ocidoctor." + case.get("name"))
        refused = suites[3]
        self.assertEqual(refused.find("testcase/failure").get("type"), "fail")
        path = os.path.join(self.dir, "matrix.xml")
        with open(path, "w") as f:
            f.write(out)
        xmllint = shutil.which("xmllint")
        self.assertTrue(xmllint, "xmllint is needed (libxml2-utils)")
        proc = subprocess.run([xmllint, "--noout", "--schema", XSD, path],
                              capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_markdown_table(self):
        code, out, err = self.matrix("--no-progress", "--format", "markdown")
        lines = out.splitlines()
        header = next(i for i, l in enumerate(lines) if l.startswith("| Registry"))
        columns = lines[header].count("|")
        rows = lines[header + 2:header + 6]
        self.assertEqual(len(rows), 4)
        for row, url in zip(rows, self.order):
            self.assertEqual(row.count("|") - row.count("\\|"), columns, row)
            # an address reads as it is: no 127\.0\.0\.1
            self.assertTrue(row.startswith("| " + url + " |"), row)
        self.assertIn("connection refused", rows[3])
        self.assertRegex(out, r"4 targets; worst: \*\*fail\*\*")

    def test_prometheus_series_per_target(self):
        code, out, err = self.matrix("--no-progress", "--format", "prometheus")
        self.assertTrue(out.endswith("\n"))
        families, order = {}, []
        for line in out.splitlines():
            m = re.match(r"^# (HELP|TYPE) (\w+) ", line)
            if m:
                if m.group(2) not in order:
                    order.append(m.group(2))
                continue
            m = re.match(r'^(\w+)(\{[^}]*\})? (-?[0-9.]+)$', line)
            self.assertTrue(m, line)
            self.assertEqual(m.group(1), order[-1], "the lines of a family are not together")
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
            families.setdefault(m.group(1), []).append((labels, float(m.group(3))))
        status = families["ocidoctor_target_status"]
        self.assertEqual([l["registry"] for l, _ in status], self.order)
        for labels, _ in status:
            self.assertEqual(set(labels), {"registry", "repository", "tag"})
            self.assertEqual(labels["repository"], "library/alpine")
        self.assertEqual(status[3][1], 3)
        self.assertEqual(len(families["ocidoctor_target_capability_supported"]), 3 * 5)
        self.assertEqual(len(families["ocidoctor_matrix_timestamp_seconds"]), 1)

    def test_html_legend_timestamp_version_and_reasons(self):
        code, page, err = self.matrix("--no-progress", "--format", "html")
        self.assertIn('class="legend"', page)
        self.assertRegex(page, r"started \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
        self.assertIn("ocidoctor 0.1.0", page)
        self.assertIn("<th>Reason</th>", page)
        self.assertIn("connection refused", page)
        rows = re.findall(r"<tr><td>(http://[^<]+)</td>", page)
        self.assertEqual(rows, self.order)

    def test_html_fits_1280_pixels(self):
        if not os.access(CHROMIUM, os.X_OK):
            h.missing_program("%s is not installed (scripts/install-deps --test installs "
                              "Debian's chromium); the page was not rendered" % CHROMIUM)
        code, page, err = self.matrix("--no-progress", "--format", "html")
        # a copy of the page that writes its own width into its title
        probe = page.replace("</body>", "<script>document.title='width=' + "
                             "document.documentElement.scrollWidth</script></body>")
        path = os.path.join(self.dir, "matrix.html")
        with open(path, "w") as f:
            f.write(probe)
        home = h.scratch_dir("chromium-")
        proc = subprocess.Popen([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                                 "--no-first-run", "--disable-background-networking",
                                 "--user-data-dir=" + os.path.join(home, "profile"),
                                 "--window-size=1280,900", "--dump-dom", "file://" + path],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                     "HOME": home, "DBUS_SESSION_BUS_ADDRESS": "disabled:"})
        try:
            dom, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        m = re.search(rb"<title>width=(\d+)</title>", dom)
        self.assertTrue(m, dom[:500])
        self.assertLessEqual(int(m.group(1)), 1280, "the table scrolls sideways")


if __name__ == "__main__":
    unittest.main()
