"""No credential ever reaches an output, or a host it does not belong to.

With known credentials, a password against a docker-registry with htpasswd
Basic auth, a password against a docker-registry with token auth
(harness.TokenServer) and an identity token (an OAuth2 refresh token) in
docker's config.json, every report format (text, json, junit, markdown,
prometheus, html) is produced with the -v trace, once on stdout and once
with -o FILE. Then the error paths: a wrong password, a wrong identity
token, a token endpoint that answers 500, a port where nothing listens, and
invalid flag combinations (exit 3). In every one, stdout, stderr and the
report file must hold none of: the password, the wrong password, the
identity tokens, base64("user:password"), and every token the TokenServer
issued (and its signature alone). Each run also proves that the secret was
in play (the credentials were accepted, or the trace shows a redacted
Authorization header), so that "not found" means something.

Where credentials go: a redirect to another host (127.0.0.2, another
origin) and an upload Location on another host must receive no
Authorization header, Basic or Bearer, even when that host answers 401
with a challenge; the registry's own origin did receive one. A password on
the command line (--password) is refused with exit 3 and a pointer to
--password-stdin, without echoing it. A plain-HTTP token realm named by an
https registry must be reported.

Only the Python standard library is used.
"""

import os
import re
import secrets
import socket
import unittest

import faultserver as fs
import harness as h
import scripted_registry as sr

USER = "secretuser"
PASSWORD = "pw-" + secrets.token_hex(12)
WRONG = "wrong-" + secrets.token_hex(12)
REFRESH = "refresh-" + secrets.token_hex(16)
WRONG_REFRESH = "badrefresh-" + secrets.token_hex(16)
FLAG_PASSWORD = "flagpw-" + secrets.token_hex(12)
FORMATS = ("text", "json", "junit", "markdown", "prometheus", "html")
OTHER_HOST = "127.0.0.2"
MANIFEST = r"/v2/library/alpine/manifests/latest$"
# Under a wrapper such as valgrind every run takes seconds.
SLOW = bool(os.environ.get("OCIDOCTOR_WRAPPER", "").strip())


def other_host_available():
    try:
        with socket.socket() as s:
            s.bind((OTHER_HOST, 0))
        return True
    except OSError:
        return False


class SecretsTestCase(h.DoctorTestCase):
    """Secrets: the fixed ones above, their base64 forms, and every token
    issued by any TokenServer of the class (the list grows during a run;
    doctor() reads it after the run)."""

    token_servers = ()

    def secrets(self):
        fixed = [PASSWORD, WRONG, REFRESH, WRONG_REFRESH, FLAG_PASSWORD]
        encoded = [h.basic_auth_value(USER, p) for p in (PASSWORD, WRONG, FLAG_PASSWORD)]
        tokens = [t for server in self.token_servers for t in server.issued_tokens]
        signatures = [t.rsplit(".", 1)[1] for t in tokens]
        return fixed + encoded + tokens + signatures

    def issued(self):
        return sum(len(server.issued_tokens) for server in self.token_servers)

    def report_path(self, fmt):
        return os.path.join(h.scratch_dir("report-"), "report." + fmt)

    def run_all_formats(self, url, args, stdin=None, env=None, expect_auth_header=True,
                        formats=FORMATS, verdicts=(h.EXIT_OK, h.EXIT_WARN, h.EXIT_FAIL)):
        """Every format with -v, on stdout and with -o FILE; asserts no
        secret anywhere. Returns the JSON report of the stdout json run
        (None when json is not among formats)."""
        report = None
        for fmt in formats:
            base = ["run", "--registry", url, "-v", "--format", fmt] + list(args)
            with self.subTest(format=fmt, output="stdout"):
                code, out, err = self.doctor(base, stdin, env)   # asserts no secret
                self.assertIn(code, verdicts, h.redact(err[-1000:], self.secrets()))
                self.assertTrue(out.strip(), "no report on stdout")
                self.assertRegex(err, r"(?m)^> (GET|HEAD|POST) ", "-v wrote no trace")
                if expect_auth_header:
                    self.assertIn("Authorization: <redacted>", err,
                                  "the trace shows no (redacted) Authorization header, so "
                                  "the credentials were never sent")
                if fmt == "json":
                    report = h.parse_report(out, code, err)
            if SLOW and fmt not in ("text", "json"):
                continue   # under valgrind: -o FILE for two formats only (time)
            with self.subTest(format=fmt, output="file"):
                path = self.report_path(fmt)
                code, out, err = self.doctor(base + ["-o", path], stdin, env)
                self.assertIn(code, verdicts, h.redact(err[-1000:], self.secrets()))
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                self.assertTrue(text.strip(), "the report file is empty")
                self.assertNoSecrets(self.secrets(), text)
        return report


