"""ocidoctor serve's modules file and options, as a mistake or an attacker
writes them.

- A module's `registries` and `--allow-target` are host patterns matched
  literally: a module for [::1]:PORT sends its credentials to the registry
  on ::1 and to no look-alike; patterns that are not host patterns (old
  globs) are refused at start.
- Durations are plain decimal seconds: nan, inf, negative or exponent
  values are refused at start.
- A key given twice is refused, and the password is not echoed.
- Credentials files are read at load with a bound: a FIFO is refused at
  start and at reload at once, and a probe reads no file, so a FIFO put in
  place later cannot hold it past its deadline.
- YAML nested 200k levels deep is refused quickly, naming file and line.
"""

import json
import os
import socket
import time
import unittest

import faultserver as fs
import harness as h
import serve_harness as sh

SECRET = "s3rve-cfg-Pa55word-never-shown"
USER = "prober"


def ipv6_loopback_available():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def deep(head, levels=200000):
    return head + "[" * levels + "]" * levels + "\n"


class ServeConfigTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        if not ipv6_loopback_available():
            raise unittest.SkipTest("no IPv6 loopback")
        routes = {("*", r"^/"): fs.CHALLENGE}
        cls.v6 = cls.start_server(fs.FaultServer(routes, host="::1"))
        cls.v4 = cls.start_server(fs.FaultServer(routes))
        cls.dir = h.scratch_dir("serve-config-")
        cls.pw = os.path.join(cls.dir, "password")
        with open(cls.pw, "w") as f:
            f.write(SECRET + "\n")
        h.add_secret(SECRET)
        h.add_user_secrets(USER, SECRET)

    def secrets(self):
        return (SECRET, h.basic_auth_value(USER, SECRET))

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def module(self, name, registries, extra=""):
        return ("  %s:\n    checks: [\"*.registry\", \"*.credentials\"]\n"
                "    credentials: {username: %s, password_file: %s}\n"
                "    registries: %s\n%s" % (name, USER, self.pw, registries, extra))

    def authorized_during(self, fn):
        """Requests with an Authorization header that either server saw while fn ran."""
        before = (len(self.v6.requests()), len(self.v4.requests()))
        result = fn()
        seen = self.v6.requests()[before[0]:] + self.v4.requests()[before[1]:]
        return result, [r for r in seen if r["authorization"]]

    def serve_refused(self, args, config=None, timeout=20):
        """Runs serve expecting it to refuse its settings before it listens."""
        if config is not None:
            args = args + ["--config", self.write("refused.yaml", config)]
        started = time.monotonic()
        code, out, err = h.run_doctor(["serve", "--listen", "127.0.0.1:%d" % h.free_port()] + args,
                                      timeout=timeout)
        self.assertEqual(code, h.EXIT_USAGE, err)
        self.assertNoSecrets(self.secrets(), out, err)
        return err, time.monotonic() - started

    # -- host patterns --

    def test_ipv6_module_gets_its_credentials_and_look_alikes_do_not(self):
        port6, port4 = self.v6.port, self.v4.port
        config = "modules:\n" + self.module("v6", "['[::1]:%d']" % port6) + \
            self.module("v6_long", "['[0:0:0::1]:%d']" % port6)
        with sh.Exporter(config=config) as ex:
            for module in ("v6", "v6_long"):
                with self.subTest(module=module):
                    a, auth = self.authorized_during(
                        lambda: ex.probe("http://[::1]:%d" % port6, module=module, debug="true"))
                    self.assertEqual(a.status, 200, a)
                    self.assertNotIn("Credentials withheld", a.body)
                    self.assertTrue([r for r in auth if r["auth_scheme"] == "Basic"],
                                    "the registry on [::1]:%d got no credentials" % port6)
            for target in ("http://127.0.0.1:%d" % port4, "http://localhost:%d" % port6,
                           "http://localhost:%d" % port4, "http://[::1]:%d" % port4,
                           "http://[::ffff:127.0.0.1]:%d" % port4):
                with self.subTest(target=target):
                    a, auth = self.authorized_during(
                        lambda: ex.probe(target, module="v6", debug="true"))
                    self.assertEqual(a.status, 200, a)
                    self.assertIn("Credentials withheld", a.body)
                    self.assertEqual(auth, [], "credentials went to the look-alike %s" % target)
                    self.assertNoSecrets(self.secrets(), a.body)

    def test_allow_target_matches_ipv6_literally(self):
        port6, port4 = self.v6.port, self.v4.port
        with sh.Exporter("--allow-target", "[::1]:%d" % port6,
                         "--allow-target", "*.example:*") as ex:
            self.assertEqual(ex.probe("http://[::1]:%d" % port6).status, 200)
            self.assertEqual(ex.probe("http://[0::1]:%d" % port6).status, 200)
            for target in ("http://127.0.0.1:%d" % port4, "http://[::1]:%d" % port4,
                           "http://localhost:%d" % port6, "http://1:%d" % port6):
                with self.subTest(target=target):
                    a = ex.probe(target)
                    self.assertEqual(a.status, 400, a)
                    self.assertIn("allow-target", a.body)

    def test_patterns_that_are_not_host_patterns_are_refused_at_start(self):
        for pattern in ("reg?.example", "*", "[a-z]*.example", "::1", "reg.example:5*"):
            with self.subTest(allow_target=pattern):
                err, _ = self.serve_refused(["--allow-target", pattern])
                self.assertIn("--allow-target '%s' is not a host pattern" % pattern, err)
        config = "modules:\n" + self.module("m", "[ok.example, '*.corp.*']")
        err, _ = self.serve_refused([], config)
        self.assertRegex(err, r"refused\.yaml:5: registries: '\*\.corp\.\*' is not a host pattern")
        self.assertIn("*.DOMAIN", err)

    # -- durations --

    def test_durations_that_are_not_plain_seconds_are_refused_at_start(self):
        for value in ("nan", "inf", "-1", "1e1", "61", " 1"):
            with self.subTest(timeout_offset=value):
                err, _ = self.serve_refused(["--timeout-offset", value])
                self.assertIn("--timeout-offset", err)
        for key, value in (("timeout", "nan"), ("timeout", ".inf"), ("timeout", "-5"),
                           ("min_interval", "nan"), ("min_interval", "1e9")):
            with self.subTest(key=key, value=value):
                err, _ = self.serve_refused([], "modules:\n  m:\n    writes: probe\n"
                                                "    %s: %s\n" % (key, value))
                self.assertIn("refused.yaml:4: %s is a number of seconds" % key, err)

    # -- keys given twice --

    def test_a_key_given_twice_is_refused(self):
        config = "modules:\n" + self.module("m", "[ok.example]") + \
            "    credentials: {username: other, password_file: %s}\n" % self.pw
        err, _ = self.serve_refused([], config)
        self.assertIn("refused.yaml:6: module 'm': 'credentials' is given twice", err)

    # -- credentials files that could block --

    def fifo(self, name):
        path = os.path.join(self.dir, name)
        if os.path.lexists(path):
            os.unlink(path)
        os.mkfifo(path)
        return path

    def test_a_fifo_credentials_file_is_refused_at_start(self):
        fifo = self.fifo("pw-fifo")
        config = ("modules:\n  m:\n    credentials: {username: %s, password_file: %s}\n"
                  "    registries: [ok.example]\n" % (USER, fifo))
        err, took = self.serve_refused([], config)
        self.assertIn("cannot read the password file '%s': not a regular file" % fifo, err)
        self.assertLess(took, 10)
        docker = os.path.join(self.dir, "docker-fifo")
        os.makedirs(docker, exist_ok=True)
        self.fifo(os.path.join("docker-fifo", "config.json"))
        config = ("modules:\n  m:\n    credentials: {docker_config: %s}\n"
                  "    registries: [ok.example]\n" % docker)
        err, took = self.serve_refused([], config)
        self.assertIn("config.json': not a regular file", err)
        self.assertLess(took, 10)

    def test_a_fifo_after_start_cannot_hold_a_probe_or_a_reload(self):
        docker = h.write_docker_config(os.path.join(self.dir, "docker-later"), {"auths": {
            self.v4.host: {"auth": h.basic_auth_value(USER, SECRET)}}})
        config = ("modules:\n  d:\n    checks: [\"*.registry\", \"*.credentials\"]\n"
                  "    credentials: {docker_config: %s}\n    registries: ['%s']\n"
                  "    timeout: 3\n" % (docker, self.v4.host))
        with sh.Exporter("--web.enable-lifecycle", config=config) as ex:
            self.fifo(os.path.join("docker-later", "config.json"))
            started = time.monotonic()
            a, auth = self.authorized_during(
                lambda: ex.probe(self.v4.url, module="d", debug="true", timeout=30))
            self.assertLess(time.monotonic() - started, 10, "the probe waited on the FIFO")
            self.assertEqual(a.status, 200, a)
            self.assertTrue(auth, "the credentials read at start were not used")
            self.assertNoSecrets(self.secrets(), a.body)
            # a reload reads the files again: the FIFO is refused at once, the old config stays
            ex.write_config(config.replace("timeout: 3", "timeout: 4"))
            started = time.monotonic()
            r = ex.post("/-/reload")
            self.assertLess(time.monotonic() - started, 10, "the reload waited on the FIFO")
            self.assertEqual(r.status, 500, r)
            self.assertIn("not a regular file", r.body)
            self.assertEqual(ex.probe(self.v4.url, module="d", timeout=30).status, 200)

    # -- TLS files: refused as run refuses them --

    def tls_pair_mismatched(self):
        """A CA, and a certificate with the key of another (both readable PEM)."""
        directory = os.path.join(self.dir, "tls-%d" % h.free_port())
        os.makedirs(directory)
        ca, ca_key = h.make_ca(directory)
        cert, _ = h.make_server_cert(directory, ca, ca_key)
        return ca, cert, ca_key

    def run_refusal(self, *args):
        code, _, err = h.run_doctor(["run", "--registry", self.v4.url] + list(args))
        self.assertEqual(code, h.EXIT_USAGE, err)
        return err.strip()

    def test_unreadable_tls_files_are_refused_as_run_refuses_them(self):
        missing = os.path.join(self.dir, "no-such-ca.pem")
        ca, cert, wrong_key = self.tls_pair_mismatched()
        cases = [
            ("    ca_file: %s\n" % missing, ["--ca-file", missing],
             "cannot read %s '%s': No such file or directory"),
            ("    cert: %s\n    key: %s\n" % (cert, wrong_key), ["--cert", cert, "--key", wrong_key],
             "%s %s and %s %s do not match: the key is not the certificate's"),
        ]
        for module_keys, run_args, shape in cases:
            with self.subTest(run_args=run_args):
                config = "modules:\n  tls:\n" + module_keys
                err, _ = self.serve_refused([], config)
                run_err = self.run_refusal(*run_args)
                if "ca_file" in module_keys:
                    self.assertIn("module 'tls': " + shape % ("ca_file", missing), err)
                    self.assertIn(shape % ("--ca-file", missing), run_err)
                else:
                    self.assertIn("module 'tls': " + shape % ("cert", cert, "key", wrong_key), err)
                    self.assertIn(shape % ("--cert", cert, "--key", wrong_key), run_err)

    def test_a_reload_to_unreadable_tls_files_is_refused(self):
        missing = os.path.join(self.dir, "gone-ca.pem")
        config = "modules:\n  tls:\n    timeout: 3\n"
        with sh.Exporter("--web.enable-lifecycle", config=config) as ex:
            ex.write_config(config + "    ca_file: %s\n" % missing)
            r = ex.post("/-/reload")
            self.assertEqual(r.status, 500, r)
            self.assertIn("module 'tls': cannot read ca_file '%s': No such file or directory" % missing,
                          r.body)

    def test_insecure_counts_only_on_https_as_in_run(self):
        """Skipping TLS verification means nothing to a plain-HTTP registry: run
        does not report it there, and neither does a serve module."""
        config = "modules:\n  loose:\n    insecure: true\n    checks: [\"*.registry\"]\n"
        with sh.Exporter(config=config) as ex:
            a = ex.probe(self.v4.url, module="loose", format="json")
            self.assertEqual(a.status, 200, a)
            self.assertIs(json.loads(a.body)["insecure"], False)
        code, out, err = h.run_doctor(["run", "--registry", self.v4.url, "--insecure", "--format",
                                       "json", "--check", "check.integration.oci.registry"])
        self.assertIs(json.loads(out)["insecure"], False, err)

    # -- nesting --

    def test_deeply_nested_yaml_is_refused_quickly(self):
        err, took = self.serve_refused([], deep("modules:\n  m:\n    checks: "))
        self.assertRegex(err, r"refused\.yaml:3: nested deeper than 64 levels")
        self.assertLess(took, 5)
        targets = self.write("deep-targets.yaml", deep("- "))
        started = time.monotonic()
        code, out, err = h.run_doctor(["matrix", "--targets", targets], timeout=60)
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual(code, h.EXIT_USAGE, err)
        self.assertIn("%s:1: nested deeper than 64 levels" % targets, err)


if __name__ == "__main__":
    unittest.main()
