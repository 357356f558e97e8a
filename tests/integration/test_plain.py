"""ocidoctor against the simplest registry there is: plain HTTP, no auth.

A docker-registry seeded with library/alpine:latest passes the core checks
(exit 0: the registry answers, no credentials are needed, the image can be
pulled and an upload session can be opened); a full run warns (exit 1),
because distribution 2.8 has no Referrers API. The same server
also serves the tests of the command line itself: the text and JSON
reports, -o, --check, `list`, `--version`, a missing image (a warning, exit
1) and inputs that are rejected before any request is made (exit 3 with one
line on stderr).
"""

import json
import os
import unittest

import harness as h


class PlainRegistryTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(seed=[("library/alpine", "latest")]))

    def test_healthy_registry_passes(self):
        code, report, err = self.run_core()
        self.assertStatus(report, "registry", "pass", err)
        self.assertStatus(report, "credentials", "skip", err)
        self.assertStatus(report, "pull", "pass", err)
        self.assertStatus(report, "push", "pass", err)
        self.assertEqual(len(report["results"]), 4)
        self.assertExit(code, h.EXIT_OK, report, err)

    def test_full_run_warns_without_referrers_api(self):
        code, report, err = self.run_registry()
        for check in ("registry", "pull", "push"):
            self.assertStatus(report, check, "pass", err)
        self.assertStatus(report, "referrers", "warn", err)
        self.assertStatus(report, "capabilities", "warn", err)
        self.assertEqual(report["summary"]["worst"], "warn")
        self.assertExit(code, h.EXIT_WARN, report, err)

    def test_json_report_shape(self):
        _, report, _ = self.run_registry()
        self.assertEqual(report.get("schemaVersion"), 1)
        self.assertEqual(report.get("tool"), {"name": "ocidoctor", "version": "0.1.0"})
        self.assertEqual(report.get("registry"), self.registry.url)
        self.assertEqual(report.get("repository"), "library/alpine")
        self.assertEqual(report.get("tag"), "latest")
        self.assertGreater(report.get("requests", 0), 0)
        for key in ("pass", "info", "warn", "fail", "skip", "worst"):
            self.assertIn(key, report.get("summary", {}))
        self.assertEqual(sorted(r["checkId"] for r in report["results"]), sorted(h.check_ids()))
        for result in report["results"]:
            for key in ("checkId", "plugin", "title", "status", "severity", "message",
                        "durationMs", "details", "evidence"):
                self.assertIn(key, result, result.get("checkId"))
            self.assertIn(result["status"], ("pass", "info", "warn", "fail", "skip"))
        pull = h.result_of(report, "pull")
        self.assertTrue(pull["evidence"], "the pull check made requests")
        for item in pull["evidence"]:
            for key in ("method", "url", "status", "durationMs"):
                self.assertIn(key, item)
        counted = sum(report["summary"][k] for k in ("pass", "info", "warn", "fail", "skip"))
        self.assertEqual(counted, len(report["results"]))

    def test_text_report(self):
        code, out, err = self.doctor(["run", "--registry", self.registry.url,
                                      "--format", "text"])
        self.assertExit(code, h.EXIT_WARN, None, err)
        for check in h.check_ids():
            self.assertIn(check, out)
        self.assertRegex(out, r"(?im)^.*(summary|\b\d+\s+pass(ed)?\b|\bpass(ed)?\W+\d+).*$")
        self.assertNotIn("\x1b[", out, "no colours when stdout is not a terminal")

    def test_output_file(self):
        path = os.path.join(h.scratch_dir("output-"), "report.json")
        code, _, err = self.doctor(["run", "--registry", self.registry.url,
                                    "--format", "json", "-o", path])
        self.assertExit(code, h.EXIT_WARN, None, err)
        with open(path) as f:
            report = json.load(f)
        self.assertEqual(sorted(r["checkId"] for r in report["results"]), sorted(h.check_ids()))

    def test_missing_image_warns(self):
        code, report, err = self.run_registry("--repository", "library/nothere")
        self.assertStatus(report, "pull", "warn", err)
        self.assertExit(code, h.EXIT_WARN, report, err)

    def test_only_the_requested_check_is_reported(self):
        code, report, err = self.run_registry("--check", "check.integration.oci.pull")
        self.assertEqual([r["checkId"] for r in report["results"]],
                         ["check.integration.oci.pull"])
        self.assertStatus(report, "pull", "pass", err)
        self.assertExit(code, h.EXIT_OK, report, err)

    def test_invalid_input_is_a_usage_error(self):
        cases = {
            "upper-case repository": ["--repository", "UPPER/Case"],
            "tag with a space": ["--tag", "bad tag"],
            "unsupported scheme": ["--registry", "ftp://x"],
        }
        for name, extra in cases.items():
            with self.subTest(name):
                args = ["run", "--registry", self.registry.url] + extra
                code, _, err = self.doctor(args)
                self.assertEqual(code, h.EXIT_USAGE, err)
                lines = err.strip("\n").split("\n")
                self.assertEqual(len(lines), 1, "stderr should be one line: %r" % err)
                self.assertTrue(lines[0].strip())

    def test_list_names_every_check(self):
        code, out, err = self.doctor(["list"])
        self.assertEqual(code, h.EXIT_OK, err)
        for check in h.check_ids():
            self.assertIn(check, out)

    def test_version(self):
        code, out, err = self.doctor(["--version"])
        self.assertEqual(code, h.EXIT_OK, err)
        self.assertRegex(out, r"\b0\.1\.0\b")


if __name__ == "__main__":
    unittest.main()
