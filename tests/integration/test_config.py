"""Settings from a YAML file, the environment and flags; `ocidoctor config`.

A Helm-style values file carries other charts' keys (ignored, even when they
have the names of ours) and an `oci:` section with registryUrl,
testRepository and testTag plus ocidoctor's own keys. `ocidoctor config`
prints every setting with where it came from: "FILE:LINE (oci.KEY)", the
environment variable, the flag, "default" or "unset". The precedence is
flag > environment > file > default.

A broken file (an unknown key, a value of the wrong type, invalid YAML, a
missing file) stops ocidoctor with exit status 3 and one line on stderr
naming FILE:LINE. `--password` is refused, and its value is never echoed.
A passwordFile in the file works against a registry with basic auth, and
the password never appears in any output.

Only the Python standard library is used.
"""

import json
import os
import re
import secrets
import time
import unittest

import harness as h
import scripted_registry as sr

USER = "cfg-user"
PASSWORD = "cfgpw-" + secrets.token_hex(12)

# `ocidoctor config` prints "NAME VALUE SOURCE"; a source is one of these.
SOURCE = re.compile(r"\s(default|unset|flag --[a-z-]+|environment \S+|"
                    r"\S+:\d+ \((?:oci|ocidoctor)\.[A-Za-z]+\))$")

# A values file of an umbrella chart. Other charts' keys, some with the
# names of ocidoctor's own, must be ignored; so must an oci: that is not at
# the top level.
VALUES = """\
# Helm values of the platform umbrella chart
global:
  imageRegistry: mirror.example.com
  registryUrl: https://global-not-ours.example.com
  testRepository: global/not-ours
postgresql:
  enabled: true
  auth:
    username: postgres
    password: not-ours-either
  oci:
    registryUrl: https://nested-not-ours.example.com
    bogusKey: nested sections are not read
ingress:
  hosts:
    - host: registry.example.com
      paths: ["/"]
oci:
  registryUrl: https://registry.internal.example:5000
  testRepository: platform/runtime
  testTag: "2024.06"
  checks:
    - check.integration.oci.registry
    - check.integration.oci.pull
  tags: registry,oci-1.1
  format: markdown
  failOn: fail
  timeout: 12
  insecure: yes
  noWrites: off
  username: ci-bot
  passwordFile: /run/secrets/registry-password
  dockerConfig: /etc/ocidoctor/docker
  caFile: /etc/ocidoctor/ca.pem
  output: /tmp/ocidoctor-report.md
redis:
  enabled: false
ocidoctor:
  scratchRepository: platform/ocidoctor-scratch
"""

# option name -> (file key, value as `config` prints it)
FILE_VALUES = {
    "registry": ("registryUrl", "https://registry.internal.example:5000"),
    "repository": ("testRepository", "platform/runtime"),
    "tag": ("testTag", "2024.06"),
    "check": ("checks", "check.integration.oci.registry,check.integration.oci.pull"),
    "tags": ("tags", "registry,oci-1.1"),
    "format": ("format", "markdown"),
    "fail-on": ("failOn", "fail"),
    "timeout": ("timeout", "12"),
    "insecure": ("insecure", "true"),
    "no-writes": ("noWrites", "false"),
    "username": ("username", "ci-bot"),
    "password-file": ("passwordFile", "/run/secrets/registry-password"),
    "docker-config": ("dockerConfig", "/etc/ocidoctor/docker"),
    "ca-file": ("caFile", "/etc/ocidoctor/ca.pem"),
    "output": ("output", "/tmp/ocidoctor-report.md"),
}


def line_of(text, section, key):
    """The 1-based line of `  key:` inside the top-level `section:` of text."""
    inside = False
    for number, line in enumerate(text.split("\n"), 1):
        if re.match(r"^\S", line):
            inside = line.rstrip() == section + ":"
        elif inside and re.match(r"^  %s:" % re.escape(key), line):
            return number
    raise KeyError("%s.%s not in the text" % (section, key))


def write(directory, name, text, mode=0o644):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


