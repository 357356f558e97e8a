"""How users name what to probe, and the inputs refused before any request.

Docker Hub by any of its names (docker.io, index.docker.io,
registry-1.docker.io) is probed at https://registry-1.docker.io with the
credential docker config keeps under https://index.docker.io/v1/: a small
CONNECT proxy stands in for the internet and tunnels every connection to a
scriptable TLS registry with Basic authentication, recording which host the
client asked for. Image references (REGISTRY/REPOSITORY[:TAG|@DIGEST], as
the first argument or --image), --plain-http, --insecure on http://,
`help run` and -V run against a plain scriptable registry. The refusals
(exit 3, one line on stderr, no request sent) are checked against the same
server's request log.
"""

import json
import os
import re
import socket
import socketserver
import threading
import unittest

import harness as h
import scripted_registry as sr

HUB_USER, HUB_PASSWORD = "hubuser", "hub-secret-1e9c"


class _ConnectHandler(socketserver.BaseRequestHandler):
    """Answers one CONNECT by tunnelling to the server's target."""

    def handle(self):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        self.server.owner.connects.append(line)
        parts = line.split()
        if len(parts) != 3 or parts[0] != "CONNECT":
            self.request.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        upstream = socket.create_connection(("127.0.0.1", self.server.owner.target_port))
        self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        rest = head.split(b"\r\n\r\n", 1)[1]
        if rest:
            upstream.sendall(rest)
        pump = threading.Thread(target=self._pipe, args=(upstream, self.request), daemon=True)
        pump.start()
        self._pipe(self.request, upstream)
        pump.join(5)
        upstream.close()

    @staticmethod
    def _pipe(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class ConnectProxy(h.Service):
    """An HTTP CONNECT proxy on 127.0.0.1 that sends every tunnel to target_port."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.connects = []
        self._server = None
        self.port = None

    def start(self):
        self._server = _ProxyServer(("127.0.0.1", 0), _ConnectHandler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        h.serve_in_background(self._server, "connect-proxy")
        h._track(self)
        return self

    def stop(self):
        h._untrack(self)
        if self._server is not None:
            h.shut_down(self._server)
            self._server = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port


class DockerHubNamesTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        h.add_user_secrets(HUB_USER, HUB_PASSWORD)
        cls.hub = cls.start_server(sr.ScriptedRegistry(tls=True, auth="basic",
                                                       users={HUB_USER: HUB_PASSWORD}))
        cls.proxy = cls.start_server(ConnectProxy(cls.hub.port))
        cls.config_dir = h.scratch_dir("hub-docker-config-")
        h.write_docker_config(cls.config_dir, {"auths": {
            "https://index.docker.io/v1/": {"auth": h.basic_auth_value(HUB_USER, HUB_PASSWORD)}}})

    def secrets(self):
        return (HUB_PASSWORD, h.basic_auth_value(HUB_USER, HUB_PASSWORD))

    def hub_run(self, *args):
        env = {"HTTPS_PROXY": self.proxy.url, "NO_PROXY": None, "no_proxy": None}
        core = ["--check", "check.integration.oci.registry", "--check",
                "check.integration.oci.credentials", "--check", "check.integration.oci.pull"]
        return self.doctor_json(["run"] + list(args) + core +
                                ["--insecure", "--docker-config", self.config_dir], env=env)

    def test_every_hub_name_probes_registry_1_with_the_index_key(self):
        for name in ("docker.io", "index.docker.io", "registry-1.docker.io",
                     "https://docker.io"):
            with self.subTest(name=name):
                del self.proxy.connects[:]
                code, report, err = self.hub_run("--registry", name)
                self.assertTrue(self.proxy.connects, err)
                for line in self.proxy.connects:
                    self.assertEqual(line, "CONNECT registry-1.docker.io:443 HTTP/1.1")
                self.assertEqual(report["registry"], "https://registry-1.docker.io")
                self.assertStatus(report, "credentials", "pass", err)
                self.assertStatus(report, "pull", "pass", err)
                self.assertExit(code, h.EXIT_OK, report, err)

    def test_hub_image_reference_gets_library_namespace(self):
        code, report, err = self.hub_run("alpine")
        self.assertEqual(report["registry"], "https://registry-1.docker.io")
        self.assertEqual(report["repository"], "library/alpine")
        self.assertEqual(report["tag"], "latest")
        self.assertStatus(report, "pull", "pass", err)
        self.assertExit(code, h.EXIT_OK, report, err)


class ReferencesTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(sr.ScriptedRegistry())

    def test_positional_reference_with_digest(self):
        digest = self.registry.manifest_digest
        ref = "%s/library/alpine@%s" % (self.registry.url, digest)
        code, report, err = self.doctor_json(["run", ref, "--check", "check.integration.oci.pull"])
        self.assertEqual(report["registry"], self.registry.url)
        self.assertEqual(report["repository"], "library/alpine")
        self.assertEqual(report["tag"], digest)
        self.assertStatus(report, "pull", "pass", err)
        self.assertIn("library/alpine@" + digest, h.result_of(report, "pull")["message"])
        code, out, err = self.doctor(["run", "--image", ref, "--check",
                                      "check.integration.oci.pull"])
        self.assertExit(code, h.EXIT_OK, None, err)
        self.assertIn("library/alpine@" + digest, out)
        self.assertNotIn("library/alpine:" + digest, out)

    def test_reference_with_plain_http_and_tag(self):
        ref = "%s/library/alpine:latest" % self.registry.host
        code, report, err = self.doctor_json(["run", "--plain-http", ref, "--check",
                                              "check.integration.oci.pull"])
        self.assertEqual(report["registry"], self.registry.url)
        self.assertStatus(report, "pull", "pass", err)
        self.assertExit(code, h.EXIT_OK, report, err)

    def test_loopback_reference_without_scheme_is_plain_http(self):
        # as docker, crane and regctl: localhost, 127.0.0.0/8 and ::1 speak plain HTTP
        port = self.registry.url.rsplit(":", 1)[1]
        for host in ("127.0.0.1", "localhost"):
            with self.subTest(host=host):
                ref = "%s:%s/library/alpine:latest" % (host, port)
                code, report, err = self.doctor_json(["run", ref, "--check",
                                                      "check.integration.oci.pull"])
                self.assertEqual(report["registry"], "http://%s:%s" % (host, port))
                self.assertStatus(report, "pull", "pass", err)
                self.assertExit(code, h.EXIT_OK, report, err)

    def test_loopback_reference_with_https_written_keeps_https(self):
        code, report, err = self.doctor_json(["run", "https://%s/library/alpine:latest"
                                              % self.registry.host, "--check",
                                              "check.integration.oci.registry"])
        self.assertEqual(report["registry"], "https://" + self.registry.host)
        self.assertStatus(report, "registry", "fail", err)  # a plain HTTP server

    def test_registry_alone_probes_the_default_test_image(self):
        code, report, err = self.doctor_json(["run", self.registry.host, "--check",
                                              "check.integration.oci.pull"])
        self.assertEqual(report["registry"], self.registry.url)
        self.assertEqual(report["repository"], "library/alpine")
        self.assertEqual(report["tag"], "latest")
        self.assertRegex(err, r"^ocidoctor: '%s' names a registry, not an image: testing it "
                              r"with the test image library/alpine:latest"
                              % re.escape(self.registry.host))
        self.assertStatus(report, "pull", "pass", err)
        self.assertExit(code, h.EXIT_OK, report, err)

    def test_plain_http_flag_on_a_bare_address(self):
        code, report, err = self.doctor_json(["run", "--registry", self.registry.host,
                                              "--plain-http", "--check",
                                              "check.integration.oci.registry"])
        self.assertEqual(report["registry"], self.registry.url)
        self.assertStatus(report, "registry", "pass", err)

    def test_insecure_on_http_is_not_reported(self):
        code, out, err = self.doctor(["run", "--registry", self.registry.url, "--insecure",
                                      "--check", "check.integration.oci.registry"])
        self.assertExit(code, h.EXIT_OK, None, err)
        self.assertNotIn("TLS verification skipped", out)
        code, report, err = self.doctor_json(["run", "--registry", self.registry.url,
                                              "--insecure", "--check",
                                              "check.integration.oci.registry"])
        self.assertFalse(report["insecure"])
        self.assertNotIn("TLS", h.result_of(report, "registry")["message"])

    def refused(self, args, pattern, stdin=None):
        self.registry.clear_requests()
        code, out, err = self.doctor(args, stdin=stdin)
        self.assertEqual(code, h.EXIT_USAGE, (out, err))
        self.assertEqual(out, "")
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertRegex(err, pattern)
        self.assertEqual(self.registry.requests(), [], "no request before the refusal")
        return err

    def test_did_you_mean(self):
        url = self.registry.url
        config = os.path.join(h.scratch_dir("cfg-typo-"), "values.yaml")
        with open(config, "w") as f:
            f.write("ocidoctor:\n  timeot: 3\n")
        for args, pattern in (
                (["rnu", "--registry", url], r"unknown command 'rnu' \(did you mean 'run'\?"),
                (["run", "--registry", url, "--formt", "json"],
                 r"unknown option '--formt' \(did you mean --format\?"),
                (["run", "--registry", url, "--check", "refferers"],
                 r"no check matches 'refferers' \(did you mean "
                 r"check\.integration\.oci\.referrers\?"),
                (["run", "--registry", url, "--config", config],
                 r"unknown key 'timeot' \(did you mean 'timeout'\?\)"),
                (["explain", "pul"], r"unknown check 'pul' \(did you mean "
                                     r"check\.integration\.oci\.pull\?")):
            with self.subTest(args=args[0:1] + args[-2:]):
                self.refused(args, pattern)
        err = self.refused(["run", "--registry", url, "--check", "xyzzy"], r"no check matches")
        self.assertNotIn("did you mean", err)

    def test_a_check_named_by_its_last_segment(self):
        code, report, err = self.doctor_json(["run", "--registry", self.registry.url,
                                              "--check", "pull"])
        ran = [r["checkId"] for r in report["results"] if r["status"] != "skip"]
        self.assertEqual(ran, ["check.integration.oci.pull"], err)
        code, out, err = self.doctor(["explain", "--no-pager", "pull"])
        self.assertEqual(code, h.EXIT_OK, err)
        self.assertIn("check.integration.oci.pull", out.splitlines()[0])

    def test_repository_with_a_tag_says_use_tag(self):
        self.refused(["run", "--registry", self.registry.url, "--repository", "team/app:1.0"],
                     r"--repository team/app --tag 1\.0")

    def test_repository_with_a_tag_from_the_environment(self):
        code, out, err = self.doctor(["run", "--registry", self.registry.url],
                                     env={"OCI__TestRepository": "team/app:1.0"})
        self.assertEqual(code, h.EXIT_USAGE)
        self.assertRegex(err, r"^ocidoctor: OCI__TestRepository: invalid value 'team/app:1\.0': "
                              r"the tag or digest goes in --tag")

    def test_reference_and_registry_flag_conflict(self):
        self.refused(["run", self.registry.url + "/team/app", "--registry", self.registry.url],
                     r"drop --registry")

    def test_plain_http_contradicts_https(self):
        self.refused(["run", "--plain-http", "--registry", "https://" + self.registry.host],
                     r"--plain-http")

    def test_help_run_and_version(self):
        code, out, err = self.doctor(["help", "run"])
        self.assertEqual(code, h.EXIT_OK, err)
        self.assertIn("usage: ocidoctor run", out)
        self.assertIn("--plain-http", out)
        for flag in ("-V", "--version"):
            code, out, err = self.doctor([flag])
            self.assertEqual(code, h.EXIT_OK, err)
            self.assertRegex(out, r"^ocidoctor \d+\.\d+\.\d+\n$")
        code, _, err = self.doctor(["help", "nosuch"])
        self.assertEqual(code, h.EXIT_USAGE)

    # -- exit 3 before any request --

    def test_missing_tls_files_refused_also_on_http(self):
        missing = os.path.join(h.scratch_dir("tls-"), "nope.pem")
        for flag in ("--ca-file", "--cert", "--key"):
            with self.subTest(flag=flag):
                args = ["run", "--registry", self.registry.url, flag, missing]
                if flag == "--cert":
                    args += ["--key", missing]
                elif flag == "--key":
                    args += ["--cert", self.registry_file("cert.pem")]
                self.refused(args, r"cannot read %s '%s': No such file or directory"
                             % (flag, missing))
        directory = h.scratch_dir("tls-dir-")
        self.refused(["run", "--registry", self.registry.url, "--ca-file", directory],
                     r"Is a directory")

    def registry_file(self, name):
        path = os.path.join(h.scratch_dir("files-"), name)
        with open(path, "w") as f:
            f.write("x\n")
        return path

    def test_empty_password_refused(self):
        empty = os.path.join(h.scratch_dir("pw-"), "empty")
        with open(empty, "w") as f:
            f.write("\n")
        self.refused(["run", "--registry", self.registry.url, "--username", "u",
                      "--password-file", empty], r"password from .*empty.* is empty")
        self.refused(["run", "--registry", self.registry.url, "--username", "u",
                      "--password-stdin"], r"password from standard input is empty", stdin="\n")
        self.refused(["run", "--registry", self.registry.url, "--username", "u",
                      "--password-file", empty + ".missing"],
                     r"No such file or directory")

    def test_config_values_named_by_their_source(self):
        path = os.path.join(h.scratch_dir("cfg-"), "values.yaml")
        with open(path, "w") as f:
            f.write("oci:\n  testRepository: team/app\n  registryUrl: ftp://x\n")
        self.refused(["run", "--config", path],
                     r"^ocidoctor: %s:3: oci\.registryUrl: invalid value 'ftp://x'" % path)
        code, out, err = self.doctor(["run", "--check", "check.integration.oci.registry"],
                                     env={"OCI__RegistryUrl": "http://a b"})
        self.assertEqual(code, h.EXIT_USAGE)
        self.assertRegex(err, r"^ocidoctor: OCI__RegistryUrl: invalid value 'http://a b'")
        code, out, err = self.doctor(["run", "--registry", self.registry.url],
                                     env={"OCIDOCTOR_TIMEOUT": "soon"})
        self.assertEqual(code, h.EXIT_USAGE)
        self.assertRegex(err, r"^ocidoctor: OCIDOCTOR_TIMEOUT: invalid value 'soon'")
        self.assertNotIn("--timeout", err)
        ca = os.path.join(h.scratch_dir("cfg-ca-"), "missing.pem")
        with open(path, "w") as f:
            f.write("ocidoctor:\n  caFile: %s\n" % ca)
        self.refused(["run", "--registry", self.registry.url, "--config", path],
                     r"%s:2: ocidoctor\.caFile: cannot read '%s': No such file" % (path, ca))

    def test_selection_from_the_environment_named_by_it(self):
        code, out, err = self.doctor(["run", "--registry", self.registry.url],
                                     env={"OCIDOCTOR_CHECKS": "check.nosuch"})
        self.assertEqual(code, h.EXIT_USAGE)
        self.assertRegex(err, r"^ocidoctor: OCIDOCTOR_CHECKS: invalid value 'check\.nosuch'")
        path = os.path.join(h.scratch_dir("cfg-tags-"), "values.yaml")
        with open(path, "w") as f:
            f.write("ocidoctor:\n  tags: [registry, nosuchtag]\n")
        self.refused(["run", "--registry", self.registry.url, "--config", path],
                     r"%s:2: ocidoctor\.tags: invalid value 'nosuchtag'" % path)

    def test_config_file_os_reason(self):
        directory = h.scratch_dir("cfg-dir-")
        self.refused(["run", "--registry", self.registry.url, "--config", directory],
                     r"cannot read the config file '%s': Is a directory" % directory)

    def test_config_command_validates_and_has_json(self):
        code, out, err = self.doctor(["config", "--format", "json", self.registry.url +
                                      "/team/app:1.0", "--fail-on", "fail"])
        self.assertEqual(code, h.EXIT_OK, err)
        settings = json.loads(out)
        self.assertEqual(settings["registry"], {"value": self.registry.url,
                                                "source": "argument IMAGE"})
        self.assertEqual(settings["repository"]["value"], "team/app")
        self.assertEqual(settings["tag"]["value"], "1.0")
        self.assertEqual(settings["fail-on"], {"value": "fail", "source": "flag --fail-on"})
        self.assertEqual(settings["format"], {"value": "text", "source": "default"})
        self.assertEqual(settings["timeout"]["value"], 30)
        self.assertIs(settings["insecure"]["value"], False)
        for bad, pattern in ((["--registry", self.registry.url, "--fail-on", "sometimes"],
                              r"--fail-on"),
                             (["--registry", self.registry.url, "--ca-file", "/nonexistent"],
                              r"No such file"),
                             (["--registry", self.registry.url, "--check", "nosuch"],
                              r"no check matches"),
                             ([], r"no registry given")):
            with self.subTest(args=bad):
                code, out, err = self.doctor(["config"] + bad)
                self.assertEqual(code, h.EXIT_USAGE, (out, err))
                self.assertRegex(err, pattern)


if __name__ == "__main__":
    unittest.main()
