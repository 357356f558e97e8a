"""ocidoctor against a registry with deletes disabled.

The push check only opens an upload session and cancels it again, which
distribution allows even with storage.delete off; so push must still pass,
and afterwards no upload session may be left in the storage.
"""

import unittest

import harness as h


class DeleteDisabledTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(delete_enabled=False,
                                                   seed=[("library/alpine", "latest")]))

    def test_push_passes_and_leaves_no_upload(self):
        self.assertEqual(self.registry.upload_sessions(), [], "seeding left a session")
        code, report, err = self.run_registry()
        self.assertStatus(report, "push", "pass", err)
        self.assertEqual(self.registry.upload_sessions(), [],
                         "the push check left an upload session open")


if __name__ == "__main__":
    unittest.main()