class ConfigTestCase(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        h.doctor_binary()
        cls.dir = h.scratch_dir("config-")

    def show(self, *args, env=None):
        """`ocidoctor config ARGS`: {option: (value, source)}. config also
        checks the settings as run would; these tests are about where values
        come from, and the values file names files that do not exist here,
        so exit 3 with one line on stderr is fine (test_inputs.py tests the
        checking)."""
        code, out, err = self.doctor(["config"] + list(args), env=env)
        self.assertIn(code, (h.EXIT_OK, h.EXIT_USAGE), err)
        self.assertEqual(err.count("\n"), 0 if code == h.EXIT_OK else 1, err)
        settings = {}
        for line in out.rstrip("\n").split("\n"):
            m = SOURCE.search(line)
            self.assertTrue(m, "no source at the end of %r" % line)
            name, _, value = line[:m.start()].partition(" ")
            self.assertNotIn(name, settings, "%s printed twice" % name)
            settings[name] = (value.strip(), m.group(1))
        return settings

    def assertUsageError(self, args, *needles, stdin=None, env=None):
        """Exit 3, nothing on stdout, one line on stderr holding every needle."""
        code, out, err = self.doctor(args, stdin=stdin, env=env)
        self.assertEqual(code, h.EXIT_USAGE, "exit %d, stderr %r" % (code, err))
        self.assertEqual(out, "")
        lines = err.rstrip("\n").split("\n")
        self.assertEqual(len(lines), 1, "not one line on stderr: %r" % err)
        self.assertTrue(lines[0].startswith("ocidoctor: "), lines[0])
        for needle in needles:
            self.assertIn(needle, lines[0])
        return lines[0]


class ConfigSourcesTest(ConfigTestCase):
    """`ocidoctor config`: values and where each came from. No registry."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.values = write(cls.dir, "values.yaml", VALUES)

    def test_file_values_with_file_and_line(self):
        settings = self.show("--config", self.values)
        for option, (key, value) in FILE_VALUES.items():
            with self.subTest(option=option):
                self.assertEqual(settings[option], (value, "%s:%d (oci.%s)" % (
                    self.values, line_of(VALUES, "oci", key), key)))
        self.assertEqual(settings["scratch-repository"], (
            "platform/ocidoctor-scratch", "%s:%d (ocidoctor.scratchRepository)"
            % (self.values, line_of(VALUES, "ocidoctor", "scratchRepository"))))
        self.assertEqual(settings["config"], (self.values, "flag --config"))

    def test_other_charts_keys_are_ignored(self):
        settings = self.show("--config", self.values)
        printed = " ".join(value for value, _ in settings.values())
        for foreign in ("not-ours", "mirror.example.com", "postgres"):
            self.assertNotIn(foreign, printed)

    def test_defaults(self):
        settings = self.show()
        self.assertEqual(settings["repository"], ("library/alpine", "default"))
        self.assertEqual(settings["tag"], ("latest", "default"))
        self.assertEqual(settings["format"], ("text", "default"))
        self.assertEqual(settings["timeout"], ("30", "default"))
        self.assertEqual(settings["registry"], ("-", "unset"))
        self.assertEqual(settings["config"], ("-", "unset"))
        # Settings that were not given, and the file's defaults where it is silent.
        settings = self.show("--config", self.values)
        self.assertEqual(settings["verbose"], ("false", "unset"))
        self.assertEqual(settings["cert"], ("-", "unset"))
        self.assertNotIn("password", settings, "the refused --password is listed")
        self.assertNotIn("help", settings)

    def test_environment_wins_over_the_file(self):
        for variable in ("OCI__TestRepository", "OCI__TESTREPOSITORY", "oci__testrepository"):
            with self.subTest(variable=variable):
                settings = self.show("--config", self.values, env={variable: "env/repo"})
                self.assertEqual(settings["repository"], ("env/repo", "environment " + variable))
                # The rest still comes from the file.
                self.assertEqual(settings["tag"][0], "2024.06")
        settings = self.show("--config", self.values, env={
            "OCI__RegistryUrl": "http://env.example:5000", "OCIDOCTOR_CHECKS": "a*,b*",
            "OCIDOCTOR_TIMEOUT": "7"})
        self.assertEqual(settings["registry"], ("http://env.example:5000",
                                                "environment OCI__RegistryUrl"))
        self.assertEqual(settings["check"], ("a*,b*", "environment OCIDOCTOR_CHECKS"))
        self.assertEqual(settings["timeout"], ("7", "environment OCIDOCTOR_TIMEOUT"))

    def test_an_empty_variable_counts_as_unset(self):
        settings = self.show("--config", self.values, env={"OCI__TestRepository": ""})
        self.assertEqual(settings["repository"][0], "platform/runtime")

    def test_a_switch_turned_off_in_the_environment_wins_over_the_file(self):
        # The environment wins over the file, also when it turns a switch off
        # (0 or false): the file's `insecure: yes` must not stay on.
        settings = self.show("--config", self.values, env={"OCIDOCTOR_INSECURE": "false"})
        self.assertEqual(settings["insecure"], ("false", "environment OCIDOCTOR_INSECURE"))

    def test_flag_wins_over_environment_and_file(self):
        settings = self.show("--config", self.values, "--repository", "flag/repo",
                             "--timeout=5", env={"OCI__TestRepository": "env/repo",
                                                 "OCIDOCTOR_TIMEOUT": "7"})
        self.assertEqual(settings["repository"], ("flag/repo", "flag --repository"))
        self.assertEqual(settings["timeout"], ("5", "flag --timeout"))

    def test_config_file_named_by_the_environment(self):
        settings = self.show(env={"OCIDOCTOR_CONFIG": self.values})
        self.assertEqual(settings["config"], (self.values, "environment OCIDOCTOR_CONFIG"))
        self.assertEqual(settings["repository"], ("platform/runtime", "%s:%d (oci.testRepository)"
                                                  % (self.values, line_of(VALUES, "oci",
                                                                          "testRepository"))))

    def test_an_empty_file_sets_nothing(self):
        empty = write(self.dir, "empty.yaml", "")
        comments = write(self.dir, "comments.yaml", "# nothing here\nother:\n  x: 1\n")
        for path in (empty, comments):
            settings = self.show("--config", path)
            self.assertEqual(settings["repository"], ("library/alpine", "default"))
            self.assertEqual(settings["registry"], ("-", "unset"))


class ConfigErrorsTest(ConfigTestCase):
    """A broken file, a missing file and --password: exit 3, one line."""

    def broken(self, name, text, key, *needles):
        """Writes text and expects `run --config` and `config --config` to stop
        on FILE:LINE, LINE being that of `key` in the oci: section."""
        path = write(self.dir, name, text)
        where = "%s:%d:" % (path, line_of(text, "oci", key))
        for command in (["run"], ["config"]):
            with self.subTest(file=name, command=command[0]):
                self.assertUsageError(command + ["--config", path], where, *needles)

    def test_a_key_in_snake_case_is_an_alias(self):
        """A key copied from a serve modules file (snake_case) names the same setting."""
        text = "oci:\n  registry_url: http://127.0.0.1:1\n  scratch_repository: team/s\n"
        path = write(self.dir, "snake.yaml", text)
        settings = self.show("--config", path)
        self.assertEqual(settings["registry"][0], "http://127.0.0.1:1")
        self.assertEqual(settings["scratch-repository"][0], "team/s")
        twice = "oci:\n  scratchRepository: team/a\n  scratch_repository: team/b\n"
        self.broken("twice.yaml", twice, "scratch_repository", "given twice")

    def test_unknown_key(self):
        text = ("global:\n  anything: goes\noci:\n  registryUrl: http://127.0.0.1:1\n"
                "  registryURL: http://typo.example\n  testTag: latest\n")
        self.broken("unknown.yaml", text, "registryURL", "'registryURL'")

    def test_a_password_key_is_unknown_and_not_echoed(self):
        secret = "filepw-" + secrets.token_hex(8)
        text = "oci:\n  registryUrl: http://127.0.0.1:1\n  password: %s\n" % secret
        path = write(self.dir, "password.yaml", text)
        line = self.assertUsageError(["config", "--config", path], "%s:3:" % path,
                                     "'password'")
        self.assertNotIn(secret, line)

    def test_wrong_types(self):
        cases = {
            "timeout-abc": ("oci:\n  testTag: latest\n  timeout: abc\n", "timeout", "abc"),
            "timeout-zero": ("oci:\n  timeout: 0\n", "timeout", "timeout"),
            "insecure-maybe": ("oci:\n  insecure: maybe\n", "insecure", "insecure"),
            "checks-mapping": ("oci:\n  registryUrl: http://127.0.0.1:1\n  checks: {a: b}\n",
                               "checks", "checks"),
            "tags-nested": ("oci:\n  tags: [[registry]]\n", "tags", "tags"),
            "registry-list": ("oci:\n  registryUrl: [http://a, http://b]\n", "registryUrl",
                              "registryUrl"),
            "noWrites-list": ("oci:\n  noWrites: [true]\n", "noWrites", "noWrites"),
        }
        for name, (text, key, needle) in cases.items():
            self.broken(name + ".yaml", text, key, needle)

    def test_section_that_is_not_a_mapping(self):
        path = write(self.dir, "list.yaml", "oci:\n  - registryUrl: http://a\n")
        self.assertUsageError(["config", "--config", path], "%s:2:" % path)
        path = write(self.dir, "top.yaml", "- oci\n- registryUrl\n")
        self.assertUsageError(["config", "--config", path], "%s:1:" % path)

    def test_invalid_yaml(self):
        cases = {
            "unclosed.yaml": ("oci:\n  registryUrl: http://a\n  checks: [a, b\n", 4),
            "indent.yaml": ("oci:\n  registryUrl: http://a\n testTag: x\n", None),
            "tab.yaml": ("oci:\n\tregistryUrl: http://a\n", None),
        }
        for name, (text, line) in cases.items():
            path = write(self.dir, name, text)
            with self.subTest(file=name):
                where = "%s:%d:" % (path, line) if line else path + ":"
                self.assertUsageError(["run", "--config", path], where, "invalid YAML")

    def test_deeply_nested_yaml_is_refused_quickly(self):
        # libyaml's load time is quadratic in the nesting (200k levels: a
        # minute); the depth is bounded before it loads the file
        text = "oci:\n  checks: " + "[" * 200000 + "]" * 200000 + "\n"
        path = write(self.dir, "deep.yaml", text)
        started = time.monotonic()
        self.assertUsageError(["run", "--config", path], path + ":2:",
                              "nested deeper than 64 levels")
        self.assertLess(time.monotonic() - started, 5)

    def test_missing_file(self):
        path = os.path.join(self.dir, "no-such-values.yaml")
        self.assertUsageError(["run", "--registry", "http://127.0.0.1:1", "--config", path],
                              path)
        self.assertUsageError(["config"], path, env={"OCIDOCTOR_CONFIG": path})

    def test_password_flag_is_refused_and_not_echoed(self):
        secret = "flagpw-" + secrets.token_hex(8)
        reg = sr.ScriptedRegistry().start()
        self.addCleanup(reg.stop)
        for args in (["run", "--registry", reg.url, "--password", secret],
                     ["run", "--registry", reg.url, "--username", "u", "--password=" + secret],
                     ["config", "--password", secret]):
            with self.subTest(args=args[0] + " " + args[-1].split("=")[0]):
                code, out, err = self.doctor(args)
                self.assertEqual(code, h.EXIT_USAGE, err)
                self.assertEqual(out, "")
                self.assertEqual(len(err.rstrip("\n").split("\n")), 1, err)
                self.assertIn("--password-stdin", err)
                self.assertNotIn(secret, err)
        self.assertEqual(reg.requests(), [], "a refused run still sent requests")

    def test_a_key_given_twice(self):
        # YAML wants the keys of a mapping to be unique: the second one is an
        # error that names its line, never silently dropped.
        text = "oci:\n  testRepository: first/one\n  testRepository: second/one\n"
        path = write(self.dir, "twice.yaml", text)
        code, out, err = self.doctor(["config", "--config", path])
        self.assertEqual(code, h.EXIT_USAGE, out)
        self.assertIn(path + ":3:", err)

    def test_a_bad_value_is_an_error_even_when_a_flag_wins(self):
        # Inside the sections an unknown key, a wrong type or a bad value stops
        # ocidoctor with FILE:LINE, also when a flag overrides that value.
        path = write(self.dir, "shadowed.yaml", "oci:\n  timeout: abc\n")
        self.assertUsageError(["config", "--config", path, "--timeout", "5"], path + ":2:")


class ConfigRunTest(ConfigTestCase):
    """Real runs whose settings come only from the file."""

    def test_run_with_only_a_config_file(self):
        reg = sr.ScriptedRegistry().start()
        self.addCleanup(reg.stop)
        text = VALUES.replace("https://registry.internal.example:5000", reg.url) \
                     .replace("platform/runtime", sr.REPOSITORY) \
                     .replace('"2024.06"', reg.manifest_digest) \
                     .replace("format: markdown", "format: json") \
                     .replace("tags: registry,oci-1.1", "tags: registry") \
                     .replace("insecure: yes", "insecure: no")
        for key in ("username", "passwordFile", "dockerConfig", "caFile", "output"):
            text = re.sub(r"\n  %s: .*" % key, "", text)
        path = write(self.dir, "run-values.yaml", text)
        code, out, err = self.doctor(["run", "--config", path])
        report = h.parse_report(out, code, err)
        self.assertEqual(code, h.EXIT_OK, err)
        self.assertEqual(report["registry"], reg.url)
        self.assertEqual(report["repository"], sr.REPOSITORY)
        self.assertEqual(report["tag"], reg.manifest_digest)
        self.assertEqual([r["checkId"] for r in report["results"]],
                         [h.CHECK_PREFIX + "registry", h.CHECK_PREFIX + "pull"])
        self.assertEqual(h.result_of(report, "pull")["status"], "pass")
        self.assertTrue(reg.requests(path_contains="/manifests/" + reg.manifest_digest),
                        "the pull did not ask for the file's testTag")
        # Nothing was written: only the file's checks ran.
        self.assertEqual(reg.requests(method="POST"), [])


class ConfigCredentialsTest(ConfigTestCase):
    """username and passwordFile from the file, against htpasswd basic auth."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = cls.start_server(h.Registry(users={USER: PASSWORD},
                                                   seed=[("library/alpine", "latest")]))
        cls.password_file = write(cls.dir, "registry-password", PASSWORD + "\n", 0o600)
        checks = "".join("    - %s%s\n" % (h.CHECK_PREFIX, c)
                         for c in ("registry", "credentials", "pull", "push"))
        cls.text = ("image:\n  pullSecrets: [regcred]\noci:\n  registryUrl: %s\n"
                    "  username: %s\n  passwordFile: %s\n  checks:\n%s"
                    % (cls.registry.url, USER, cls.password_file, checks))
        cls.values = write(cls.dir, "auth-values.yaml", cls.text)

    def secrets(self):
        return (PASSWORD, h.basic_auth_value(USER, PASSWORD))

    def test_password_file_credentials_pass(self):
        code, report, err = self.doctor_json(["run", "--config", self.values])
        for check in ("registry", "credentials", "pull", "push"):
            self.assertStatus(report, check, "pass", err)
        self.assertEqual(h.result_of(report, "credentials")["details"].get("scheme"), "Basic")
        self.assertExit(code, h.EXIT_OK, report, err)

    def test_password_never_printed(self):
        # doctor() checks every output for the password and its base64.
        for extra in ([], ["--format", "json"], ["-v"], ["--format", "html"]):
            with self.subTest(args=extra):
                code, out, err = self.doctor(["run", "--config", self.values] + extra)
                self.assertEqual(code, h.EXIT_OK, h.redact(err[-2000:]))
                if "-v" in extra:
                    self.assertIn("Authorization", err, "-v traced no request headers")

    def test_config_prints_the_file_not_the_password(self):
        settings = self.show("--config", self.values)
        self.assertEqual(settings["password-file"], (self.password_file, "%s:%d (oci.passwordFile)"
                                                     % (self.values, line_of(self.text, "oci",
                                                                             "passwordFile"))))
        self.assertEqual(settings["username"][0], USER)

    def test_wrong_password_file_fails(self):
        wrong = write(self.dir, "wrong-password", "wrong-" + PASSWORD + "\n", 0o600)
        h.add_secret("wrong-" + PASSWORD)
        values = write(self.dir, "wrong-values.yaml",
                       self.text.replace(self.password_file, wrong))
        code, report, err = self.doctor_json(["run", "--config", values])
        self.assertStatus(report, "credentials", "fail", err)
        self.assertExit(code, h.EXIT_FAIL, report, err)
        self.assertNotIn("wrong-" + PASSWORD, err + json.dumps(report))

    def test_unreadable_password_file(self):
        missing = os.path.join(self.dir, "no-such-password")
        values = write(self.dir, "missing-pw-values.yaml",
                       self.text.replace(self.password_file, missing))
        self.assertUsageError(["run", "--config", values], missing)


if __name__ == "__main__":
    unittest.main()
