"""Result sections on a real run: the tables a check returns (the capability
matrix, the referrers check's client predictions) come in details.sections[]
as well, next to details.capabilities and details.clients, which keep their
shape; results without a table get no sections key; and the text, Markdown
and HTML reports show every row of every section.

A ScriptedRegistry whose referrers answer is an HTML page with status 200
gives the referrers check a client table with disagreeing clients.
"""

import json
import os

import harness as h
import schema_check
import scripted_registry as sr

CAPS = h.CHECK_PREFIX + "capabilities"
REFERRERS = h.CHECK_PREFIX + "referrers"
APIS = "check.integration.oci.apis"
SCHEMA_FILE = os.path.join(h.REPO_ROOT, "docs", "report.schema.json")
CAPABILITY_NAMES = ["distributionVersion", "referrersApi", "chunkedUpload",
                    "crossRepoMount", "delete"]
CLIENTS = ["oras", "go-containerregistry", "regclient"]


class SectionsTest(sr.ScriptedTestCase):

    def setUp(self):
        self.reg = self.scripted(referrers="200-not-json")
        # every check, the opt-in API table too
        code, self.report, err = self.run_against(self.reg, "--check", "*")
        self.assertIn(code, (h.EXIT_OK, h.EXIT_WARN), err)

    def section(self, check, sid):
        sections = self.details(self.report, check).get("sections")
        self.assertIsInstance(sections, list, check)
        found = [s for s in sections if s["id"] == sid]
        self.assertEqual(len(found), 1, sections)
        return found[0]

    def test_report_valid_and_old_keys_kept(self):
        schema = schema_check.load_schema(SCHEMA_FILE)
        self.assertEqual(schema_check.validate(self.report, schema), [])
        # every key the report had before sections is still there, with its shape
        for key in ("schemaVersion", "tool", "registry", "repository", "tag", "startedAt",
                    "durationMs", "requests", "roundTrips", "insecure", "summary", "results"):
            self.assertIn(key, self.report)
        caps = self.details(self.report, CAPS)["capabilities"]
        self.assertEqual(list(caps), CAPABILITY_NAMES)
        for name in CAPABILITY_NAMES:
            self.assertIn(caps[name]["state"],
                          ("supported", "unsupported", "unknown", "not-probed"))
        clients = self.details(self.report, REFERRERS)["clients"]
        self.assertEqual(list(clients), CLIENTS)
        for name in CLIENTS:
            self.assertEqual(sorted(clients[name]), ["attach", "list", "why"])
        # only results with a table have sections
        for r in self.report["results"]:
            if r["checkId"] not in (CAPS, REFERRERS, APIS):
                self.assertNotIn("sections", r["details"], r["checkId"])

    def test_api_table_section_mirrors_details_apis(self):
        apis = self.details(self.report, APIS)["apis"]
        self.assertEqual(len(apis), 28)
        s = self.section(APIS, "apis")
        self.assertEqual([c["key"] for c in s["columns"]], ["name", "group", "state", "why"])
        self.assertEqual(sorted(r["name"] for r in s["rows"]), sorted(apis))
        groups = [r["group"] for r in s["rows"]]
        self.assertEqual(groups, sorted(groups, key=["registry", "blobs", "manifests", "tags",
                                                     "referrers"].index))
        for row in s["rows"]:
            self.assertEqual(row["state"], apis[row["name"]]["state"])
            self.assertEqual(row["why"], apis[row["name"]]["why"])

    def test_sections_mirror_the_check_details(self):
        caps = self.details(self.report, CAPS)["capabilities"]
        s = self.section(CAPS, "capabilities")
        self.assertEqual(s["title"], "Capabilities")
        self.assertEqual([c["key"] for c in s["columns"]], ["name", "state", "reason"])
        self.assertEqual([r["name"] for r in s["rows"]], CAPABILITY_NAMES)
        for row in s["rows"]:
            self.assertEqual(row["state"], caps[row["name"]]["state"])
            self.assertEqual(row["reason"], caps[row["name"]].get("reason", ""))
        clients = self.details(self.report, REFERRERS)["clients"]
        s = self.section(REFERRERS, "clients")
        self.assertEqual([c["key"] for c in s["columns"]], ["name", "list", "attach", "why"])
        self.assertEqual([r["name"] for r in s["rows"]], CLIENTS)
        for row in s["rows"]:
            for key in ("list", "attach", "why"):
                self.assertEqual(row[key], clients[row["name"]][key])

    def test_every_row_in_text_markdown_and_html(self):
        rows = self.section(CAPS, "capabilities")["rows"] + \
            self.section(REFERRERS, "clients")["rows"]
        for fmt in ("text", "markdown", "html"):
            code, out, err = self.doctor(["run", "--registry", self.reg.url, "--format", fmt])
            self.assertIn(code, (h.EXIT_OK, h.EXIT_WARN), err)
            for row in rows:
                self.assertIn(row["name"], out, fmt)
                for key in ("state", "list", "attach"):
                    if key in row:
                        self.assertIn(row[key], out, "%s: %s of %s" % (fmt, key, row["name"]))
            if fmt == "markdown":
                self.assertIn("### Referrers: what each client does", out)
                self.assertIn("### Capabilities", out)


if __name__ == "__main__":
    import unittest
    unittest.main()
