"""ocidoctor against a port where nothing listens.

The registry check must fail with a message that says the connection was
refused (not a generic "error"), and the run must end with exit 2.
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


if __name__ == "__main__":
    unittest.main()
