"""run and matrix are two front ends over one core and one settings path.

Against the same distribution 2.8 registry (htpasswd, seeded) with the
same config file, `run` and `matrix` give the same verdict for every
check. matrix takes the settings run takes, from the same sources: the
config file, the environment, credentials from flags, the docker config
and the password file, --tags and --fail-on, with run's credential policy
(a broken source is exit 3 before any request).
"""

import json
import os
import shutil
import secrets
import unittest

import harness as h

USER = "fleetuser"
PASSWORD = "pw-" + secrets.token_hex(12)


class FrontEndsTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(users={USER: PASSWORD},
                                                   seed=[("library/alpine", "latest")]))
        cls.dir = h.scratch_dir("front-ends-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.docker_dir = os.path.join(cls.dir, "docker")
        os.makedirs(cls.docker_dir)
        h.write_docker_config(cls.docker_dir, {
            "auths": {cls.registry.host: {"auth": h.basic_auth_value(USER, PASSWORD)}}})
        cls.broken_dir = os.path.join(cls.dir, "broken")
        os.makedirs(cls.broken_dir)
        with open(os.path.join(cls.broken_dir, "config.json"), "w") as f:
            f.write("{ not json")
        cls.password_file = os.path.join(cls.dir, "password")
        with open(cls.password_file, "w") as f:
            f.write(PASSWORD + "\n")

    def secrets(self):
        return (PASSWORD, h.basic_auth_value(USER, PASSWORD))

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def config(self, extra="", name="ocidoctor.yaml"):
        return self.write(name, "oci:\n  registryUrl: %s\n  testRepository: library/alpine\n"
                          "  dockerConfig: %s\n%s" % (self.registry.url, self.docker_dir, extra))

    def targets(self):
        return self.write("targets.txt", "%s\n" % self.registry.url)

    def run_verdicts(self, *args, env=None):
        code, report, err = self.doctor_json(["run"] + list(args), env=env)
        return code, {r["checkId"]: r["status"] for r in report["results"]}, err

    def matrix_verdicts(self, *args, env=None):
        code, out, err = self.doctor(["matrix", "--no-progress", "--format", "json",
                                      "--targets", self.targets()] + list(args), env=env)
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
        self.assertEqual(len(rows), 1, out + err)
        return code, rows[0]["checks"], err

    def test_same_config_same_verdicts(self):
        cfg = self.config()
        run_code, run, err = self.run_verdicts("--config", cfg)
        self.assertEqual(run[h.CHECK_PREFIX + "credentials"], "pass", err)
        self.assertEqual(run[h.CHECK_PREFIX + "pull"], "pass", err)
        m_code, fleet, err = self.matrix_verdicts("--config", cfg)
        self.assertEqual(fleet, run, err)
        self.assertEqual(m_code, run_code, err)

    def test_environment_config_and_docker_config(self):
        env = {"OCIDOCTOR_CONFIG": self.config(), "OCIDOCTOR_TAGS": "auth"}
        _, run, _ = self.run_verdicts(env=env)
        code, fleet, err = self.matrix_verdicts(env=env)
        self.assertEqual(fleet, run, err)
        self.assertEqual(fleet[h.CHECK_PREFIX + "credentials"], "pass", err)
        self.assertNotIn(h.CHECK_PREFIX + "registry", fleet)

    def test_tags_select_the_same_checks(self):
        cfg = self.config()
        _, run, _ = self.run_verdicts("--config", cfg, "--tags", "oci-1.1")
        _, fleet, err = self.matrix_verdicts("--config", cfg, "--tags", "oci-1.1")
        self.assertEqual(sorted(fleet), sorted(run), err)
        _, all_checks, _ = self.matrix_verdicts("--config", cfg)
        self.assertLess(len(fleet), len(all_checks))

    def test_writes_like_run(self):
        artifacts = h.CHECK_PREFIX + "artifacts"
        verify_cfg = self.config("  writes: verify\n", "verify.yaml")
        cases = (("none", ["--config", self.config(), "--writes", "none"], None),
                 ("none", ["--config", self.config()], {"OCIDOCTOR_WRITES": "none"}),
                 ("verify", ["--config", self.config(), "--writes", "verify"], None),
                 ("verify", ["--config", verify_cfg], None))
        for mode, args, env in cases:
            with self.subTest(mode=mode, args=args, env=env):
                _, run, _ = self.run_verdicts(*args, env=env)
                _, fleet, err = self.matrix_verdicts(*args, env=env)
                self.assertEqual(fleet, run, err)
                if mode == "none":
                    self.assertEqual(fleet[artifacts], "skip", err)
                    self.assertEqual(fleet[h.CHECK_PREFIX + "push"], "skip", err)
                else:
                    self.assertNotEqual(fleet[artifacts], "skip", err)

    def test_password_file_credentials(self):
        _, fleet, err = self.matrix_verdicts("--username", USER, "--password-file",
                                             self.password_file)
        self.assertEqual(fleet[h.CHECK_PREFIX + "credentials"], "pass", err)
        self.assertEqual(fleet[h.CHECK_PREFIX + "pull"], "pass", err)

    def test_fail_on(self):
        # anonymous: the registry refuses the pull, so the worst status is fail
        env = {"DOCKER_CONFIG": os.path.join(self.dir, "none")}
        code, fleet, err = self.matrix_verdicts(env=env)
        self.assertNotEqual(code, h.EXIT_OK, fleet)
        self.assertIn(code, (h.EXIT_WARN, h.EXIT_FAIL), err)
        code, _, err = self.matrix_verdicts("--fail-on", "never", env=env)
        self.assertEqual(code, h.EXIT_OK, err)
        cfg = self.write("never.yaml", "oci:\n  failOn: never\n")
        code, _, err = self.matrix_verdicts("--config", cfg, env=env)
        self.assertEqual(code, h.EXIT_OK, err)

    def test_broken_credentials_is_a_usage_error_like_run(self):
        run_code, _, run_err = h.run_doctor(["run", "--registry", self.registry.url,
                                             "--docker-config", self.broken_dir])
        code, out, err = self.doctor(["matrix", "--no-progress", "--targets", self.targets(),
                                      "--docker-config", self.broken_dir])
        self.assertEqual(run_code, h.EXIT_USAGE, run_err)
        self.assertEqual(code, h.EXIT_USAGE, err)
        self.assertEqual(out, "")
        self.assertEqual(err, run_err)

    def test_bad_config_value_named_by_its_source(self):
        cfg = self.write("bad.yaml", "oci:\n  failOn: sometimes\n")
        code, _, err = self.doctor(["matrix", "--targets", self.targets(), "--config", cfg])
        self.assertEqual(code, h.EXIT_USAGE, err)
        self.assertIn("bad.yaml:2", err)
        code, _, err = self.doctor(["matrix", "--targets", self.targets()],
                                   env={"OCIDOCTOR_FAIL_ON": "sometimes"})
        self.assertEqual(code, h.EXIT_USAGE, err)
        self.assertIn("OCIDOCTOR_FAIL_ON", err)

    def test_password_stdin_and_targets_stdin(self):
        code, out, err = self.doctor(["matrix", "--targets", "-", "--username", USER,
                                      "--password-stdin"], stdin=self.registry.url + "\n")
        self.assertEqual(code, h.EXIT_USAGE, err)
        self.assertIn("standard input", err)

    def test_registry_flag_is_refused(self):
        code, _, err = self.doctor(["matrix", "--targets", self.targets(),
                                    "--registry", self.registry.url])
        self.assertEqual(code, h.EXIT_USAGE, err)
        self.assertIn("--targets", err)


if __name__ == "__main__":
    unittest.main()
