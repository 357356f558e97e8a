"""Check selection (--check globs, --tags), `list`, `explain` and `run --help`.

Runs go to a ScriptedRegistry (a good OCI 1.1 registry), where every check
that runs passes, except credentials, which skips without credentials. A
selected check's dependencies run as well but are not reported.

`run --help` is compared with the option table in src/cli/settings.c, read
from the source: every option that is not hidden must be listed, and every
option with an environment variable or a config key must have its line
under "also set by".

Only the Python standard library is used.
"""

import json
import os
import re
import unittest

import harness as h
import scripted_registry as sr

SETTINGS_C = os.path.join(h.REPO_ROOT, "src", "cli", "settings.c")
CHECKS_DIR = os.path.join(h.REPO_ROOT, "docs", "checks")
PULL, PUSH, REFERRERS = (h.CHECK_PREFIX + n for n in ("pull", "push", "referrers"))
ARTIFACTS = h.CHECK_PREFIX + "artifacts"
APIS = h.CHECK_PREFIX + "apis"


def expand_groups(source):
    """source with every OPT_GROUP_*(...) of cli/optgroups.h spelt out."""
    with open(os.path.join(os.path.dirname(SETTINGS_C), "optgroups.h")) as f:
        header = f.read().replace("\\\n", "\n")
    macros = {}
    for name, params, body in re.findall(
            r"#define (OPT_GROUP_\w+)\(([^)]*)\)(.*?)(?=\n\n|\n#)", header, re.S):
        macros[name] = ([p.strip() for p in params.split(",")], body)

    def expand(m):
        params, body = macros[m.group(1)]
        args = [a.strip() for a in re.findall(r'"[^"]*"|[^,]+', m.group(2))]
        for p, a in zip(params, args):
            body = re.sub(r"\b%s\b" % re.escape(p), a, body)
        return body
    for _ in range(3):  # groups may use groups
        source = re.sub(r"(OPT_GROUP_\w+)\(([^()]*)\)", expand, source)
    return source


def option_table():
    """The entries of run_opts in settings.c (its groups from optgroups.h
    spelt out): [{long_name, short_name, env, key, arg, hidden}], in table
    order."""
    with open(SETTINGS_C) as f:
        source = expand_groups(f.read())
    m = re.search(r"const struct opt run_opts\[\] = \{(.*?)\n\tOPT_END", source, re.S)
    if not m:
        raise AssertionError("no run_opts table in %s" % SETTINGS_C)
    entries = []
    for body in re.findall(r"\{\s*(\.long_name\s*=.*?)\}\s*,", m.group(1), re.S):
        def field(name, body=body):
            f = re.search(r"\.%s\s*=\s*(\"(?:[^\"\\]|\\.)*\"|'.'|\d+)" % name, body)
            return None if f is None else f.group(1).strip("\"'")
        entries.append({"long_name": field("long_name"), "short_name": field("short_name"),
                        "env": field("env"), "key": field("key"), "arg": field("arg"),
                        "hidden": field("hidden") == "1",
                        "bool": "OPT_BOOL" in body})
    if len(entries) < 10 or any(e["long_name"] is None for e in entries):
        raise AssertionError("could not read the option table of %s" % SETTINGS_C)
    return entries


class SelectionTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        h.doctor_binary()
        cls.scripted = sr.ScriptedRegistry(referrers="index").start()
        cls.addClassCleanup(cls.scripted.stop)

    def selected(self, *args, env=None):
        """(exit code, [reported check ids], report) of a run with args."""
        code, report, err = self.doctor_json(["run", "--registry", self.scripted.url]
                                             + list(args), env=env)
        self.assertIn(code, (h.EXIT_OK, h.EXIT_WARN, h.EXIT_FAIL), err)
        return code, [r["checkId"] for r in report["results"]], report

    def assertUsageError(self, args, *needles):
        code, out, err = self.doctor(args)
        self.assertEqual(code, h.EXIT_USAGE, "exit %d: %s" % (code, err))
        self.assertEqual(out, "")
        self.assertEqual(len(err.rstrip("\n").split("\n")), 1, err)
        for needle in needles:
            self.assertIn(needle, err)
        return err

    # -- --check --

    def test_check_glob(self):
        code, ids, report = self.selected("--check", "check.integration.oci.p*")
        self.assertEqual(ids, [PULL, PUSH])
        self.assertEqual(code, h.EXIT_OK)
        for check in (PULL, PUSH):
            self.assertEqual(h.result_of(report, check)["status"], "pass")
        summary = report["summary"]
        self.assertEqual(sum(summary[s] for s in ("pass", "info", "warn", "fail", "skip")), 2)

    def test_check_exact_ids_repeated(self):
        code, ids, _ = self.selected("--check", PUSH, "--check", h.CHECK_PREFIX + "registry")
        # Report order is the table's, not the command line's.
        self.assertEqual(ids, [h.CHECK_PREFIX + "registry", PUSH])

    def test_check_glob_matching_nothing(self):
        self.scripted.clear_requests()
        # (a last segment such as "pull" names its check: test_inputs)
        for pattern in ("check.integration.oci.nope*", "pul*", "check.integration.oci.[xyz]*"):
            with self.subTest(pattern=pattern):
                self.assertUsageError(["run", "--registry", self.scripted.url, "--check",
                                       pattern], "'%s'" % pattern)
        # One pattern that matches does not excuse another that does not.
        self.assertUsageError(["run", "--registry", self.scripted.url, "--check", "*.pull",
                               "--check", "*.nope"], "'*.nope'")
        self.assertEqual(self.scripted.requests(), [],
                         "a refused selection still probed the registry")

    def test_check_comma_separated(self):
        _, ids, _ = self.selected("--check", "*.referrers,*.pull")
        self.assertEqual(ids, [PULL, REFERRERS])

    def test_checks_from_the_environment(self):
        _, ids, _ = self.selected(env={"OCIDOCTOR_CHECKS": "*.pull,*.referrers"})
        self.assertEqual(ids, [PULL, REFERRERS])

    # -- --tags --

    def test_tag_oci_1_1(self):
        code, ids, report = self.selected("--tags", "oci-1.1")
        self.assertEqual(ids, [REFERRERS, ARTIFACTS])
        self.assertEqual(h.result_of(report, REFERRERS)["status"], "pass")
        # without --writes verify the artifacts check skips, which fails nothing
        self.assertEqual(h.result_of(report, ARTIFACTS)["status"], "skip")
        self.assertEqual(code, h.EXIT_OK)

    def test_tags_registry_and_oci_1_1(self):
        # Every check has the tag "registry": the union is all six.
        _, ids, _ = self.selected("--tags", "registry", "--tags", "oci-1.1")
        self.assertEqual(ids, h.check_ids())
        _, ids, _ = self.selected(env={"OCIDOCTOR_TAGS": "registry,oci-1.1"})
        self.assertEqual(ids, h.check_ids())
        _, ids, _ = self.selected("--tags", "pull", "--tags", "oci-1.1")
        self.assertEqual(ids, [PULL, REFERRERS, ARTIFACTS])
        # A comma-separated list on the command line is split, as --help says.
        _, ids, _ = self.selected("--tags", "registry,oci-1.1")
        self.assertEqual(ids, h.check_ids())
        _, ids, _ = self.selected("--tags", "push,oci-1.1")
        self.assertEqual(ids, [PUSH, REFERRERS, ARTIFACTS])
        self.assertUsageError(["run", "--registry", self.scripted.url, "--tags",
                               "push,nope"], "'nope'")

    def test_unknown_tag(self):
        self.assertUsageError(["run", "--registry", self.scripted.url, "--tags", "oci-2.0"],
                              "'oci-2.0'")
        self.assertUsageError(["run", "--registry", self.scripted.url, "--tags", "registry",
                               "--tags", "nope"], "'nope'")

    def test_check_and_tags_together_must_both_match(self):
        _, ids, _ = self.selected("--check", "*", "--tags", "oci-1.1")
        self.assertEqual(ids, [REFERRERS, ARTIFACTS])
        _, ids, _ = self.selected("--check", "check.integration.oci.p*", "--tags", "push")
        self.assertEqual(ids, [PUSH])

    def test_check_and_tags_that_select_nothing_together(self):
        # Each selects something, the two together nothing: a usage error
        # (exit 3), or a CI job with a typo would pass without checking anything.
        code, out, err = self.doctor(["run", "--registry", self.scripted.url, "--check",
                                      "*.pull", "--tags", "oci-1.1"])
        self.assertEqual(code, h.EXIT_USAGE, out)

    # -- list --

    def test_the_api_table_runs_only_when_asked_for(self):
        self.assertNotIn(APIS, self.selected()[1])
        self.assertNotIn(APIS, self.selected("--tags", "registry")[1])
        self.assertIn(APIS, self.selected("--check", "apis")[1])
        self.assertIn(APIS, self.selected("--check", "*")[1])
        self.assertEqual(self.selected("--tags", "conformance")[1], [APIS])

    def test_list_json(self):
        code, out, err = self.doctor(["list", "--format", "json"])
        self.assertEqual(code, h.EXIT_OK, err)
        checks = json.loads(out)
        self.assertIsInstance(checks, list)
        self.assertEqual([c["id"] for c in checks], h.all_check_ids())
        self.assertEqual([c["id"] for c in checks if c["default"]], h.check_ids())
        self.assertEqual([c["id"] for c in checks if not c["default"]], [APIS])
        report = self.selected("--check", "*")[2]
        for entry in checks:
            with self.subTest(check=entry["id"]):
                self.assertTrue({"id", "severity", "tags", "title"} <= set(entry), entry)
                self.assertIn(entry["severity"], ("info", "warn", "fail"))
                self.assertIsInstance(entry["tags"], list)
                self.assertTrue(entry["tags"])
                self.assertTrue(all(isinstance(t, str) and t for t in entry["tags"]))
                self.assertEqual(len(set(entry["tags"])), len(entry["tags"]))
                self.assertIsInstance(entry["title"], str)
                self.assertTrue(entry["title"])
                # The same as the run reports.
                result = h.result_of(report, entry["id"])
                for key in ("severity", "tags", "title"):
                    self.assertEqual(entry[key], result[key], key)
        self.assertEqual([c["id"] for c in checks if "oci-1.1" in c["tags"]], [REFERRERS, ARTIFACTS])

    def test_list_text_matches_json(self):
        _, out, _ = self.doctor(["list", "--format", "json"])
        checks = json.loads(out)
        code, text, err = self.doctor(["list"])
        self.assertEqual(code, h.EXIT_OK, err)
        lines = text.rstrip("\n").split("\n")
        self.assertEqual(len(lines), len(checks))
        for line, entry in zip(lines, checks):
            fields = line.split()
            self.assertEqual(fields[:3], [entry["id"], entry["severity"],
                                          ",".join(entry["tags"])])
            self.assertTrue(line.endswith(entry["title"]), line)
        self.assertUsageError(["list", "--format", "yaml"], "'yaml'")

    # -- explain --

    def test_explain_every_check(self):
        for check in h.check_ids():
            with self.subTest(check=check):
                code, out, err = self.doctor(["explain", "--format", "markdown", check])
                self.assertEqual(code, h.EXIT_OK, err)
                self.assertTrue(out.startswith("# " + check + "\n"), out[:200])
                self.assertNotIn("\n---\n", out[:400], "front matter was printed")
                for heading in ("## What it checks", "## Remediation"):
                    self.assertIn("\n" + heading + "\n", out)
                with open(os.path.join(CHECKS_DIR, check + ".md")) as f:
                    page = f.read()
                # The page as written, without its front matter (the binary
                # compiles docs/checks in; a stale build fails here).
                body = re.sub(r"\A---\n.*?\n---\n", "", page, flags=re.S)
                self.assertEqual(out.strip(), body.strip(),
                                 "explain does not print docs/checks/%s.md" % check)

    def test_explain_errors(self):
        self.assertUsageError(["explain", "nope"], "'nope'")
        self.assertUsageError(["explain", "pul*"], "'pul*'")
        self.assertUsageError(["explain"])
        self.assertUsageError(["explain", PULL, PUSH])

    # -- run --help --

    def test_run_help_lists_every_option(self):
        code, out, err = self.doctor(["run", "--help"])
        self.assertEqual(code, h.EXIT_OK, err)
        self.assertEqual(err, "")
        options_part, _, also = out.partition("\nalso set by")
        self.assertTrue(also, "no 'also set by' section:\n" + out)
        table = option_table()
        for opt in table:
            name = opt["long_name"]
            with self.subTest(option=name):
                left = ("-%s, " % opt["short_name"] if opt["short_name"] else "    ") + \
                    "--" + name + ("" if opt["bool"] else " " + (opt["arg"] or "VALUE"))
                pattern = r"^  %s\s+\S" % re.escape(left)
                listed = re.search(pattern, options_part, re.M)
                if opt["hidden"]:
                    self.assertNotIn("--%s " % name, options_part + " ")
                    self.assertNotRegex(out, r"--%s\b(?!-)" % re.escape(name))
                    continue
                self.assertTrue(listed, "--%s is not listed as %r:\n%s"
                                % (name, pattern, options_part))
                line = re.search(r"^  --%s\s+env (\S+)\s+config (\S+)$" % re.escape(name),
                                 also, re.M)
                if not opt["env"] and not opt["key"]:
                    self.assertIsNone(line, "--%s has no env or key but a line" % name)
                    continue
                self.assertTrue(line, "no 'also set by' line for --%s:\n%s" % (name, also))
                self.assertEqual(line.group(1), opt["env"] or "-")
                self.assertEqual(line.group(2), "oci." + opt["key"] if opt["key"] else "-")
        # And nothing the table does not have.
        names = {o["long_name"] for o in table}
        for listed in re.findall(r"^\s+(?:-\w, )?--([a-z-]+)", options_part, re.M):
            self.assertIn(listed, names)
        self.assertEqual(len(re.findall(r"^  --", also, re.M)),
                         sum(1 for o in table if o["env"] or o["key"]))

    def test_run_help_mentions_every_format(self):
        _, out, _ = self.doctor(["run", "--help"])
        line = [l for l in out.split("\n") if l.lstrip().startswith("--format")][0]
        for fmt in ("text", "json", "junit", "markdown", "prometheus", "html"):
            self.assertIn(fmt, line)


if __name__ == "__main__":
    unittest.main()