class BasicAuthSecretsTest(SecretsTestCase):
    """A docker-registry with htpasswd Basic auth."""

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(users={USER: PASSWORD},
                                                   seed=[("library/alpine", "latest")]))
        h.add_user_secrets(USER, WRONG)

    def test_password_in_every_format(self):
        report = self.run_all_formats(self.registry.url, ["--username", USER,
                                                          "--password-stdin"],
                                      stdin=PASSWORD + "\n")
        self.assertStatus(report, "credentials", "pass")
        self.assertStatus(report, "push", "pass")

    def test_docker_config_auth_in_every_format(self):
        # "auth" is base64("user:password") itself: it must not be echoed either.
        config = h.write_docker_config(h.scratch_dir("docker-"), {"auths": {
            self.registry.host: {"auth": h.basic_auth_value(USER, PASSWORD)}}})
        report = self.run_all_formats(self.registry.url, ["--docker-config", config],
                                      formats=("text", "json", "html"))
        self.assertStatus(report, "credentials", "pass")

    def test_wrong_password_in_every_format(self):
        report = self.run_all_formats(self.registry.url, ["--username", USER,
                                                          "--password-stdin"],
                                      stdin=WRONG + "\n", verdicts=(h.EXIT_FAIL,))
        self.assertStatus(report, "credentials", "fail")
        self.assertMessageMatches(report, "credentials", r"rejected")

    def test_refused_port(self):
        url = "http://127.0.0.1:%d" % h.free_port()
        report = self.run_all_formats(url, ["--username", USER, "--password-stdin"],
                                      stdin=PASSWORD + "\n", expect_auth_header=False,
                                      formats=("text", "json", "junit"),
                                      verdicts=(h.EXIT_FAIL,))
        self.assertMessageMatches(report, "registry", r"refused")


class TokenAuthSecretsTest(SecretsTestCase):
    """A docker-registry with token auth: passwords and identity tokens."""

    @classmethod
    def setUpClass(cls):
        cls.tokens = cls.start_server(h.TokenServer(users={USER: PASSWORD},
                                                    refresh_token=REFRESH))
        cls.token_servers = (cls.tokens,)
        cls.registry = cls.start_server(h.Registry(token=cls.tokens,
                                                   seed=[("library/alpine", "latest")]))
        h.add_user_secrets(USER, WRONG)
        h.add_secret(WRONG_REFRESH)

    def identity_config(self, token):
        return h.write_docker_config(h.scratch_dir("identity-"), {
            "auths": {self.registry.host: {"identitytoken": token}}})

    def test_password_in_every_format(self):
        before = self.issued()
        report = self.run_all_formats(self.registry.url, ["--username", USER,
                                                          "--password-stdin"],
                                      stdin=PASSWORD + "\n")
        self.assertStatus(report, "credentials", "pass")
        self.assertStatus(report, "push", "pass")
        self.assertGreater(self.issued(), before, "the token server issued no token")

    def test_identity_token_in_every_format(self):
        self.tokens.clear_requests()
        before = self.issued()
        report = self.run_all_formats(self.registry.url,
                                      ["--docker-config", self.identity_config(REFRESH)])
        self.assertStatus(report, "credentials", "pass")
        self.assertStatus(report, "push", "pass")
        self.assertIn("refresh_token", [r["grant_type"] for r in self.tokens.requests])
        self.assertGreater(self.issued(), before)

    def test_wrong_password(self):
        report = self.run_all_formats(self.registry.url, ["--username", USER,
                                                          "--password-stdin"],
                                      stdin=WRONG + "\n", formats=("text", "json", "markdown"),
                                      verdicts=(h.EXIT_FAIL,))
        self.assertStatus(report, "credentials", "fail")
        self.assertMessageMatches(report, "credentials", r"rejected")

    def test_wrong_identity_token(self):
        # A refused refresh token: the trace shows the POST, never its form.
        report = self.run_all_formats(self.registry.url,
                                      ["--docker-config", self.identity_config(WRONG_REFRESH)],
                                      formats=("text", "json", "prometheus"),
                                      expect_auth_header=False, verdicts=(h.EXIT_FAIL,))
        self.assertStatus(report, "credentials", "fail")


