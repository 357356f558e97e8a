"""--writes verify against the real thing: Debian's docker-registry.

distribution 2.8 has no referrers API (its 404 is plain text) and answers
pushes without OCI-Subject, so the artifact is found only through the
tag-schema fallback: the check warns (fallback-only), oras and regclient
are predicted to attach through the tag, and afterwards the storage
directory holds no manifest, tag or blob link of the run. With deletes
disabled nothing is pushed at all.
"""

import os
import unittest

import harness as h

CHECK = "artifacts"
IMAGE = ("library/alpine", "latest")
VERIFY = ["--writes", "verify", "--check", "check.integration.oci.artifacts",
          "--check", "check.integration.oci.referrers"]


def links(repo_dir):
    """Every `link` file under a repository's storage directory: what makes a
    manifest, tag or blob exist for distribution."""
    found = []
    for dirpath, _, files in os.walk(repo_dir):
        found += [os.path.relpath(os.path.join(dirpath, f), repo_dir) for f in files
                  if f == "link"]
    return sorted(found)


class VerifyFallbackTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(delete_enabled=True, seed=[IMAGE]))

    def test_fallback_path_warns_and_leaves_nothing(self):
        code, report, err = self.run_registry(*VERIFY)
        self.assertStatus(report, CHECK, "warn", err)
        result = h.result_of(report, CHECK)
        d = result["details"]
        self.assertEqual(d["ociSubject"], "absent")
        self.assertEqual(d["subjectProcessing"], "ignored")
        self.assertFalse(d["listed"])
        self.assertTrue(d["fallbackWorked"], d["steps"]["fallback"])
        self.assertEqual(d["steps"]["artifact"]["status"], "pass")
        self.assertEqual(d["steps"]["chunkedUpload"]["status"], "pass")
        self.assertEqual(d["steps"]["cleanup"]["status"], "pass")
        self.assertIn("tag-schema fallback", result["message"])
        self.assertEqual(d["leftovers"], [])
        clients = h.result_of(report, "referrers")["details"]["clients"]
        self.assertEqual({name: c["attach"] for name, c in clients.items()},
                         {"oras": "tag-fallback", "go-containerregistry": "tag-fallback",
                          "regclient": "tag-fallback"})
        # the storage: the scratch repository holds nothing of the run
        scratch = self.registry.repo_dir(d["scratchRepository"])
        self.assertTrue(os.path.isdir(scratch), "nothing was pushed at all")
        self.assertEqual(links(scratch), [])
        tags = os.path.join(scratch, "_manifests", "tags")
        self.assertEqual(os.listdir(tags) if os.path.isdir(tags) else [], [])
        self.assertEqual(self.registry.upload_sessions(), [])
        # and the test image is untouched
        self.assertIn("_manifests/tags/latest/current/link",
                      links(self.registry.repo_dir(IMAGE[0])))


class VerifyRoundTripsTest(h.DoctorTestCase):
    """docs/performance.md: a full anonymous run with --writes verify on
    distribution 2.8 is a chain of at most 15 round trips (the delete proof
    with the run's own blob takes three)."""

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(delete_enabled=True, seed=[IMAGE]))

    def test_chain(self):
        code, report, err = self.run_registry("--writes", "verify")
        self.assertStatus(report, CHECK, "warn", err)
        self.assertLessEqual(report["roundTrips"], 15, report["roundTrips"])
        code, plain, err = self.run_registry()
        self.assertLess(plain["roundTrips"], report["roundTrips"])


class VerifyDeletesOffTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(delete_enabled=False, seed=[IMAGE]))

    def test_nothing_is_pushed(self):
        code, report, err = self.run_registry("--writes", "verify", "--scratch-repository",
                                              "library/verify-off",
                                              "--check", "check.integration.oci.artifacts")
        result = h.result_of(report, CHECK)
        self.assertEqual(result["status"], "info", err)
        self.assertIn("405", result["message"])
        self.assertFalse(os.path.exists(self.registry.repo_dir("library/verify-off")),
                         "the scratch repository was written to")


class VerifyTokenTest(h.DoctorTestCase):
    """Behind token auth: with push and delete rights the run is the fallback
    path again; anonymously the delete probe is denied and nothing is pushed."""

    USER, PASSWORD = "verify-bot", "verify-secret-5Xq"

    @classmethod
    def setUpClass(cls):
        cls.tokens = cls.start_server(h.TokenServer(users={cls.USER: cls.PASSWORD}))
        cls.registry = cls.start_server(h.Registry(token=cls.tokens, seed=[IMAGE]))

    def secrets(self):
        return [self.PASSWORD] + list(self.tokens.issued_tokens)

    def test_with_credentials(self):
        code, report, err = self.run_registry("--username", self.USER, "--password-stdin",
                                              *VERIFY, stdin=self.PASSWORD + "\n")
        self.assertStatus(report, CHECK, "warn", err)
        d = h.result_of(report, CHECK)["details"]
        self.assertTrue(d["fallbackWorked"])
        self.assertEqual(d["leftovers"], [])
        self.assertEqual(links(self.registry.repo_dir(d["scratchRepository"])), [])

    def test_anonymous_pushes_nothing(self):
        code, report, err = self.run_registry("--writes", "verify", "--scratch-repository",
                                              "library/verify-anon",
                                              "--check", "check.integration.oci.artifacts")
        result = h.result_of(report, CHECK)
        self.assertEqual(result["status"], "info", err)
        self.assertIn("denied", result["message"])
        self.assertFalse(os.path.exists(self.registry.repo_dir("library/verify-anon")))


if __name__ == "__main__":
    unittest.main()
