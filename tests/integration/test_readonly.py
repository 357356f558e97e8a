"""ocidoctor against a registry in read-only maintenance mode.

distribution answers an upload with 405 and `Allow: GET, HEAD`; the push
check must fail and say that the registry is read-only, while pulling the
seeded image still passes.
"""

import unittest

import harness as h


class ReadOnlyRegistryTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(readonly=True,
                                                   seed=[("library/alpine", "latest")]))

    def test_push_fails_as_read_only(self):
        code, report, err = self.run_registry()
        self.assertStatus(report, "pull", "pass", err)
        self.assertStatus(report, "push", "fail", err)
        self.assertMessageMatches(report, "push", r"read[- ]?only")
        self.assertExit(code, h.EXIT_FAIL, report, err)


if __name__ == "__main__":
    unittest.main()
