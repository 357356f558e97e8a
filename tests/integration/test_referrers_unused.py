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

import os
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


class MatrixReferrersUnusedTest(h.DoctorTestCase):
    """In the matrix, the referrers cell of a registry whose Referrers API no
    client uses reads yes* with the footnote, in text, Markdown and HTML; a
    registry clients do use keeps a plain yes and no footnote."""

    @classmethod
    def setUpClass(cls):
        cls.harbor = cls.start_server(sr.ScriptedRegistry(referrers="index-wrong-type"))
        cls.good = cls.start_server(sr.ScriptedRegistry(referrers="index"))
        cls.dir = h.scratch_dir("matrix-unused-")

    def matrix(self, registry, fmt):
        targets = os.path.join(self.dir, "targets-%d.txt" % registry.port)
        with open(targets, "w") as f:
            f.write("%s library/alpine:latest\n" % registry.url)
        code, out, err = self.doctor(["matrix", "--targets", targets, "--no-progress",
                                      "--timeout", "20", "--format", fmt])
        self.assertIn(code, (h.EXIT_OK, h.EXIT_WARN), err)
        return out

    def test_text(self):
        row = [l for l in self.matrix(self.harbor, "text").splitlines() if l.startswith("http")][0]
        self.assertEqual(row.split()[5], "yes*", row)
        self.assertIn(NOTE, self.matrix(self.harbor, "text"))
        good = self.matrix(self.good, "text")
        row = [l for l in good.splitlines() if l.startswith("http")][0]
        self.assertEqual(row.split()[5], "yes", row)
        self.assertNotIn(NOTE, good)

    def test_markdown(self):
        out = self.matrix(self.harbor, "markdown")
        self.assertRegex(out, r"\| [^|]* \| yes\\\* \|")
        self.assertIn(NOTE, out)
        good = self.matrix(self.good, "markdown")
        self.assertNotIn("yes\\*", good)
        self.assertNotIn(NOTE, good)

    def test_html(self):
        out = self.matrix(self.harbor, "html")
        self.assertRegex(out, r'<td class="c unknown" title="referrersApi: supported, but every '
                              r'client falls back to the tag schema">yes\*</td>')
        self.assertIn(NOTE, out)
        good = self.matrix(self.good, "html")
        self.assertRegex(good, r'<td class="c supported" title="referrersApi: supported">yes</td>')
        self.assertNotIn(NOTE, good)
