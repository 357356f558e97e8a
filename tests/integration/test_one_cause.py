"""One root cause reads as one failure.

Against a port where nothing listens, the registry check fails with the
cause; the checks that could not run because of it keep their documented
status (fail) but are marked blockedBy the registry check, carry no fix of
their own, and are listed under the cause instead of as cards of their own.
The summary (text, JSON, Markdown, JUnit) and the HTML banner lead with
the cause (Markdown lists the blocked checks in rows under it, with no fix
of their own; JUnit names the cause in a suite property), and
the exit status is 2.
"""

import json
import os
import re

import harness as h

REGISTRY = "check.integration.oci.registry"


class DeadRegistryTest(h.DoctorTestCase):

    def dead_url(self):
        return "http://127.0.0.1:%d" % h.free_port()

    def test_json_marks_the_blocked_checks(self):
        url = self.dead_url()
        code, out, err = self.doctor(["run", "--registry", url, "--format", "json"])
        self.assertEqual(code, h.EXIT_FAIL, err)
        report = json.loads(out)
        blocked = [r for r in report["results"] if r.get("blockedBy")]
        self.assertGreaterEqual(len(blocked), 3, report)
        for r in blocked:
            self.assertEqual(r["blockedBy"], REGISTRY)
            self.assertEqual(r["status"], "fail")
            self.assertNotIn("remediation", r)
        self.assertIn("remediation", h.result_of(report, "registry"))
        cause = report["summary"]["cause"]
        self.assertEqual(cause["checkId"], REGISTRY)
        self.assertEqual(cause["blocked"], len(blocked))
        self.assertIn("connection refused", cause["message"])

    def test_text_shows_one_cause(self):
        url = self.dead_url()
        code, out, err = self.doctor(["run", "--registry", url, "--no-color"])
        self.assertEqual(code, h.EXIT_FAIL, err)
        self.assertEqual(len(re.findall(r"(?m)^  FAIL ", out)), 1, out)
        self.assertEqual(out.count("fix:"), 1, out)
        self.assertNotIn("cannot check: there is no registry", out)
        self.assertRegex(out, r"(?m)^        blocked: FAIL check\.integration\.oci\.pull$")
        self.assertRegex(out, r"\nSummary: 1 cause: connection refused.*blocked by it")
        self.assertIn("(1 request in", out)

    def test_html_banner_names_the_cause(self):
        url = self.dead_url()
        code, out, err = self.doctor(["run", "--registry", url, "--format", "html"])
        self.assertEqual(code, h.EXIT_FAIL, err)
        banner = re.search(r'<div class="verdict[^>]*>(.*?)</div>', out).group(1)
        self.assertIn("1 cause: connection refused", banner)
        self.assertNotIn("checks failed", banner)
        self.assertEqual(out.count('<section class="check"'), 3, out)  # registry, credentials, artifacts
        self.assertIn("Blocked by this: <code>check.integration.oci.pull</code>", out)

    def test_markdown_leads_with_the_cause(self):
        url = self.dead_url()
        code, out, err = self.doctor(["run", "--registry", url, "--format", "markdown"])
        self.assertEqual(code, h.EXIT_FAIL, err)
        head = out.split("| Status |")[0]
        self.assertRegex(head, r"\*\*1 cause:\*\* connection refused.*\(`%s`\); 4 checks "
                               r"blocked by it\n" % re.escape(REGISTRY))
        self.assertLess(head.index("1 cause"), head.index("Test image"))
        rows = [l for l in out.splitlines() if l.startswith("| ")]
        ids = [re.search(r"`([^`]+)`", l).group(1) for l in rows[1:]]
        cause_row = ids.index(REGISTRY)
        for i, check in enumerate(("pull", "push", "referrers", "capabilities")):
            self.assertEqual(ids[cause_row + 1 + i], "check.integration.oci." + check, out)
            self.assertIn("| ↳ `check.integration.oci.%s` | blocked by `%s` |" % (check, REGISTRY),
                          rows[1 + cause_row + 1 + i])
        self.assertNotIn("cannot check: there is no registry", out)
        fixes = out.split("### How to fix")[1]
        self.assertEqual(re.findall(r"(?m)^- \*\*`([^`]+)`", fixes), [REGISTRY], out)

    def test_junit_leads_with_the_cause(self):
        url = self.dead_url()
        code, out, err = self.doctor(["run", "--registry", url, "--format", "junit"])
        self.assertEqual(code, h.EXIT_FAIL, err)
        import xml.etree.ElementTree as ET
        suite = ET.fromstring(out).find("testsuite")
        prop = suite.find("properties/property[@name='cause']")
        self.assertIsNotNone(prop, out)
        self.assertRegex(prop.get("value"), r"^1 cause: connection refused.*\(%s\); 4 checks "
                                            r"blocked by it$" % re.escape(REGISTRY))
        self.assertTrue(suite.find("system-out").text.startswith("1 cause: connection refused"))
        failures = {}
        for case in suite.findall("testcase"):
            f = case.find("failure")
            if f is not None:
                failures[case.get("name")] = f
        self.assertIn("Blocks: check.integration.oci.pull", failures[REGISTRY].text)
        self.assertIn("Fix: ", failures[REGISTRY].text)
        for name, f in failures.items():
            if name == REGISTRY:
                continue
            self.assertTrue(f.get("message").startswith("blocked by %s: " % REGISTRY), name)
            self.assertNotIn("Fix:", f.text)
            self.assertIn("ocidoctor explain %s" % REGISTRY, f.text)
        self.assertEqual(len(failures), 5)


