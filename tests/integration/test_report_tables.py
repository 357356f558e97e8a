"""What every report format shows beyond one line per check: the per-client
table of the referrers check (client x list/attach) and what a run could not
clean up (repository, reference, why, and the command that removes it).

A ScriptedRegistry with deletes refused (405 UNSUPPORTED) makes the
capabilities check's mount impossible to undo, so the run has a leftover;
its referrers answer is an HTML page with status 200, on which
go-containerregistry (cosign) attaches through the "API" and lists through
the tag schema.
"""

import json
import unittest
import xml.etree.ElementTree as ET

import harness as h
import scripted_registry as sr

CAPS = h.CHECK_PREFIX + "capabilities"


class ReportTablesTest(sr.ScriptedTestCase):

    def setUp(self):
        self.reg = self.scripted(referrers="200-not-json", delete="405")

    def output(self, fmt):
        code, out, err = self.doctor(["run", "--registry", self.reg.url, "--format", fmt])
        self.assertIn(code, (h.EXIT_OK, h.EXIT_WARN, h.EXIT_FAIL), err)
        return out

    def leftover(self):
        code, report, err = self.run_against(self.reg)
        leftovers = self.details(report, "capabilities").get("leftovers") or []
        self.assertEqual(len(leftovers), 1, leftovers)
        item = leftovers[0]
        for key in ("kind", "repository", "ref", "why", "command"):
            self.assertTrue(item.get(key), "%s missing in %s" % (key, item))
        self.assertEqual(item["kind"], "mounted-blob")
        self.assertEqual(item["ref"], self.reg.config_digest)
        self.assertIn(self.reg.url + "/v2/" + item["repository"] + "/blobs/" + item["ref"],
                      item["command"])
        return item

    def test_leftovers_in_every_format(self):
        item = self.leftover()
        for fmt in ("text", "html", "markdown", "junit"):
            with self.subTest(fmt):
                out = self.output(fmt)
                self.assertRegex(out, r"library/ocidoctor-scratch\b")
                for key in ("ref", "why"):
                    self.assertIn(item[key], out, "%s: %s not shown" % (fmt, key))
                self.assertRegex(out, r"curl -X DELETE (?:'|&#39;)%s/v2/library/ocidoctor-scratch/"
                                 r"blobs/%s" % (self.reg.url, item["ref"]),
                                 "%s: no command" % fmt)
        root = ET.fromstring(self.output("junit"))
        case = next(c for c in root.iter("testcase") if c.get("name") == CAPS)
        self.assertIn(item["ref"], case.find("system-out").text)

    def test_client_table_in_text_html_and_markdown(self):
        text = self.output("text")
        self.assertRegex(text, r"client\s+list\s+attach")
        self.assertRegex(text, r"go-containerregistry\s+tag-fallback\s+api")
        self.assertRegex(text, r"oras\s+tag-fallback\s+unknown")
        self.assertIn("cosign's own listing", text)
        md = self.output("markdown")
        self.assertIn("| Client | List | Attach | Why |", md)
        self.assertRegex(md, r"\| go-containerregistry \| tag-fallback \| api \|")
        page = self.output("html")
        self.assertIn("<th>Client</th><th>List</th><th>Attach</th>", page)
        self.assertIn("<tr><td>regclient</td><td>tag-fallback</td><td>unknown</td>", page)

    def test_nothing_left_shows_no_leftovers(self):
        reg = self.scripted()
        code, out, err = self.doctor(["run", "--registry", reg.url])
        self.assertNotIn("left on the registry", out)
        code, out, err = self.doctor(["run", "--registry", reg.url, "--format", "markdown"])
        self.assertNotIn("Left on the registry", out)


if __name__ == "__main__":
    unittest.main()