class ErrorPathSecretsTest(SecretsTestCase):
    """Token endpoints that fail, and the command line refusing to start."""

    def setUp(self):
        h.add_user_secrets(USER, PASSWORD)
        h.add_secret(REFRESH)
        h.add_secret(FLAG_PASSWORD)

    def failing_realm(self):
        realm = fs.FaultServer({("*", r"^/token"): fs.respond(
            500, {"Content-Type": "text/plain"}, "token service down\n")}).start()
        self.addCleanup(realm.stop)
        reg = sr.ScriptedRegistry(auth="token", token_realm=realm.url + "/token",
                                  token_service="scripted").start()
        self.addCleanup(reg.stop)
        return realm, reg

    def test_token_endpoint_500_with_password(self):
        realm, reg = self.failing_realm()
        report = self.run_all_formats(reg.url, ["--username", USER, "--password-stdin"],
                                      stdin=PASSWORD + "\n", formats=("text", "json", "junit"),
                                      verdicts=(h.EXIT_FAIL,))
        self.assertMessageMatches(report, "credentials", r"\b500\b")
        self.assertTrue(realm.authorized_requests(), "the password went to the realm")

    def test_token_endpoint_500_with_identity_token(self):
        realm, reg = self.failing_realm()
        config = h.write_docker_config(h.scratch_dir("identity-"), {
            "auths": {reg.host: {"identitytoken": REFRESH}}})
        report = self.run_all_formats(reg.url, ["--docker-config", config],
                                      formats=("text", "json", "html"),
                                      expect_auth_header=False, verdicts=(h.EXIT_FAIL,))
        self.assertMessageMatches(report, "credentials", r"\b500\b")
        self.assertTrue(realm.requests("POST"), "the identity token was not POSTed")

    def usage_error(self, args, stdin=None):
        """Runs args (with an -o FILE); asserts exit 3, no secret anywhere,
        and no report file with a secret. Returns stderr."""
        path = self.report_path("out")
        code, out, err = self.doctor(list(args) + ["-o", path], stdin)
        self.assertEqual(code, h.EXIT_USAGE, h.redact(err, self.secrets()))
        self.assertTrue(err.strip(), "a usage error says what is wrong")
        if os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                self.assertNoSecrets(self.secrets(), f.read())
        return err

    def test_invalid_flag_combinations(self):
        url = "http://127.0.0.1:%d" % h.free_port()
        password_file = os.path.join(h.scratch_dir("pwfile-"), "password")
        with open(password_file, "w") as f:
            f.write(PASSWORD + "\n")
        cases = {
            "stdin-and-file": ["--username", USER, "--password-stdin",
                               "--password-file", password_file],
            "stdin-without-username": ["--password-stdin"],
            "cert-without-key": ["--username", USER, "--password-stdin", "--cert", password_file],
            "unknown-format": ["--username", USER, "--password-stdin", "--format", "yaml"],
            "unknown-flag": ["--username", USER, "--password-stdin", "--no-such-flag"],
            "bad-fail-on": ["--username", USER, "--password-file", password_file,
                            "--fail-on", "sometimes"],
        }
        for name, args in cases.items():
            with self.subTest(case=name):
                self.usage_error(["run", "--registry", url, "-v"] + args, PASSWORD + "\n")

    def test_password_flag_is_refused(self):
        url = "http://127.0.0.1:%d" % h.free_port()
        for args in (["--password", FLAG_PASSWORD],
                     ["--username", USER, "--password=" + FLAG_PASSWORD],
                     ["-v", "--username", USER, "--password", FLAG_PASSWORD, "--format", "json"]):
            with self.subTest(args=len(args)):
                err = self.usage_error(["run", "--registry", url] + args)
                self.assertIn("--password-stdin", err, "no pointer to --password-stdin")


