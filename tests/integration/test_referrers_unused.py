"""A Referrers API no client uses does not read as a plain pass.

Harbor 2.9 (the scripted registry's referrers="index-wrong-type") answers
the Referrers API with a valid index under the wrong Content-Type: the
capability probe calls it supported, but oras, go-containerregistry and
regclient all list referrers through the tag schema. The reports must not
read "PASS 5/5" at a glance: the capabilities result is PASS* with a note,
its referrersApi state is marked (and coloured as unknown in HTML), and
the summary says every client falls back. A registry whose Referrers API
clients do use keeps its plain pass.
"""

import re

import harness as h
import scripted_registry as sr

CAPS = "check.integration.oci.capabilities"
NOTE = "every client falls back to the tag schema"


class ReferrersUnusedTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.harbor = cls.start_server(sr.ScriptedRegistry(referrers="index-wrong-type"))
        cls.good = cls.start_server(sr.ScriptedRegistry(referrers="index"))

    def report(self, registry, fmt):
        code, out, err = self.doctor(["run", "--registry", registry.url, "--no-color",
                                      "--format", fmt])
        self.assertIn(code, (h.EXIT_OK, h.EXIT_WARN), err)
        return out

    def test_text(self):
        out = self.report(self.harbor, "text")
        self.assertNotRegex(out, r"(?m)^  PASS  %s +5/5" % re.escape(CAPS))
        self.assertRegex(out, r"(?m)^  PASS\* %s +5/5 .*\(\* referrersApi answers, but %s\)$"
                         % (re.escape(CAPS), NOTE))
        self.assertRegex(out, r"(?m)^        referrersApi +supported\* ")
        summary = out[out.index("\nSummary:"):]
        self.assertIn("referrers: " + NOTE, summary)
        good = self.report(self.good, "text")
        self.assertRegex(good, r"(?m)^  PASS  %s +5/5" % re.escape(CAPS))
        self.assertNotIn(NOTE, good)
        self.assertNotIn("supported*", good)

    def test_markdown(self):
        out = self.report(self.harbor, "markdown")
        head = out[:out.index("| Status |")]
        self.assertIn("**Referrers:** " + NOTE, head)
        self.assertRegex(out, r"(?m)^\| ✅ pass\\\* \| `%s` \| 5/5 .*\(\\\* referrersApi answers, "
                              r"but %s\) \|$" % (re.escape(CAPS), NOTE))
        self.assertRegex(out, r"(?m)^\| referrersApi \| supported\\\* \| ")
        good = self.report(self.good, "markdown")
        self.assertNotIn(NOTE, good)
        self.assertRegex(good, r"(?m)^\| referrersApi \| supported \| ")

    def test_html(self):
        out = self.report(self.harbor, "html")
        self.assertRegex(out, r'<p class="sub"><b>Referrers:</b> ' + NOTE)
        self.assertRegex(out, r'<td>referrersApi</td><td class="unknown">supported\*</td>')
        self.assertRegex(out, r'<section class="check" id="%s"><h3><span class="badge unknown">'
                              r'pass\*</span>' % re.escape(CAPS))
        good = self.report(self.good, "html")
        self.assertNotIn(NOTE, good)
        self.assertRegex(good, r'<td>referrersApi</td><td class="supported">supported</td>')
