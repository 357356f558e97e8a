"""The fix a report gives: the remediation step for the platform, filled in.

A scriptable registry without the Referrers API (the referrers check warns
with cause `unsupported`) and a test image that does not exist (the pull
check warns with cause `missing`) give two non-pass results. Every format
must show, for each, the step of the knowledge base for --platform
(bare-metal by default) rather than the cause's summary, with the commands
filled in with the registry, repository and digest the run knows: no
REGISTRY, REPOSITORY or DIGEST placeholder is left where the value is known.
"""

import json
import re
import unittest
import xml.etree.ElementTree as ET

import harness as h
import scripted_registry as sr

PULL = "check.integration.oci.pull"
REFERRERS = "check.integration.oci.referrers"
PLACEHOLDER = re.compile(r"\b(REGISTRY|REPOSITORY|DIGEST)\b")


class FixTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(sr.ScriptedRegistry(referrers="404-plain"))

    def run_format(self, fmt, *extra):
        code, out, err = self.doctor(["run", "--registry", self.registry.url, "--check", PULL,
                                      "--check", REFERRERS, "--format", fmt] + list(extra))
        self.assertEqual(code, h.EXIT_WARN, err)
        return out

    def test_text_fix_is_the_step_with_filled_commands(self):
        out = self.run_format("text")
        digest = self.registry.manifest_digest
        self.assertIn("fix: The tag schema works on any registry", out)
        self.assertIn("$ oras discover --distribution-spec v1.1-referrers-tag %s/library/alpine@%s"
                      % (self.registry.host, digest), out)
        # the summary (the cause restated) is not the fix line
        self.assertNotIn("fix: The registry has no Referrers API", out)
        for line in out.splitlines():
            if line.strip().startswith(("fix:", "$")):
                self.assertNotRegex(line, PLACEHOLDER)

    def test_missing_image_fix_names_this_registry(self):
        code, out, err = self.doctor(["run", "--registry", self.registry.url, "--check", PULL,
                                      "--repository", "team/nothing-here"])
        self.assertEqual(code, h.EXIT_WARN, err)
        self.assertIn("fix: Copy a small image in under the name the run tests", out)
        self.assertIn("$ ocidoctor run --registry %s --check %s --repository team/nothing-here"
                      % (self.registry.url, PULL), out)
        self.assertIn("$ crane copy docker.io/library/alpine:latest %s/team/nothing-here:latest"
                      " --insecure" % self.registry.host, out)
        code, out, err = self.doctor(["run", "--registry", self.registry.url, "--check", PULL,
                                      "--repository", "team/nothing-here",
                                      "--platform", "kubernetes"])
        self.assertIn("fix: In a values file read with --config", out)
        self.assertNotIn("fix: Copy a small image in", out)

    def test_bad_platform_is_refused(self):
        code, out, err = self.doctor(["run", "--registry", self.registry.url,
                                      "--platform", "windows"])
        self.assertEqual(code, h.EXIT_USAGE)
        self.assertIn("--platform", err)

    def test_json_fix(self):
        report = json.loads(self.run_format("json", "--platform", "kubernetes"))
        rem = h.result_of(report, REFERRERS)["remediation"]
        self.assertEqual(rem["fix"]["platform"], "kubernetes")
        self.assertIn("Ingress", rem["fix"]["text"])
        self.assertEqual(rem["fix"]["commands"], [
            "curl -s -D- -H 'Accept: application/vnd.oci.image.index.v1+json' "
            "%s/v2/library/alpine/referrers/%s" % (self.registry.url,
                                                 self.registry.manifest_digest)])
        for step in rem["steps"]:
            for command in step["commands"]:
                self.assertNotRegex(command, PLACEHOLDER)

    def test_every_format_has_the_filled_fix(self):
        want = "%s/library/alpine@%s" % (self.registry.host, self.registry.manifest_digest)
        for fmt in ("markdown", "html", "junit"):
            with self.subTest(fmt=fmt):
                out = self.run_format(fmt)
                self.assertIn(want, out)
                self.assertIn("The tag schema works on any registry", out)
        root = ET.fromstring(self.run_format("junit", "--fail-on", "warn"))
        failures = [f.text for f in root.iter("failure")]
        self.assertTrue(any(want in (text or "") for text in failures), failures)


if __name__ == "__main__":
    unittest.main()