@unittest.skipUnless(other_host_available(), "cannot listen on %s" % OTHER_HOST)
class OtherHostTest(SecretsTestCase):
    """Credentials stay with the registry's origin."""

    @classmethod
    def setUpClass(cls):
        cls.tokens = cls.start_server(h.TokenServer(users={USER: PASSWORD}))
        cls.token_servers = (cls.tokens,)
        h.add_user_secrets(USER, PASSWORD)

    def other_host(self):
        # Answers everything with a 401 challenge: a client that would send
        # credentials when asked has every reason to.
        other = fs.FaultServer({("*", "."): fs.CHALLENGE}, host=OTHER_HOST).start()
        self.addCleanup(other.stop)
        return other

    def registry_for(self, auth, overrides):
        options = {"basic": dict(auth="basic", users={USER: PASSWORD}),
                   "bearer": dict(auth="token", token_realm=self.tokens.realm,
                                  token_service=self.tokens.service)}[auth]
        reg = sr.ScriptedRegistry(status_override=overrides, **options).start()
        self.addCleanup(reg.stop)
        return reg

    def run_with_password(self, reg, *extra):
        code, report, err = self.doctor_json(["run", "--registry", reg.url, "--timeout", "10",
                                              "--username", USER, "--password-stdin"] +
                                             list(extra), PASSWORD + "\n")
        self.assertStatus(report, "credentials", "pass", err)
        return code, report, err

    def assertOriginGotCredentials(self, reg, method, path_contains, scheme):
        sent = [r["headers"].get("Authorization", "") for r in reg.requests(method, path_contains)]
        self.assertTrue(any(v.startswith(scheme + " ") for v in sent),
                        "the registry itself got no %s credentials on %s %s: %s"
                        % (scheme, method, path_contains, sent))

    def assertNoCredentials(self, other, what):
        seen = other.requests()
        self.assertTrue(seen, "the other host never saw the %s" % what)
        self.assertEqual([(r["method"], r["path"], r["auth_scheme"])
                          for r in other.authorized_requests()], [],
                         "credentials were sent to another host (%s)" % what)

    def test_redirect_to_another_host(self):
        for auth, scheme in (("basic", "Basic"), ("bearer", "Bearer")):
            with self.subTest(auth=auth):
                other = self.other_host()
                target = other.url + "/v2/library/alpine/"
                reg = self.registry_for(auth, {
                    ("HEAD", MANIFEST): (302, {"Location": target + "manifests/latest"}, b""),
                    ("GET", MANIFEST): (302, {"Location": target + "manifests/latest"}, b""),
                    ("GET", r"/referrers/"): (307, {"Location": target + "referrers/x"}, b"")})
                code, report, err = self.run_with_password(reg)
                self.assertOriginGotCredentials(reg, "HEAD", "/manifests/latest", scheme)
                self.assertNoCredentials(other, "redirected requests")
                self.assertTrue(other.requests("HEAD", "/manifests/latest"),
                                "the redirect of the manifest HEAD was not followed")

    def test_upload_location_on_another_host(self):
        for auth, scheme in (("basic", "Basic"), ("bearer", "Bearer")):
            with self.subTest(auth=auth):
                other = self.other_host()
                location = other.url + "/v2/library/alpine/blobs/uploads/elsewhere?_state=x"
                reg = self.registry_for(auth, {("POST", r"/blobs/uploads/(\?.*)?$"): (
                    202, {"Location": location, "Range": "0-0",
                          "Docker-Upload-UUID": "elsewhere"}, b"")})
                code, report, err = self.run_with_password(reg)
                self.assertOriginGotCredentials(reg, "POST", "/blobs/uploads", scheme)
                self.assertNoCredentials(other, "upload session requests")
                self.assertTrue(other.requests("DELETE", "/blobs/uploads/elsewhere"),
                                "the session on the other host was not cancelled there")


