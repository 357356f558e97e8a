"""A printed fix works when pasted: the commands a report suggests are run,
as printed, in a shell, against the registry they were printed for.

ocidoctor's own commands must repeat the run's settings (scheme, test
image, CA, credentials source, writes mode) and pass the check afterwards;
the other tools' commands (crane, oras, regctl from the interop directory)
must carry the flags that registry needs (plain HTTP, the private CA) and
succeed. The only edits a test makes to a printed command: secrets
(USER, $PASSWORD) and the source of `crane copy`, which names Docker Hub
and is replaced by an image on the same loopback registry (no network).

The interop clients come from $OCIDOCTOR_INTEROP_BIN, else the directory
shared/interop/bin beside the repository; without them those tests skip.
"""

import base64
import json
import os
import re
import shlex
import subprocess
import unittest

import harness as h
import scripted_registry as sr

PULL = "check.integration.oci.pull"
REFERRERS = "check.integration.oci.referrers"
CREDENTIALS = "check.integration.oci.credentials"
REGISTRY = "check.integration.oci.registry"
SEED = ("library/alpine", "latest")
DOCKER_HUB_ALPINE = "docker.io/library/alpine:latest"


def interop_bin():
    path = os.environ.get("OCIDOCTOR_INTEROP_BIN") or os.path.join(
        h.REPO_ROOT, "..", "shared", "interop", "bin")
    return os.path.abspath(path)


def need_tools(*names):
    missing = [n for n in names if not os.access(os.path.join(interop_bin(), n), os.X_OK)]
    if missing:
        h.missing_program("interop clients missing in %s (set OCIDOCTOR_INTEROP_BIN): %s"
                          % (interop_bin(), ", ".join(missing)))


def fix_commands(report, check, platform=None):
    """The fix commands of a check's result in a JSON report (or a platform's step)."""
    rem = h.result_of(report, check)["remediation"]
    if platform is None:
        return rem["fix"]["commands"]
    for step in rem["steps"]:
        if step["platform"] == platform:
            return step["commands"]
    raise AssertionError("no %s step in %r" % (platform, rem))


def one(commands, tool):
    """The command whose tool (its first word that is not VAR=value) is tool."""
    for c in commands:
        words = [w for w in shlex.split(c.split("&&")[-1].split("|")[-1]) if "=" not in w
                 or w.startswith("-")]
        if words and words[0] == tool:
            return c
    raise AssertionError("no %s command in %r" % (tool, commands))


class PastedFixCase(h.DoctorTestCase):

    def paste(self, command, extra_env=None):
        """Runs a printed command in sh, ocidoctor and the interop clients on PATH."""
        home = h.scratch_dir("paste-home-")
        env = h.doctor_env({"PATH": os.pathsep.join([
            os.path.dirname(os.path.abspath(h.doctor_binary())), interop_bin(),
            os.environ.get("PATH", "/usr/bin:/bin")])}, home=home)
        env.update(extra_env or {})
        proc = subprocess.run(["sh", "-c", command], env=env, capture_output=True,
                              timeout=120, text=True)
        return proc.returncode, proc.stdout, proc.stderr

    def assertPasteWorks(self, command, extra_env=None):
        code, out, err = self.paste(command, extra_env)
        self.assertEqual(code, 0, "%s\nstdout: %s\nstderr: %s" % (command, out, err))
        return out

    def assertCheckPasses(self, text_report, check):
        self.assertRegex(text_report, r"(?m)^\s*PASS\s+%s\b" % re.escape(check), text_report)


class PlainHttpTest(PastedFixCase):
    """A plain-HTTP registry on loopback, a test image that is not there yet,
    and --no-writes: the fixes must speak plain HTTP and keep the image and
    the writes mode."""

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(seed=[SEED]))

    def test_missing_image_fix_copies_it_and_the_rerun_passes(self):
        need_tools("crane")
        ref = "%s/team/app:1.0" % self.registry.host
        code, report, err = self.doctor_json(["run", "--plain-http", ref, "--no-writes",
                                              "--check", PULL])
        self.assertStatus(report, PULL, "warn", err)
        cmds = fix_commands(report, PULL)
        crane = one(cmds, "crane")
        self.assertIn("--insecure", crane)
        self.assertIn(ref, crane)
        again = one(cmds, "ocidoctor")
        for part in ("--registry %s" % self.registry.url, "--repository team/app",
                     "--tag 1.0", "--writes none"):
            self.assertIn(part, again)
        skopeo = one(fix_commands(report, PULL, "docker-compose"), "skopeo")
        self.assertIn("--dest-tls-verify=false", skopeo)
        self.assertIn("docker://%s" % ref, skopeo)
        # before the fix, the printed ocidoctor command does not pass
        code, out, err = self.paste(again)
        self.assertNotEqual(code, 0, out)
        self.assertPasteWorks(crane.replace(DOCKER_HUB_ALPINE,
                                            "%s/library/alpine:latest" % self.registry.host))
        self.assertCheckPasses(self.assertPasteWorks(again), PULL)
        self.assertEqual(self.registry.upload_sessions(), [])

    def test_referrers_fix_runs_with_oras_and_regctl(self):
        need_tools("oras", "regctl")
        code, report, err = self.doctor_json(["run", "--registry", self.registry.url,
                                              "--check", REFERRERS, "--check", PULL])
        self.assertStatus(report, REFERRERS, "warn", err)
        cmds = fix_commands(report, REFERRERS)
        oras = one(cmds, "oras")
        self.assertIn("--plain-http", oras)
        regctl = one(cmds, "regctl")
        self.assertIn("regctl registry set %s --tls disabled &&" % self.registry.host, regctl)
        self.assertNotRegex(" ".join(cmds), r"\b(REGISTRY|REPOSITORY|DIGEST)\b")
        self.assertPasteWorks(oras)
        self.assertPasteWorks(regctl)


