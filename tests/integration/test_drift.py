"""Lists the documentation repeats must agree with the program.

The program keeps each list once: the checks (its table, `ocidoctor list
--format json`), every command's options (their tables, `--help`), the
referrers clients it models (the `details.clients` of a report). The
README's check table, the JSON schema's check ids, docs/usage.md's options,
the referrers page's client table and the man page repeat them for
readers; these tests fail when one of them drifts from the program.
"""

import json
import os
import re
import subprocess
import unittest

import harness as h
import scripted_registry as sr

DOCS = os.path.join(h.REPO_ROOT, "docs")
COMMANDS = ("run", "list", "explain", "config", "matrix", "serve")
OPTION = re.compile(r"^\s+(?:-\w, )?(--[a-z][a-z0-9.-]*)", re.M)


def read(*parts):
    with open(os.path.join(*parts), encoding="utf-8") as f:
        return f.read()


def help_options(command):
    """The long options `ocidoctor COMMAND --help` lists."""
    out = subprocess.run([h.doctor_binary(), command, "--help"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, encoding="utf-8").stdout
    head = out.split("\nalso set by", 1)[0]
    return sorted(set(OPTION.findall(head)) - {"--help"})


class DriftTest(h.DoctorTestCase):

    def test_readme_table_lists_every_check_in_order(self):
        readme = read(h.REPO_ROOT, "README.md")
        rows = re.findall(r"^\| \[(check\.[a-z.]+)\]\(docs/checks/\1\.md\) \|", readme, re.M)
        self.assertEqual(rows, h.all_check_ids())

    def test_every_check_has_its_page(self):
        pages = sorted(f[:-3] for f in os.listdir(os.path.join(DOCS, "checks")) if f.endswith(".md"))
        self.assertEqual(pages, sorted(h.all_check_ids()))

    def test_schema_names_every_check(self):
        schema = json.loads(read(DOCS, "report.schema.json"))
        self.assertEqual(schema["$defs"]["result"]["properties"]["checkId"]["enum"],
                         h.all_check_ids())
        # and each check has its details rule
        rules = set(re.findall(r'"const": "(check\.integration\.oci\.[a-z]+)"',
                               read(DOCS, "report.schema.json")))
        self.assertEqual(rules, set(h.all_check_ids()))

    def test_usage_documents_every_option(self):
        usage = read(DOCS, "usage.md")
        for command in COMMANDS:
            with self.subTest(command=command):
                options = help_options(command)
                self.assertTrue(options, "no options parsed from `%s --help`" % command)
                missing = [o for o in options if not re.search(r"`%s[ =`]" % re.escape(o), usage)]
                self.assertEqual(missing, [], "docs/usage.md does not describe these options "
                                 "of `ocidoctor %s`" % command)

    def test_referrers_page_names_every_modelled_client(self):
        with sr.ScriptedRegistry() as reg:
            _, report, _ = self.doctor_json(["run", "--registry", reg.url, "--no-writes",
                                             "--check", "check.integration.oci.referrers"])
        clients = sorted(h.result_of(report, "referrers")["details"]["clients"])
        page = read(DOCS, "checks", "check.integration.oci.referrers.md")
        documented = re.search(r"\| `clients` \| object \| (.*?) \|", page).group(1)
        self.assertEqual(sorted(re.findall(r"`([a-z-]+)`", documented)), clients)
        names = {"oras": "oras-go", "go-containerregistry": "go-containerregistry",
                 "regclient": "regclient"}
        table = [line for line in page.splitlines() if line.startswith("| ")]
        for client in clients:
            self.assertTrue(any(line.startswith("| " + names.get(client, client)) for line in table),
                            "the client table of the referrers page has no row for %s" % client)


if __name__ == "__main__":
    unittest.main()
