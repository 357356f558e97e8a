"""ocidoctor against a registry that speaks TLS with a private CA.

Given the CA (--ca-file) the registry check passes and reports TLS; without
it, verification fails and the message must say it is about the
certificate; with --insecure the registry is reachable, and the report must
say that verification was skipped.
"""

import unittest

import harness as h


class TlsRegistryTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(tls=True,
                                                   seed=[("library/alpine", "latest")]))

    def test_trusted_ca_passes(self):
        code, report, err = self.run_core("--ca-file", self.registry.ca_file)
        self.assertStatus(report, "registry", "pass", err)
        self.assertIs(h.result_of(report, "registry")["details"].get("tls"), True)
        self.assertStatus(report, "pull", "pass", err)
        self.assertExit(code, h.EXIT_OK, report, err)

    def test_unknown_ca_fails_on_the_certificate(self):
        code, report, err = self.run_registry()
        self.assertStatus(report, "registry", "fail", err)
        self.assertMessageMatches(report, "registry", r"certificate|verif")
        self.assertExit(code, h.EXIT_FAIL, report, err)

    def test_insecure_skips_verification(self):
        code, report, err = self.run_registry("--insecure")
        self.assertStatus(report, "registry", "pass", err)
        result = h.result_of(report, "registry")
        if result["details"].get("insecure") is not True:
            self.assertMessageMatches(report, "registry",
                                      r"insecure|verification.*(skip|off|disabled)|not verified")
        self.assertIn(code, (h.EXIT_OK, h.EXIT_WARN), err)


if __name__ == "__main__":
    unittest.main()