class UserInfoSecretsTest(h.DoctorTestCase):
    """A password typed into an address or an image reference
    (alice:s3cret@host) is refused, and never repeated: not in stdout,
    stderr or a report file, for every way in (--image, the positional
    image of run and config, --registry, OCI__RegistryUrl, the config file,
    --repository and --tag, a targets file in both forms,
    --credentials-for, config's text and JSON output, and every command's
    refusal of an argument it does not know). A password may hold
    '/', '?', '#' or '@' unencoded; the message still says what is wrong and
    shows the host."""

    PASSWORDS = ("s3cret", "s3cret/x", "s3c?ret#x", "s3cret@x")

    def secrets(self):
        return ["s3cret", "s3c?ret"]

    @classmethod
    def setUpClass(cls):
        h.doctor_binary()
        cls.port = h.free_port()   # nothing listens: no request may be made anyway
        cls.dir = h.scratch_dir("userinfo-")

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def refused(self, args, env=None, shown=True, expect=h.EXIT_USAGE):
        """Runs args with -o FILE; asserts the exit status, no secret in any
        output or in the report file, and (when shown) that the address was
        echoed with its user information redacted. Returns (stdout, stderr)."""
        report = os.path.join(h.scratch_dir("report-"), "report.out")
        code, out, err = self.doctor(list(args) + ["-o", report], env=env)
        self.assertEqual(code, expect, err)
        self.assertTrue(err.strip(), "a refusal says what is wrong")
        if os.path.exists(report):
            with open(report, errors="replace") as f:
                self.assertNoSecrets(self.secrets(), f.read())
        if shown:
            self.assertIn("<redacted>@", out + err)
        return out, err

    def test_image_references(self):
        for password in self.PASSWORDS:
            for image in ("http://alice:%s@127.0.0.1:%d/team/app" % (password, self.port),
                          "alice:%s@127.0.0.1:%d/team/app:v1" % (password, self.port),
                          "http://alice:%s@localhost:%d/app@sha256:%s" % (password, self.port,
                                                                         "0" * 64)):
                for args in (["run", "--image", image], ["run", image],
                             ["run", "--image", image, "--repository", "x/y"],
                             ["run", "--image", "127.0.0.1:%d/a/b" % self.port, image],
                             ["config", image], ["config", "--format", "json", image]):
                    with self.subTest(args=args):
                        self.refused(args)

    def test_registry_addresses(self):
        config = self.write("values.yaml", "oci:\n  registryUrl: http://alice:s3cret/x@127.0.0.1:%d\n"
                            % self.port)
        for password in self.PASSWORDS:
            url = "http://alice:%s@127.0.0.1:%d" % (password, self.port)
            cases = {
                "flag": (["run", "--registry", url], None),
                "environment": (["run"], {"OCI__RegistryUrl": url}),
                "plain-http": (["run", "--plain-http", "--registry", url.replace("http:", "https:")],
                               None),
                "config text": (["config", "--registry", url], None),
                "config json": (["config", "--format", "json", "--registry", url], None),
            }
            for name, (args, env) in cases.items():
                with self.subTest(name, password=len(password)):
                    self.refused(args, env=env)
        with self.subTest("config file"):
            self.refused(["run", "--config", config])

    def test_repository_and_tag(self):
        registry = "http://127.0.0.1:%d" % self.port
        for args in (["--repository", "alice:s3cret@host/app"],
                     ["--repository", "http://alice:s3cret@host/app"],
                     ["--tag", "alice:s3cret@host"],
                     ["--scratch-repository", "alice:s3cret@host"]):
            for command in ("run", "config"):
                with self.subTest(command=command, args=args):
                    self.refused([command, "--registry", registry] + args)

    def test_targets_files(self):
        lines = "http://alice:s3cret/x@127.0.0.1:%d team/app\n" % self.port
        yaml_line = "- \"alice:s3cret@127.0.0.1:%d team/app\"\n" % self.port
        yaml_map = "- registry: https://alice:s3cret@127.0.0.1:%d\n  repository: a/b\n" % self.port
        for name, text in (("t.txt", lines), ("t.yaml", yaml_line), ("m.yaml", yaml_map)):
            for fmt in ("text", "json"):
                with self.subTest(name, format=fmt):
                    out, err = self.refused(["matrix", "--no-progress", "--format", fmt,
                                             "--targets", self.write(name, text)], shown=False)
                    self.assertIn("user information", err)

    def test_other_arguments(self):
        targets = self.write("ok.txt", "http://127.0.0.1:%d a/b\n" % self.port)
        password_file = self.write("pw", "x\n")
        for args in (["matrix", "--targets", targets, "http://alice:s3cret@host/a/b"],
                     ["matrix", "--targets", targets, "--credentials-for",
                      "http://alice:s3cret/x@127.0.0.1:%d" % self.port, "--username", "u",
                      "--password-file", password_file],
                     ["run", "http://127.0.0.1:%d/a/b" % self.port, "alice:s3cret@host/a/b"]):
            with self.subTest(args=args[:2]):
                self.refused(args)
        # every command's own parser, and no command at all
        for args in (["http://alice:s3cret@host/a/b"], ["help", "alice:s3cret@host"],
                     ["list", "http://alice:s3cret@host/a/b"],
                     ["explain", "http://alice:s3cret@host/a/b"],
                     ["serve", "http://alice:s3cret@host/a/b"]):
            with self.subTest(args=args[:1]):
                code, out, err = self.doctor(args)
                self.assertEqual(code, h.EXIT_USAGE, err)
                self.assertIn("<redacted>@host", err)


