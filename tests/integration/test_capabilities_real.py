"""The capabilities check against the real thing: Debian's docker-registry.

distribution 2.8 has no referrers API, so the best it can score is 4/5
(and the check warns, as does the referrers check). With deletes disabled
it answers DELETE with 405 UNSUPPORTED while OPTIONS still lists DELETE,
so the score drops to 3. Read-only mode refuses uploads with 405 and
`Allow: GET, HEAD`: chunked uploads and mounts are unsupported. Behind
token auth an anonymous caller may only pull: every write probe is denied
(401 insufficient_scope), which proves nothing, so those capabilities are
"unknown" and never "unsupported".

After every run the storage must hold no open upload session, and a blob
mounted into the scratch repository must be gone again when deletes work
(and reported as a leftover when they do not).
"""

import json
import os
import unittest

import harness as h

CHECK = "capabilities"
IMAGE = ("library/alpine", "latest")


class RealCapabilitiesCase(h.DoctorTestCase):
    """Shared assertions; subclasses start one registry each."""

    def probe(self, *extra):
        code, report, err = self.run_registry(*extra)
        self.assertEqual(self.registry.upload_sessions(), [],
                         "upload sessions left in the storage")
        return report, err, h.result_of(report, CHECK).get("details") or {}

    def assertStates(self, details, **states):
        caps = details.get("capabilities") or {}
        for name, state in states.items():
            self.assertEqual((caps.get(name) or {}).get("state"), state,
                             "%s: %s" % (name, json.dumps(details, indent=1)))

    def config_digest(self):
        return self.registry.images[IMAGE][1]

    def mount_link(self, details):
        """The link file that a mount of the config blob creates in the run's
        scratch repository (details.scratchRepository: one of its own)."""
        scratch = details.get("scratchRepository") or ""
        self.assertRegex(scratch, r"^library/ocidoctor-scratch$")
        algorithm, hexdigest = self.config_digest().split(":")
        return os.path.join(self.registry.repo_dir(scratch), "_layers", algorithm,
                            hexdigest, "link")


class DeleteEnabledTest(RealCapabilitiesCase):

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(delete_enabled=True, seed=[IMAGE]))

    def test_everything_but_referrers(self):
        report, err, d = self.probe()
        self.assertStatus(report, CHECK, "warn", err)
        self.assertStatus(report, "referrers", "warn", err)
        self.assertEqual((d.get("score"), d.get("max")), (4, 5), d)
        self.assertStates(d, distributionVersion="supported", referrersApi="unsupported",
                          chunkedUpload="supported", crossRepoMount="supported",
                          delete="supported")
        self.assertFalse(os.path.exists(self.mount_link(d)), "the mounted blob is still linked")
        self.assertEqual(d.get("leftovers"), [])


class DeleteDisabledTest(RealCapabilitiesCase):

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(delete_enabled=False, seed=[IMAGE]))

    def test_delete_unsupported(self):
        report, err, d = self.probe()
        self.assertStatus(report, CHECK, "warn", err)
        self.assertEqual((d.get("score"), d.get("max")), (3, 5), d)
        self.assertStates(d, delete="unsupported", crossRepoMount="supported",
                          chunkedUpload="supported")
        delete = (d.get("capabilities") or {}).get("delete") or {}
        self.assertIn("DELETE", (delete.get("allow") or {}).get("manifests") or "",
                      "distribution lists DELETE in Allow even with deletes off")
        # The mount (201) cannot be undone: the report must name what is left.
        self.assertTrue(os.path.exists(self.mount_link(d)), "the mount did not happen")
        self.assertIn(self.config_digest(), json.dumps(d.get("leftovers")), d)


class ReadOnlyTest(RealCapabilitiesCase):

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(readonly=True, seed=[IMAGE]))

    def test_writes_unsupported(self):
        report, err, d = self.probe()
        self.assertStates(d, chunkedUpload="unsupported", crossRepoMount="unsupported",
                          delete="unsupported")
        self.assertFalse(os.path.exists(self.mount_link(d)), "read-only, yet mounted")


class AnonymousTokenTest(RealCapabilitiesCase):

    @classmethod
    def setUpClass(cls):
        cls.tokens = cls.start_server(h.TokenServer(users={}))
        cls.registry = cls.start_server(h.Registry(token=cls.tokens, seed=[IMAGE]))

    def secrets(self):
        return list(self.tokens.issued_tokens)

    def test_denied_writes_are_unknown(self):
        report, err, d = self.probe()
        self.assertStatus(report, "pull", "pass", err)
        self.assertStates(d, chunkedUpload="unknown", crossRepoMount="unknown",
                          delete="unknown")
        self.assertFalse(os.path.exists(self.mount_link(d)))


if __name__ == "__main__":
    unittest.main()
