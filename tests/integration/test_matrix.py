"""ocidoctor matrix: the checks against a fleet of targets.

Two scriptable registries (one a good OCI 1.1 registry, one without the
Referrers API and without a version header) and a refused port make a small
fleet. A good registry's worst status is "pass": no credentials are
configured, and a skipped credentials check does not count against it.
The tests read the targets file in both of its forms (lines and a YAML
list), check every output format row by row against what each registry
really supports, the exit status (the worst target's), the --parallel
bound, and that a bad target line is a usage error naming file and line
before any request is made.
"""

import csv
import io
import json
import os
import secrets
import unittest

import harness as h
import scripted_registry as sr


class MatrixTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.good = cls.start_server(sr.ScriptedRegistry(referrers="index"))
        cls.poor = cls.start_server(sr.ScriptedRegistry(referrers="404-plain", version_header=False))
        cls.dir = h.scratch_dir("matrix-")

    def targets(self, text, name="targets.txt"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def fleet_text(self):
        return ("# two registries, three targets\n\n"
                "%s library/alpine:latest\n"
                "%s\n"
                "%s library/alpine@%s\n" % (self.good.url, self.poor.url, self.good.url,
                                             self.good.manifest_digest))

    def matrix(self, *args):
        return self.doctor(["matrix", "--no-progress"] + list(args))

    def rows(self, out):
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def test_json_lines_one_per_target(self):
        code, out, err = self.matrix("--targets", self.targets(self.fleet_text()), "--format", "json")
        rows = self.rows(out)
        self.assertEqual(len(rows), 3, out)
        by_registry = {}
        for row in rows:
            by_registry.setdefault(row["registry"], []).append(row)
        good = by_registry[self.good.url]
        self.assertEqual(len(good), 2)
        for row in good:
            self.assertEqual(row["score"], 5, row)
            self.assertEqual(row["worst"], "pass", row)
            self.assertEqual(set(row["capabilities"].values()), {"supported"})
        self.assertEqual({row["tag"] for row in good}, {"latest", self.good.manifest_digest})
        (poor,) = by_registry[self.poor.url]
        self.assertEqual(poor["repository"], "library/alpine")
        self.assertEqual(poor["capabilities"]["referrersApi"], "unsupported")
        self.assertEqual(poor["capabilities"]["distributionVersion"], "unsupported")
        self.assertEqual(poor["score"], 3)
        self.assertEqual(poor["worst"], "warn")
        self.assertEqual(poor["checks"]["check.integration.oci.referrers"], "warn")
        self.assertEqual(code, h.EXIT_WARN, err)

    def test_yaml_targets_and_csv(self):
        text = ("- registry: %s\n  repository: library/alpine\n  tag: latest\n"
                "- \"%s library/alpine\"\n" % (self.good.url, self.poor.url))
        code, out, err = self.matrix("--targets", self.targets(text, "fleet.yaml"), "--format", "csv")
        table = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual(len(table), 2, out)
        self.assertEqual(table[0].keys() >= {"registry", "repository", "tag", "worst", "score",
                                             "referrersApi", "delete"}, True)
        scores = sorted((row["registry"], row["score"]) for row in table)
        self.assertEqual(scores, sorted([(self.good.url, "5"), (self.poor.url, "3")]))
        self.assertEqual(code, h.EXIT_WARN, err)

    def test_text_and_html_tables(self):
        path = self.targets(self.fleet_text())
        code, out, err = self.matrix("--targets", path)
        self.assertIn("TARGET", out)
        self.assertIn("3 targets; worst: warn", out)
        self.assertEqual(out.count(self.good.url), 2)
        code, out, err = self.matrix("--targets", path, "--format", "html")
        self.assertTrue(out.startswith("<!DOCTYPE html>"))
        self.assertEqual(out.count("<tr><td>"), 3, out)
        self.assertNotIn("<script", out)
        self.assertIn("</html>", out)

    def test_exit_status_is_the_worst_target(self):
        refused = "http://127.0.0.1:%d" % h.free_port()
        path = self.targets("%s\n%s\n" % (self.good.url, refused))
        code, out, err = self.matrix("--targets", path, "--format", "json", "--timeout", "5")
        rows = {row["registry"]: row for row in self.rows(out)}
        self.assertEqual(rows[self.good.url]["worst"], "pass")
        self.assertEqual(rows[refused]["worst"], "fail")
        self.assertNotIn("score", rows[refused], "nothing was probed on a refused port")
        self.assertEqual(code, h.EXIT_FAIL, err)

    def test_parallel_bounds_the_targets_in_flight(self):
        for parallel, most in ((1, 1), (6, 6)):
            with self.subTest(parallel=parallel), sr.ScriptedRegistry(delay_ms=100) as slow:
                path = self.targets("".join("%s team/app%d\n" % (slow.url, i) for i in range(6)),
                                    "slow.txt")
                code, out, err = self.matrix("--targets", path, "--format", "json", "--parallel",
                                             str(parallel), "--check", "check.integration.oci.registry")
                self.assertEqual(len(self.rows(out)), 6, out)
                self.assertEqual(len(slow.requests("GET")), 6)
                # --parallel 1: the targets' GET /v2/ never overlap; 6: they all may
                self.assertLessEqual(slow.max_in_flight, most)
                if parallel > 1:
                    self.assertGreater(slow.max_in_flight, 1)
                self.assertEqual(code, h.EXIT_OK, err)

    def test_bad_targets_are_usage_errors_before_any_request(self):
        cases = {
            "a bad scheme": "ftp://x library/a\n",
            "a bad repository": "%s UPPER/case\n" % self.good.url,
            "three fields": "%s a b\n" % self.good.url,
        }
        for name, text in cases.items():
            with self.subTest(name):
                before = len(self.good.requests())
                path = self.targets("# ok\n" + text, "bad.txt")
                code, out, err = self.matrix("--targets", path)
                self.assertEqual(code, h.EXIT_USAGE, err)
                self.assertIn(path + ":2:", err)
                self.assertEqual(len(err.strip().splitlines()), 1, err)
                self.assertEqual(len(self.good.requests()), before, "a request was made")
        code, _, err = self.matrix("--targets", os.path.join(self.dir, "missing.txt"))
        self.assertEqual(code, h.EXIT_USAGE, err)
        code, _, err = self.matrix("--targets", self.targets(self.fleet_text()), "--format", "xml")
        self.assertEqual(code, h.EXIT_USAGE, err)

    def test_writes_the_table_to_a_file(self):
        out_path = os.path.join(self.dir, "fleet.csv")
        code, out, err = self.matrix("--targets", self.targets(self.fleet_text()), "--format", "csv",
                                     "-o", out_path)
        self.assertEqual(out, "")
        with open(out_path) as f:
            self.assertEqual(len(list(csv.DictReader(f))), 3)


ALICE, ALICE_PASSWORD = "alice", "alice-pw-" + secrets.token_hex(8)
BOB, BOB_PASSWORD = "bob", "bob-pw-" + secrets.token_hex(8)
CREDENTIALS = "check.integration.oci.credentials"


class MatrixCredentialsTest(h.DoctorTestCase):
    """A login given on the command line or in OCI_USERNAME/OCI_PASSWORD is
    for one registry: two registries with Basic auth on loopback, each
    knowing its own user, record every Authorization they receive; the
    second must never receive the first one's."""

    @classmethod
    def setUpClass(cls):
        cls.first = cls.start_server(sr.ScriptedRegistry(auth="basic",
                                                         users={ALICE: ALICE_PASSWORD}))
        cls.second = cls.start_server(sr.ScriptedRegistry(auth="basic",
                                                          users={BOB: BOB_PASSWORD}))
        cls.dir = h.scratch_dir("matrix-creds-")
        h.add_user_secrets(ALICE, ALICE_PASSWORD)
        h.add_user_secrets(BOB, BOB_PASSWORD)

    def secrets(self):
        return [ALICE_PASSWORD, BOB_PASSWORD, h.basic_auth_value(ALICE, ALICE_PASSWORD),
                h.basic_auth_value(BOB, BOB_PASSWORD)]

    def setUp(self):
        self.first.clear_requests()
        self.second.clear_requests()

    def targets(self, *registries):
        path = os.path.join(self.dir, "targets-%d.txt" % len(os.listdir(self.dir)))
        with open(path, "w") as f:
            f.write("".join("%s library/alpine\n" % url for url in registries))
        return path

    def matrix(self, *args, stdin=None, env=None):
        return self.doctor(["matrix", "--no-progress", "--format", "json", "--timeout", "10"] +
                           list(args), stdin, env)

    def rows(self, out):
        return {row["registry"]: row for row in
                (json.loads(line) for line in out.splitlines() if line.strip())}

    def alice_sent_to(self, reg):
        return reg.received_authorization("Basic " + h.basic_auth_value(ALICE, ALICE_PASSWORD))

    def bob_config(self):
        return h.write_docker_config(h.scratch_dir("docker-"), {"auths": {
            self.second.host: {"auth": h.basic_auth_value(BOB, BOB_PASSWORD)}}})

    def test_a_login_for_every_registry_is_refused(self):
        path = self.targets(self.first.url, self.second.url)
        cases = {
            "flags": (["--username", ALICE, "--password-stdin"], ALICE_PASSWORD + "\n", None),
            "environment": ([], None, {"OCI_USERNAME": ALICE, "OCI_PASSWORD": ALICE_PASSWORD}),
            "OCIDOCTOR_USERNAME": (["--password-stdin"], ALICE_PASSWORD + "\n",
                                   {"OCIDOCTOR_USERNAME": ALICE}),
        }
        for name, (args, stdin, env) in cases.items():
            with self.subTest(name):
                code, out, err = self.matrix("--targets", path, *args, stdin=stdin, env=env)
                self.assertEqual(code, h.EXIT_USAGE, err)
                self.assertIn("--credentials-for", err)
                self.assertEqual(len(err.strip().splitlines()), 1, err)
                self.assertEqual(self.alice_sent_to(self.second), 0,
                                 "the second registry received the first one's login")
                self.assertEqual(self.second.requests(), [], "a request was made")

    def test_credentials_for_scopes_the_login_to_one_registry(self):
        path = self.targets(self.first.url, self.second.url, self.first.url)
        cases = {
            "flags": (["--username", ALICE, "--password-stdin"], ALICE_PASSWORD + "\n", None),
            "environment": ([], None, {"OCI_USERNAME": ALICE, "OCI_PASSWORD": ALICE_PASSWORD}),
        }
        for name, (args, stdin, env) in cases.items():
            with self.subTest(name):
                self.setUp()
                code, out, err = self.matrix("--targets", path, "--credentials-for",
                                             self.first.host, "--docker-config",
                                             self.bob_config(), *args, stdin=stdin, env=env)
                rows = self.rows(out)
                self.assertEqual(set(rows), {self.first.url, self.second.url}, err)
                self.assertGreater(self.alice_sent_to(self.first), 0, "the login was not used")
                self.assertEqual(self.alice_sent_to(self.second), 0,
                                 "the second registry received the first one's login")
                self.assertGreater(self.second.received_authorization(
                    "Basic " + h.basic_auth_value(BOB, BOB_PASSWORD)), 0,
                    "the second registry's own credential (docker's config.json) was not used")
                for url in (self.first.url, self.second.url):
                    self.assertEqual(rows[url]["checks"][CREDENTIALS], "pass", (url, rows[url]))

    def test_credentials_for_without_a_stored_login_is_anonymous_elsewhere(self):
        path = self.targets(self.second.url, self.first.url)
        code, out, err = self.matrix("--targets", path, "--credentials-for",
                                     "http://" + self.first.host, "--username", ALICE,
                                     "--password-stdin", stdin=ALICE_PASSWORD + "\n")
        rows = self.rows(out)
        self.assertEqual(rows[self.first.url]["checks"][CREDENTIALS], "pass", rows)
        self.assertTrue(self.second.requests(), "the second registry was not probed")
        self.assertEqual([r for r in self.second.requests()
                          if r["authorization_sha256"] is not None], [],
                         "the second registry received a credential")

    def test_one_registry_takes_the_login_without_naming_it(self):
        path = os.path.join(self.dir, "one.txt")
        with open(path, "w") as f:
            f.write("%s library/alpine\n%s team/app\n" % (self.first.url, self.first.url))
        code, out, err = self.matrix("--targets", path, "--username", ALICE, "--password-stdin",
                                     "--check", "*.registry", "--check", "*.credentials",
                                     stdin=ALICE_PASSWORD + "\n")
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
        self.assertEqual(len(rows), 2, err)
        for row in rows:
            self.assertEqual(row["checks"][CREDENTIALS], "pass", row)
        self.assertEqual(code, h.EXIT_OK, err)

    def test_credentials_for_must_name_a_target_and_have_a_login(self):
        path = self.targets(self.first.url, self.second.url)
        cases = {
            "no target there": (["--credentials-for", "127.0.0.1:1", "--username", ALICE,
                                 "--password-stdin"], ALICE_PASSWORD + "\n"),
            "no login": (["--credentials-for", self.first.host], None),
            "not an address": (["--credentials-for", "ftp://x", "--username", ALICE,
                                "--password-stdin"], ALICE_PASSWORD + "\n"),
        }
        for name, (args, stdin) in cases.items():
            with self.subTest(name):
                code, out, err = self.matrix("--targets", path, *args, stdin=stdin)
                self.assertEqual(code, h.EXIT_USAGE, err)
                self.assertIn("--credentials-for", err)
                self.assertEqual(self.first.requests() + self.second.requests(), [])


if __name__ == "__main__":
    unittest.main()