class PlainHttpRealmTest(SecretsTestCase):
    """An https registry whose token realm is plain http."""

    @classmethod
    def setUpClass(cls):
        cls.tokens = cls.start_server(h.TokenServer(users={USER: PASSWORD}))
        cls.token_servers = (cls.tokens,)
        h.add_user_secrets(USER, PASSWORD)

    def setUp(self):
        self.reg = sr.ScriptedRegistry(auth="token", token_realm=self.tokens.realm,
                                       token_service=self.tokens.service, tls=True).start()
        self.addCleanup(self.reg.stop)

    def run_with_password(self):
        return self.doctor_json(["run", "--registry", self.reg.url, "--ca-file",
                                 self.reg.ca_file, "--timeout", "10", "--username", USER,
                                 "--password-stdin", "--check", "*.registry",
                                 "--check", "*.credentials", "--check", "*.pull"],
                                PASSWORD + "\n")

    def test_https_registry_works(self):
        # The fixture itself: TLS with the CA, the token flow over it.
        code, report, err = self.run_with_password()
        self.assertStatus(report, "registry", ("pass", "warn"), err)
        self.assertEqual(h.result_of(report, "registry")["details"].get("tls"), True)
        self.assertStatus(report, "credentials", "pass", err)
        self.assertTrue(self.tokens.requests, "the realm was asked for a token")

    def test_plain_http_realm_is_reported(self):
        # The registry is https, but its challenge sends the password to
        # http://127.0.0.1:PORT/token. Loopback makes it allowed; it is still a
        # downgrade that the report must point out (warn, or fail).
        code, report, err = self.run_with_password()
        flagged = [r for r in report["results"] if r["status"] in ("warn", "fail") and
                   re.search(r"plain HTTP|unencrypted|not https", r["message"], re.I) and
                   self.tokens.realm in r["message"]]
        self.assertTrue(flagged, "no check points out the plain-HTTP token realm %s:\n%s"
                        % (self.tokens.realm, h.describe(report)))
        self.assertIn(code, (h.EXIT_WARN, h.EXIT_FAIL))
        # The warning is about the token service: the API itself was probed.
        self.assertStatus(report, "pull", "pass", err)


if __name__ == "__main__":
    unittest.main()