class TlsCaTest(PastedFixCase):
    """TLS with a private CA and Basic auth, credentials from a docker
    config directory: every command must trust that CA and find those
    credentials."""

    USER, PASSWORD = "fixer", "pasted-fix-secret-1"

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(tls=True, users={cls.USER: cls.PASSWORD},
                                                   seed=[SEED]))
        auth = base64.b64encode(("%s:%s" % (cls.USER, cls.PASSWORD)).encode()).decode()
        cls.config_dir = h.write_docker_config(h.scratch_dir("paste-cfg-"), {
            "auths": {cls.registry.host: {"auth": auth}}})

    def base_args(self):
        return ["run", "--registry", self.registry.url, "--ca-file", self.registry.ca_file,
                "--docker-config", self.config_dir]

    def test_missing_image_fix_trusts_the_ca(self):
        need_tools("crane")
        code, report, err = self.doctor_json(self.base_args() + [
            "--repository", "team/tls-app", "--tag", "2.0", "--check", PULL])
        self.assertStatus(report, PULL, "warn", err)
        cmds = fix_commands(report, PULL)
        crane = one(cmds, "crane")
        self.assertIn("SSL_CERT_FILE=%s" % self.registry.ca_file, crane)
        self.assertIn("DOCKER_CONFIG=%s" % self.config_dir, crane)
        self.assertNotIn("--insecure", crane)
        again = one(cmds, "ocidoctor")
        for part in ("--ca-file %s" % self.registry.ca_file,
                     "--docker-config %s" % self.config_dir,
                     "--registry %s" % self.registry.url,
                     "--repository team/tls-app", "--tag 2.0"):
            self.assertIn(part, again)
        self.assertPasteWorks(crane.replace(DOCKER_HUB_ALPINE,
                                            "%s/library/alpine:latest" % self.registry.host))
        self.assertCheckPasses(self.assertPasteWorks(again), PULL)

    def test_referrers_fix_trusts_the_ca(self):
        need_tools("oras", "regctl")
        code, report, err = self.doctor_json(self.base_args() + [
            "--check", REFERRERS, "--check", PULL])
        self.assertStatus(report, REFERRERS, "warn", err)
        cmds = fix_commands(report, REFERRERS)
        oras = one(cmds, "oras")
        self.assertIn("--ca-file %s" % self.registry.ca_file, oras)
        self.assertIn("--registry-config %s/config.json" % self.config_dir, oras)
        self.assertNotIn("--plain-http", oras)
        regctl = one(cmds, "regctl")
        self.assertIn("--cacert", regctl)
        self.assertPasteWorks(oras)
        self.assertPasteWorks(regctl)


class MissingCredentialsTest(PastedFixCase):
    """Basic auth over TLS, and no credentials anywhere: the credentials
    check fails naming where it looked, the pull check's 401 gets the fix
    for missing credentials (not "name an image that exists"), and that
    fix, with the secrets filled in, passes both."""

    USER, PASSWORD = "needed", "pasted-fix-secret-2"

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(tls=True, users={cls.USER: cls.PASSWORD},
                                                   seed=[SEED]))

    def test_credentials_fail_and_the_fix_passes(self):
        empty = h.scratch_dir("paste-nocfg-")
        code, report, err = self.doctor_json([
            "run", "--registry", self.registry.url, "--ca-file", self.registry.ca_file,
            "--docker-config", empty, "--no-writes", "--check", CREDENTIALS, "--check", PULL])
        self.assertStatus(report, CREDENTIALS, "fail", err)
        cred = h.result_of(report, CREDENTIALS)
        self.assertIn("asks for a login (Basic challenge", cred["message"])
        self.assertIn("Give the credentials", cred["remediation"]["fix"]["text"])
        self.assertIn("looked at:", cred["message"])
        self.assertIn(empty, cred["message"])
        self.assertStatus(report, PULL, "fail", err)
        pull_fix = h.result_of(report, PULL)["remediation"]
        self.assertEqual(pull_fix["category"], "auth", pull_fix)
        cmd = one(pull_fix["fix"]["commands"], "ocidoctor")
        self.assertIn("--password-stdin", cmd)
        self.assertIn("--ca-file %s" % self.registry.ca_file, cmd)
        self.assertIn("--writes none", cmd)
        self.assertIn("USER", cmd)
        out = self.assertPasteWorks(cmd.replace("USER", self.USER) + " --check %s --check %s"
                                    % (CREDENTIALS, PULL), {"PASSWORD": self.PASSWORD})
        self.assertCheckPasses(out, CREDENTIALS)
        self.assertCheckPasses(out, PULL)