class SingularTest(h.DoctorTestCase):
    """One of a thing is said in the singular: 1 target, 1 request."""

    def test_one_target_one_request(self):
        url = "http://127.0.0.1:%d" % h.free_port()
        path = os.path.join(h.scratch_dir("singular-"), "targets.txt")
        with open(path, "w") as f:
            f.write(url + "\n")
        for fmt, pattern in (("text", r"\n1 target; worst: fail\n"),
                             ("markdown", r"\n1 target · .*\n1 target; worst"),
                             ("html", r"1 target · .*1 target; worst")):
            with self.subTest(fmt=fmt):
                code, out, err = self.doctor(["matrix", "--no-progress", "--targets", path,
                                              "--format", fmt, "--check",
                                              "check.integration.oci.registry"])
                self.assertEqual(code, h.EXIT_FAIL, err)
                self.assertRegex(out, "(?s)" + pattern)
                self.assertNotIn("1 targets", out)
        for fmt in ("markdown", "html"):
            with self.subTest(fmt=fmt):
                code, out, err = self.doctor(["run", "--registry", url, "--format", fmt,
                                              "--check", "check.integration.oci.registry"])
                self.assertIn("1 request in", out)
                self.assertNotIn("1 requests", out)

    def test_one_target_progress(self):
        url = "http://127.0.0.1:%d" % h.free_port()
        path = os.path.join(h.scratch_dir("singular-"), "targets.txt")
        with open(path, "w") as f:
            f.write(url + "\n")
        code, out, err = self.doctor(["matrix", "--progress", "--targets", path])
        self.assertIn("] 0/1 target, 0 failing", err)
        self.assertNotIn("1 targets", err)


class MatrixAlignmentTest(h.DoctorTestCase):
    """A target that did not answer has its cells under the same headings as the others."""

    def test_dead_rows_aligned(self):
        import scripted_registry as sr
        good = self.start_server(sr.ScriptedRegistry())
        path = os.path.join(h.scratch_dir("align-"), "targets.txt")
        with open(path, "w") as f:
            f.write("%s library/alpine:latest\nhttp://127.0.0.1:%d library/alpine:latest\n"
                    % (good.url, h.free_port()))
        code, out, err = self.doctor(["matrix", "--no-progress", "--targets", path])
        lines = out.splitlines()
        head, rows = lines[0], [l for l in lines[1:] if l.startswith("http://")]
        self.assertEqual(len(rows), 2, out)
        starts = [m.start() for m in re.finditer(r"\S+", head)]
        for row in rows:
            for col in starts[1:-1]:   # WORST .. delete; REASON is free text
                self.assertTrue(row[col - 1] == " " and row[col] != " ",
                                "a cell is not under its heading at column %d:\n%s" % (col, out))

