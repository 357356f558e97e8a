"""ocidoctor against a port where nothing listens.

The registry check must fail with a message that says the connection was
refused (not a generic "error"), and the run must end with exit 2. A check
asked for on its own must fail too, with the cause, and never skip: a CI
gate that runs one check must not pass while the registry is down.
"""

import unittest

import harness as h


class RefusedConnectionTest(h.DoctorTestCase):

    def test_refused_connection_fails(self):
        url = "http://127.0.0.1:%d" % h.free_port()
        code, report, err = self.doctor_json(["run", "--registry", url])
        self.assertStatus(report, "registry", "fail", err)
        self.assertMessageMatches(report, "registry", r"refused")
        self.assertExit(code, h.EXIT_FAIL, report, err)

    def test_a_selected_check_fails_when_the_registry_is_down(self):
        url = "http://127.0.0.1:%d" % h.free_port()
        for check in ("pull", "push", "referrers", "capabilities"):
            with self.subTest(check):
                code, report, err = self.doctor_json(
                    ["run", "--registry", url, "--check", h.check_id(check)])
                self.assertEqual([r["checkId"] for r in report["results"]], [h.check_id(check)],
                                 "only the selected check is reported")
                self.assertStatus(report, check, "fail", err)
                self.assertMessageMatches(report, check, r"cannot check.*refused")
                self.assertEqual(report["summary"]["worst"], "fail")
                self.assertExit(code, h.EXIT_FAIL, report, err)

    def test_credentials_asked_for_on_a_dead_registry_fail(self):
        url = "http://127.0.0.1:%d" % h.free_port()
        code, report, err = self.doctor_json(
            ["run", "--registry", url, "--check", h.check_id("credentials"), "--username", "u",
             "--password-stdin"], stdin="secret\n")
        self.assertStatus(report, "credentials", "fail", err)
        self.assertMessageMatches(report, "credentials", r"refused")
        self.assertExit(code, h.EXIT_FAIL, report, err)


if __name__ == "__main__":
    unittest.main()