class DeniedDeleteTest(PastedFixCase):
    """A capability that is unknown because the registry said 401 gets the
    fix for credentials, not distribution's storage.delete.enabled."""

    USER, PASSWORD = "deleter", "pasted-fix-secret-3"

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(users={cls.USER: cls.PASSWORD},
                                                   seed=[SEED]))

    def test_denied_capabilities_get_the_credentials_fix(self):
        empty = h.scratch_dir("paste-nocfg-")
        code, report, err = self.doctor_json([
            "run", "--registry", self.registry.url, "--docker-config", empty,
            "--check", "check.integration.oci.capabilities"])
        caps = h.result_of(report, "capabilities")
        self.assertNotEqual(caps["status"], "pass", err)
        fix = caps["remediation"]["fix"]
        self.assertNotIn("storage.delete.enabled", fix["text"])
        self.assertEqual(caps["remediation"]["category"], "auth", caps["remediation"])
        self.assertIn("--password-stdin", " ".join(fix["commands"]))


class RateLimitTest(PastedFixCase):
    """The pull's manifest request answers 429 (Retry-After: 0) until the
    client has given up: the fix says to wait and run again, and its
    ocidoctor command, pasted after the limit lifts, passes the pull."""

    def test_rerun_after_the_limit_lifts_passes_the_pull(self):
        h.doctor_binary()
        answer = (429, {"Retry-After": "0", "RateLimit-Remaining": "0"},
                  sr.error_body("TOOMANYREQUESTS", "slow down"))
        # one request and the two retries a 429 gets, then normal answers
        reg = sr.ScriptedRegistry(override_first={
            ("HEAD", r"/v2/library/alpine/manifests/latest$"): (3, answer)}).start()
        self.addCleanup(reg.stop)
        code, report, err = self.doctor_json(["run", "--registry", reg.url, "--timeout", "10",
                                              "--check", REGISTRY, "--check", PULL])
        self.assertStatus(report, PULL, "fail", err)
        self.assertEqual(h.result_of(report, PULL)["remediation"]["category"], "rate-limit")
        again = one(fix_commands(report, PULL), "ocidoctor")
        self.assertIn("--registry %s" % reg.url, again)
        code, out, err = self.paste(again)
        self.assertCheckPasses(out, PULL)
        self.assertCheckPasses(out, REGISTRY)


class NoAnswerTest(PastedFixCase):
    """A registry that does not answer: HTTPS to a plain-HTTP server (the
    printed command switches to http:// and passes the registry check) and
    a closed port (the printed command names the same registry and fails
    the same way: it cannot pass while nothing listens)."""

    def test_wrong_scheme_fix_passes_the_registry_check(self):
        h.doctor_binary()
        reg = sr.ScriptedRegistry().start()
        self.addCleanup(reg.stop)
        code, report, err = self.doctor_json(["run", "--registry", "https://" + reg.host,
                                              "--check", REGISTRY])
        self.assertStatus(report, REGISTRY, "fail", err)
        again = one(fix_commands(report, REGISTRY), "ocidoctor")
        self.assertIn("--registry http://%s" % reg.host, again)
        code, out, err = self.paste(again)
        self.assertCheckPasses(out, REGISTRY)

    def test_dead_port_fix_names_the_registry_and_fails_the_same_way(self):
        url = "http://127.0.0.1:%d" % h.free_port()
        code, report, err = self.doctor_json(["run", "--registry", url, "--check", REGISTRY])
        self.assertStatus(report, REGISTRY, "fail", err)
        cause = h.result_of(report, REGISTRY)["details"]["cause"]
        self.assertEqual(cause, "refused", report)
        again = one(fix_commands(report, REGISTRY), "ocidoctor")
        self.assertIn("--registry %s" % url, again)
        code, out, err = self.paste(again)
        self.assertEqual(code, h.EXIT_FAIL, out + err)
        self.assertRegex(out, r"(?m)^\s*FAIL\s+%s\b.*refused" % re.escape(REGISTRY), out)
        self.assertNotIn("unknown option", err)


if __name__ == "__main__":
    unittest.main()
