"""An HTML page is not a registry, and not a manifest.

A portal or sign-in page in front of a registry answers GET /v2/ with 200
HTML and no Docker-Distribution-API-Version header: the registry check must
not pass, and must say what answered. And a "manifest" that is a sign-in
page, a body that is not JSON, or JSON without a manifest media type is not
pulled: the pull check must not pass and report the sha256 of a login page
as the image digest.
"""

import json
import unittest

import harness as h
import scripted_registry as sr

LOGIN = "<!DOCTYPE html><html><head><title>Sign in - Corp Portal</title></head><body>Sign in</body></html>"


class HtmlRegistryTest(sr.ScriptedTestCase):

    def test_portal_page_on_v2_is_not_a_registry(self):
        reg = self.scripted(version_header=False, status_override={
            ("GET", r"^/v2/?$"): (200, {"Content-Type": "text/html; charset=utf-8"}, LOGIN)})
        code, report, err = self.run_against(reg)
        self.assertStatus(report, "registry", "fail", err)
        self.assertMessageMatches(report, "registry", r"HTML page titled 'Sign in - Corp Portal'")
        self.assertMessageMatches(report, "registry", r"not a registry API")
        self.assertStatus(report, "pull", "fail", err)
        self.assertExit(code, h.EXIT_FAIL, report, err)

    def test_html_with_the_version_header_is_still_a_registry(self):
        # a registry that sends its version header is judged a registry
        reg = self.scripted(status_override={
            ("GET", r"^/v2/?$"): (200, {"Content-Type": "text/html"}, LOGIN)})
        code, report, err = self.run_against(reg, "--check", h.check_id("registry"))
        self.assertStatus(report, "registry", "pass", err)

    def test_json_v2_without_a_version_header_still_passes(self):
        reg = self.scripted(version_header=False)
        code, report, err = self.run_against(reg, "--check", h.check_id("registry"))
        self.assertStatus(report, "registry", "pass", err)


class HtmlManifestTest(sr.ScriptedTestCase):

    def pull(self, answer):
        reg = self.scripted(status_override={("*", r"/manifests/"): answer})
        code, report, err = self.run_against(reg, "--check", h.check_id("pull"))
        return reg, code, report, err

    def assertNotPulled(self, report, err, pattern):
        self.assertStatus(report, "pull", "fail", err)
        self.assertMessageMatches(report, "pull", pattern)
        details = self.details(report, "pull")
        self.assertNotIn("digest", details, "a digest was reported for something that is not a manifest")

    def test_sign_in_page_is_not_pulled(self):
        # no Docker-Content-Digest: the page is fetched by tag
        reg, code, report, err = self.pull((200, {"Content-Type": "text/html"}, LOGIN))
        self.assertNotPulled(report, err, r"HTML page.*nothing was pulled")
        self.assertExit(code, h.EXIT_FAIL, report, err)

    def test_page_under_a_manifest_type_is_not_pulled(self):
        digest = h.sha256_digest(LOGIN.encode())
        reg, code, report, err = self.pull(
            (200, {"Content-Type": h.OCI_MANIFEST, "Docker-Content-Digest": digest}, LOGIN))
        self.assertNotPulled(report, err, r"HTML page")

    def test_garbage_and_json_without_a_manifest_type(self):
        for name, body, pattern in (("not JSON", "garbage", r"not JSON"),
                                    ("JSON", json.dumps({"hello": 1}), r"manifest or index media type")):
            with self.subTest(name):
                reg, code, report, err = self.pull(
                    (200, {"Content-Type": "application/json"}, body))
                self.assertNotPulled(report, err, pattern)

    def test_real_manifest_still_pulls(self):
        reg = self.scripted()
        code, report, err = self.run_against(reg, "--check", h.check_id("pull"))
        self.assertStatus(report, "pull", "pass", err)
        self.assertEqual(self.details(report, "pull").get("digest"), reg.manifest_digest)


if __name__ == "__main__":
    unittest.main()
