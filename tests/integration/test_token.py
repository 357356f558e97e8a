"""ocidoctor against a registry that uses Docker token authentication.

The registry trusts the JWTs of harness.TokenServer, which gives anonymous
callers pull rights only and known users whatever they ask for. So without
credentials the image can be pulled but an upload is denied; with the right
password everything passes, also when the password comes from a docker
credential helper or is an OAuth2 refresh token (an identitytoken in
config.json); a wrong password fails the credentials check.

No output may contain the password or any token the server handed out,
also with the -v trace. After an authorised run no upload session may be
left open (cancelling one needs the "delete" action in the token).
"""

import os
import secrets
import unittest

import harness as h

USER = "tokenuser"
PASSWORD = "pw-" + secrets.token_hex(12)
WRONG = "wrong-" + secrets.token_hex(12)
REFRESH = "refresh-" + secrets.token_hex(16)


class TokenAuthTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        h.add_user_secrets(USER, WRONG)
        cls.tokens = cls.start_server(h.TokenServer(users={USER: PASSWORD},
                                                    refresh_token=REFRESH))
        cls.registry = cls.start_server(h.Registry(token=cls.tokens,
                                                   seed=[("library/alpine", "latest")]))

    def secrets(self):
        tokens = list(self.tokens.issued_tokens)
        signatures = [t.rsplit(".", 1)[1] for t in tokens]
        return [PASSWORD, WRONG, REFRESH, h.basic_auth_value(USER, PASSWORD),
                h.basic_auth_value(USER, WRONG)] + tokens + signatures

    def with_password(self, *extra, password=PASSWORD):
        return self.run_registry("--username", USER, "--password-stdin", *extra,
                                 stdin=password + "\n")

    def test_anonymous_pulls_but_cannot_push(self):
        self.tokens.clear_requests()
        code, report, err = self.run_registry()
        self.assertStatus(report, "registry", "pass", err)
        # a token service may hand out anonymous tokens: missing credentials warn
        self.assertStatus(report, "credentials", "warn", err)
        self.assertStatus(report, "pull", "pass", err)
        self.assertStatus(report, "push", "fail", err)
        self.assertMessageMatches(report, "push",
                                  r"denied|insufficient|not allowed|permission|unauthori|scope")
        self.assertExit(code, h.EXIT_FAIL, report, err)
        asked = [r for r in self.tokens.requests if r["path"] == "/token"]
        self.assertTrue(asked, "the token server was asked for a token")
        self.assertFalse(any(r["authorization"] for r in asked),
                         "no Authorization sent to the token server without credentials")

    def test_right_password_passes(self):
        self.tokens.clear_requests()
        code, report, err = self.with_password()
        for check in ("registry", "credentials", "pull", "push"):
            self.assertStatus(report, check, "pass", err)
        self.assertTrue(any(r["user"] == USER for r in self.tokens.requests),
                        "a token was issued to %s" % USER)
        self.assertEqual(self.registry.upload_sessions(), [],
                         "the push check left an upload session open")

    def test_wrong_password_fails(self):
        code, report, err = self.with_password(password=WRONG)
        self.assertStatus(report, "credentials", "fail", err)
        self.assertExit(code, h.EXIT_FAIL, report, err)

    def test_credential_helper(self):
        tmp = h.scratch_dir("helper-")
        bindir, config = os.path.join(tmp, "bin"), os.path.join(tmp, "docker")
        os.makedirs(bindir)
        h.write_credential_helper(bindir, "test", USER, PASSWORD)
        h.write_docker_config(config, {"credHelpers": {self.registry.host: "test"}})
        env = {"PATH": bindir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin")}
        code, report, err = self.run_registry("--docker-config", config, env=env)
        self.assertStatus(report, "credentials", "pass", err)
        self.assertMessageMatches(report, "credentials", r"docker-credential-test")
        self.assertStatus(report, "push", "pass", err)
        with open(os.path.join(bindir, "test.calls")) as f:
            calls = f.read()
        self.assertIn("get", calls)
        self.assertIn(self.registry.host, calls)

    def test_identity_token_from_docker_config(self):
        # An identitytoken is an OAuth2 refresh token: it is traded for an
        # access token with POST grant_type=refresh_token.
        config = h.write_docker_config(h.scratch_dir("identity-"), {
            "auths": {self.registry.host: {"identitytoken": REFRESH}}})
        self.tokens.clear_requests()
        code, report, err = self.run_registry("--docker-config", config)
        self.assertStatus(report, "credentials", "pass", err)
        self.assertStatus(report, "push", "pass", err)
        grants = [r["grant_type"] for r in self.tokens.requests if r["method"] == "POST"]
        self.assertIn("refresh_token", grants)

    def test_no_secret_in_any_output(self):
        # doctor() asserts it on every run; here with the verbose trace.
        for fmt in ("text", "json"):
            for password in (PASSWORD, WRONG):
                with self.subTest(format=fmt, right=password == PASSWORD):
                    self.assertTraced(*self.doctor(
                        ["run", "--registry", self.registry.url, "-v", "--format", fmt,
                         "--username", USER, "--password-stdin"], password + "\n"))
            with self.subTest(format=fmt, anonymous=True):
                self.assertTraced(*self.doctor(["run", "--registry", self.registry.url,
                                                "-v", "--format", fmt]))

    def test_trace_shows_the_scope_and_service_asked_for(self):
        # what an insufficient_scope needs reading; the password stays out (doctor() checks)
        code, out, err = self.doctor(["run", "--registry", self.registry.url, "-v",
                                      "--username", USER, "--password-stdin", "--check",
                                      "check.integration.oci.credentials"], PASSWORD + "\n")
        self.assertTraced(code, out, err)
        asked = [l for l in err.splitlines() if l.startswith("> GET " + self.tokens.url)]
        self.assertTrue(asked, err[-2000:])
        self.assertRegex(asked[0], r"(?i)[?&]scope=repository(:|%3A)library(/|%2F)alpine(:|%3A)pull")
        self.assertRegex(asked[0], r"[?&]service=")
        self.assertNotIn("account=", asked[0])


if __name__ == "__main__":
    unittest.main()
