"""A docker config that names a credential helper that is not installed.

`credsStore: desktop` copied from a Docker Desktop machine must not stop a
probe: against a registry that asks for no login the run goes on
anonymously and the credentials check warns, naming the config file and
the helper; against one that asks for a login the credentials check fails
with the same names, and the pull's fix is the helper's, not "log in".
"""

import os
import re
import shutil

import harness as h

USER = "ocitester"
PASSWORD = "pw-missing-helper-3c1f"


def helper_env(bindir):
    """A PATH on which no docker-credential-desktop can be found."""
    return {"PATH": bindir + os.pathsep + "/usr/bin:/bin"}


class MissingHelperTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.open = cls.start_server(h.Registry(seed=[("library/alpine", "latest")]))
        cls.basic = cls.start_server(h.Registry(users={USER: PASSWORD},
                                                seed=[("library/alpine", "latest")]))
        cls.dir = h.scratch_dir("nohelper-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.bindir = os.path.join(cls.dir, "bin")
        os.makedirs(cls.bindir)
        cls.config = h.write_docker_config(os.path.join(cls.dir, "docker"),
                                           {"credsStore": "desktop", "auths": {}})
        cls.config_file = os.path.join(cls.config, "config.json")
        for d in ("/usr/bin", "/bin"):
            if os.path.exists(os.path.join(d, "docker-credential-desktop")):
                raise cls.skipTest(cls, "docker-credential-desktop is installed here")

    def secrets(self):
        return (PASSWORD,)

    def probe(self, registry, *extra):
        return self.doctor_json(["run", "--registry", registry.url, "--docker-config", self.config,
                                 "--check", "check.integration.oci.registry",
                                 "--check", "check.integration.oci.credentials",
                                 "--check", "check.integration.oci.pull"] + list(extra),
                                env=helper_env(self.bindir))

    def test_anonymous_registry_warns_and_goes_on(self):
        code, report, err = self.probe(self.open)
        self.assertStatus(report, "credentials", "warn", err)
        self.assertIn("credential helper", h.result_of(report, "credentials")
                      ["remediation"]["summary"])
        self.assertMessageMatches(report, "credentials",
                                  re.escape(self.config_file) + r": credential helper "
                                  r"docker-credential-desktop is not installed")
        self.assertStatus(report, "pull", "pass", err)
        self.assertExit(code, h.EXIT_WARN, report, err)

    def test_registry_that_needs_a_login_fails_naming_file_and_helper(self):
        code, report, err = self.probe(self.basic)
        self.assertStatus(report, "credentials", "fail", err)
        cred = h.result_of(report, "credentials")
        self.assertIn("credential helper", cred["remediation"]["summary"])
        self.assertIn(self.config_file, cred["message"])
        self.assertIn("docker-credential-desktop", cred["message"])
        self.assertIn("asks for a login", cred["message"])
        self.assertStatus(report, "pull", "fail", err)
        # the pull's fix is the helper's: install it or give the credential another way
        pull = h.result_of(report, "pull")["remediation"]
        self.assertIn("credential helper", pull["summary"])
        self.assertIn("helper", pull["fix"]["text"])
        self.assertExit(code, h.EXIT_FAIL, report, err)

    def test_text_report_names_the_file(self):
        code, out, err = self.doctor(["run", "--registry", self.basic.url, "--docker-config",
                                      self.config, "--no-color", "--check",
                                      "check.integration.oci.credentials"],
                                     env=helper_env(self.bindir))
        self.assertEqual(code, h.EXIT_FAIL, err)
        self.assertIn(self.config_file, out)
        self.assertIn("docker-credential-desktop", out)

    def test_matrix_probes_the_anonymous_target(self):
        targets = os.path.join(self.dir, "targets.txt")
        with open(targets, "w") as f:
            f.write("%s library/alpine:latest\n" % self.open.url)
        code, out, err = self.doctor(["matrix", "--targets", targets, "--docker-config",
                                      self.config, "--format", "json"],
                                     env=helper_env(self.bindir))
        self.assertIn(code, (h.EXIT_OK, h.EXIT_WARN), err)
        self.assertIn("docker-credential-desktop", out)
        self.assertNotIn("docker-credential-desktop is not installed", err)


if __name__ == "__main__":
    import unittest
    unittest.main()
