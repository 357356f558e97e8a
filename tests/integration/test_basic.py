"""ocidoctor against a registry with htpasswd (HTTP Basic) authentication.

Without credentials the registry is still reachable (a 401 with a challenge
is a healthy answer), the credentials check is skipped and the pull fails.
The right password, whichever source it comes from (--password-stdin, the
OCI_USERNAME/OCI_PASSWORD environment, a docker config.json), lets
everything pass; a wrong one fails the credentials check.

Every run also checks that neither the password nor the base64 of
"user:password" (what goes on the wire and into config.json) is ever
printed, in text or JSON and with the -v trace.
"""

import secrets
import shutil
import unittest

import harness as h

USER = "ocitester"
PASSWORD = "pw-" + secrets.token_hex(12)
WRONG = "wrong-" + secrets.token_hex(12)


class BasicAuthTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        h.add_user_secrets(USER, WRONG)
        cls.registry = cls.start_server(h.Registry(users={USER: PASSWORD},
                                                   seed=[("library/alpine", "latest")]))
        cls.config_dir = h.scratch_dir("dockercfg-")
        cls.addClassCleanup(shutil.rmtree, cls.config_dir, True)
        h.write_docker_config(cls.config_dir, {
            "auths": {cls.registry.host: {"auth": h.basic_auth_value(USER, PASSWORD)}}})

    def secrets(self):
        return (PASSWORD, WRONG, h.basic_auth_value(USER, PASSWORD),
                h.basic_auth_value(USER, WRONG))

    # The three ways to hand over the right password, as (args, stdin, env).
    def sources(self):
        return {
            "stdin": (["--username", USER, "--password-stdin"], PASSWORD + "\n", None),
            "environment": ([], None, {"OCI_USERNAME": USER, "OCI_PASSWORD": PASSWORD}),
            "docker config": (["--docker-config", self.config_dir], None, None),
        }

    def test_anonymous_is_reachable_but_cannot_pull(self):
        code, report, err = self.run_registry()
        self.assertStatus(report, "registry", "pass", err)
        # Basic authentication lets nothing through anonymously: missing credentials fail
        self.assertStatus(report, "credentials", "fail", err)
        self.assertMessageMatches(report, "credentials", r"asks for a login .*looked at: ")
        self.assertStatus(report, "pull", "fail", err)
        self.assertExit(code, h.EXIT_FAIL, report, err)

    def test_password_on_stdin(self):
        args, stdin, env = self.sources()["stdin"]
        code, report, err = self.run_core(*args, stdin=stdin, env=env)
        for check in ("credentials", "pull", "push"):
            self.assertStatus(report, check, "pass", err)
        self.assertExit(code, h.EXIT_OK, report, err)

    def test_password_from_environment(self):
        args, stdin, env = self.sources()["environment"]
        code, report, err = self.run_registry(*args, stdin=stdin, env=env)
        self.assertStatus(report, "credentials", "pass", err)
        self.assertMessageMatches(report, "credentials", r"environment|OCI_USERNAME")
        self.assertStatus(report, "pull", "pass", err)

    def test_password_from_docker_config(self):
        args, stdin, env = self.sources()["docker config"]
        code, report, err = self.run_registry(*args, stdin=stdin, env=env)
        self.assertStatus(report, "credentials", "pass", err)
        self.assertMessageMatches(report, "credentials", r"config\.json|docker")
        self.assertStatus(report, "pull", "pass", err)

    def test_wrong_password_fails(self):
        code, report, err = self.run_registry("--username", USER, "--password-stdin",
                                              stdin=WRONG + "\n")
        self.assertStatus(report, "credentials", "fail", err)
        self.assertExit(code, h.EXIT_FAIL, report, err)

    def test_no_secret_in_any_output(self):
        # doctor() asserts it on every run; here the verbose trace and the
        # text format are added, for every source and for a wrong password.
        runs = dict(self.sources())
        runs["wrong password"] = (["--username", USER, "--password-stdin"], WRONG + "\n", None)
        for name, (args, stdin, env) in runs.items():
            for fmt in ("text", "json"):
                with self.subTest(source=name, format=fmt):
                    self.assertTraced(*self.doctor(["run", "--registry", self.registry.url,
                                                    "-v", "--format", fmt] + args, stdin, env))


if __name__ == "__main__":
    unittest.main()
