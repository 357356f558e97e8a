"""Hostile inputs and hostile servers: the second security review.

Each test pins one finding of that review: the matrix dispatcher under a
flood of short-lived jobs on one CPU, bounds on numbers and outputs,
report files, the targets file, and server text that tries to inject
markup into reports. The servers are the scriptable registry and the fault
server on loopback; nothing here needs docker-registry.
"""

import json
import os
import shutil
import signal
import socket
import ssl
import stat
import struct
import subprocess
import threading
import time
import unittest

import harness as h
import faultserver as fs
import scripted_registry as sr

SIGNATURE = "b1d3c0ffee5ignature0f5ecret"


def refused_url():
    return "http://127.0.0.1:%d" % h.free_port()


class MatrixFloodTest(h.DoctorTestCase):
    """Thousands of targets that fail at once, far more than one CPU can run:
    each job frees itself the moment it ends, so the dispatcher must never
    touch a job after starting it (a use-after-free under ASan and TSan)."""

    def test_thousands_of_refused_targets_on_one_cpu(self):
        directory = h.scratch_dir("flood-")
        path = os.path.join(directory, "targets.txt")
        # under valgrind (OCIDOCTOR_WRAPPER) a tenth is plenty and still races
        count = 300 if os.environ.get("OCIDOCTOR_WRAPPER") else 3000
        with open(path, "w") as f:
            f.write("%s\n" % refused_url() * count)
        args = ["matrix", "--no-progress", "--targets", path, "--parallel", "256",
                "--format", "json", "--check", "check.integration.oci.registry"]
        pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
        wrapper = os.environ.get("OCIDOCTOR_WRAPPER", "").split()
        home = h.scratch_dir("home-")
        proc = subprocess.run(pin + wrapper + [os.path.abspath(h.doctor_binary())] + args, cwd=home, input="",
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=h.doctor_env(None, home), timeout=600,
                              encoding="utf-8", errors="replace")
        self.assertEqual(proc.returncode, h.EXIT_FAIL, proc.stderr[-2000:])
        self.assertEqual(len(proc.stdout.splitlines()), count)
        self.assertNotIn("Sanitizer", proc.stderr)

    SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <time.h>

/* pthread_create that returns only after the new thread had 300 ms to run (and end) */
int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
	static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
	struct timespec ts = { 0, 300 * 1000 * 1000 };
	int ret;

	if (!real)
		real = (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))
			dlsym(RTLD_NEXT, "pthread_create");
	ret = real(t, a, fn, arg);
	nanosleep(&ts, NULL);
	return ret;
}
"""

    @unittest.skipUnless(shutil.which("cc") and shutil.which("valgrind"), "needs cc and valgrind")
    def test_a_job_that_ends_before_pthread_create_returns(self):
        """The flood's race made certain: every pthread_create returns late,
        so each job has ended (and freed itself) by then. Under valgrind,
        touching the job afterwards is an invalid read (exit 99)."""
        binary = os.path.abspath(h.doctor_binary())
        with open(binary, "rb") as f:
            image = f.read()
        if b"__asan_init" in image or b"__tsan_init" in image:
            self.skipTest("a sanitizer build: its pthread_create cannot be delayed from outside")
        directory = h.scratch_dir("late-create-")
        shim = os.path.join(directory, "late_create.so")
        with open(os.path.join(directory, "late_create.c"), "w") as f:
            f.write(self.SHIM)
        subprocess.run(["cc", "-shared", "-fPIC", "-o", shim,
                        os.path.join(directory, "late_create.c"), "-ldl"], check=True)
        path = os.path.join(directory, "targets.txt")
        with open(path, "w") as f:
            f.write("%s\n" % refused_url() * 3)
        home = h.scratch_dir("home-")
        env = h.doctor_env({"LD_PRELOAD": shim}, home)
        proc = subprocess.run(["valgrind", "-q", "--error-exitcode=99", binary, "matrix",
                               "--no-progress", "--targets", path, "--parallel", "4",
                               "--format", "json", "--check", "check.integration.oci.registry"],
                              cwd=home, input="", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=env, timeout=300, encoding="utf-8", errors="replace")
        self.assertNotIn("Invalid read", proc.stderr)
        self.assertEqual(proc.returncode, h.EXIT_FAIL, proc.stderr[-3000:])
        self.assertEqual(len(proc.stdout.splitlines()), 3)


class MatrixTargetsTest(h.DoctorTestCase):
    """The targets file is read once: a FIFO, standard input ("-" or
    /dev/stdin) work; a directory, an empty file, a file with no target, an
    overlong line and an oversized file are usage errors before any request."""

    @classmethod
    def setUpClass(cls):
        cls.server = cls.start_server(fs.FaultServer())
        cls.dir = h.scratch_dir("targets-")

    def matrix(self, targets, stdin=None):
        return self.doctor(["matrix", "--no-progress", "--format", "json", "--targets", targets,
                            "--check", "check.integration.oci.registry"], stdin=stdin)

    def fleet(self, n=2):
        return "# fleet\n" + "".join("%s team/app%d\n" % (self.server.url, i) for i in range(n))

    def assertRows(self, result, n):
        code, out, err = result
        self.assertEqual(code, h.EXIT_OK, err)
        self.assertEqual(len(out.splitlines()), n, out)

    def test_a_fifo_is_read_once(self):
        path = os.path.join(self.dir, "fifo")
        os.mkfifo(path)
        self.addCleanup(os.unlink, path)

        def feed():
            with open(path, "w") as f:
                f.write(self.fleet(3))
        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        self.assertRows(self.matrix(path), 3)
        writer.join(5)

    def test_standard_input(self):
        self.assertRows(self.matrix("-", stdin=self.fleet(2)), 2)
        self.assertRows(self.matrix("/dev/stdin", stdin=self.fleet(2)), 2)
        yaml = "- registry: %s\n  repository: team/y\n" % self.server.url
        self.assertRows(self.matrix("-", stdin=yaml), 1)

    def test_a_read_error_is_not_the_end_of_the_file(self):
        # standard input is a TCP connection the other end reset: read() fails
        # with ECONNRESET after a first chunk of good targets
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
        listener.close()
        server.sendall(self.fleet(2).encode())
        time.sleep(0.1)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        server.close()
        time.sleep(0.1)
        try:
            home = h.scratch_dir("home-")
            proc = subprocess.run([os.path.abspath(h.doctor_binary()), "matrix", "--targets",
                                   "/dev/stdin", "--check", "check.integration.oci.registry"],
                                  cwd=home, stdin=client, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=h.doctor_env(None, home),
                                  timeout=60, encoding="utf-8", errors="replace")
        finally:
            client.close()
        self.assertEqual(proc.returncode, h.EXIT_USAGE, proc.stderr)
        self.assertIn("cannot read the targets file '/dev/stdin': Connection reset", proc.stderr)

    def test_unusable_targets_files_are_usage_errors(self):
        def write(name, text):
            path = os.path.join(self.dir, name)
            with open(path, "w") as f:
                f.write(text)
            return path
        big = os.path.join(self.dir, "big.txt")
        with open(big, "w") as f:
            f.write(self.server.url + " " + "a" * (17 << 20))
        cases = {
            "a directory": (self.dir, "is a directory"),
            "an empty file": (write("empty.txt", ""), "no targets"),
            "only comments": (write("comments.txt", "# nothing\n\n   \n"), "no targets"),
            "empty standard input": ("-", "no targets"),
            "an overlong line": (write("long.txt", "%s team/%s\n" % (self.server.url, "a" * 5000)),
                                 ":1: a line is longer than 4096 bytes"),
            "a NUL byte": (write("nul.txt", "%s team/a\0b\n" % self.server.url), "NUL"),
            "an oversized file": (big, "larger than 16 MiB"),
        }
        for name, (path, wanted) in cases.items():
            with self.subTest(name):
                before = len(self.server.requests())
                code, out, err = self.matrix(path, stdin="")
                self.assertEqual(code, h.EXIT_USAGE, err)
                self.assertIn(wanted, err)
                self.assertEqual(len(err.strip().splitlines()), 1, err)
                self.assertEqual(len(self.server.requests()), before, "a request was sent")


class OutputsTest(h.DoctorTestCase):
    """Numbers that would overflow, reports that cannot be written, and -o."""

    @classmethod
    def setUpClass(cls):
        cls.server = cls.start_server(fs.FaultServer())
        cls.dir = h.scratch_dir("outputs-")

    def run_args(self, *extra):
        return ["run", "--registry", self.server.url, "--check", "check.integration.oci.registry",
                "--timeout", "10"] + list(extra)

    def spawn(self, args, stdout):
        """Runs the binary with stdout on the given descriptor; returns (code, stderr)."""
        home = h.scratch_dir("home-")
        proc = subprocess.run([os.path.abspath(h.doctor_binary())] + args, cwd=home, input="", stdout=stdout,
                              stderr=subprocess.PIPE, env=h.doctor_env(None, home), timeout=60,
                              encoding="utf-8", errors="replace")
        return proc.returncode, proc.stderr

    def test_a_timeout_too_large_to_multiply_is_a_usage_error(self):
        for command in (["run", "--registry", refused_url()],
                        ["matrix", "--targets", "/dev/null"]):
            with self.subTest(command[0]):
                code, out, err = self.doctor(command + ["--timeout", "9223372036854775"])
                self.assertEqual(code, h.EXIT_USAGE, err)
                self.assertIn("--timeout is at most 86400", err)
                self.assertNotIn("runtime error", err)
        code, _, err = self.doctor(["run", "--registry", refused_url()],
                                   env={"OCIDOCTOR_TIMEOUT": "9223372036854775807"})
        self.assertEqual(code, h.EXIT_USAGE, err)

    def test_a_closed_pipe_ends_quietly_by_sigpipe(self):
        # like git and coreutils (`ocidoctor matrix ... | head -3`): no message,
        # the process ends by SIGPIPE (141 in a shell), not exit 4
        path = os.path.join(self.dir, "pipe-fleet.txt")
        with open(path, "w") as f:
            f.write(self.server.url + "\n")
        commands = [("run " + fmt, self.run_args("--format", fmt)) for fmt in ("text", "json")]
        commands += [("matrix", ["matrix", "--no-progress", "--targets", path, "--check",
                                 "check.integration.oci.registry"]),
                     ("explain", ["explain", "--no-pager", "check.integration.oci.pull"])]
        for name, args in commands:
            with self.subTest(name):
                r, w = os.pipe()
                os.close(r)
                try:
                    code, err = self.spawn(args, w)
                finally:
                    os.close(w)
                self.assertEqual(code, -signal.SIGPIPE, "exit %d: %s" % (code, err))
                self.assertEqual(err, "")

    def test_a_full_disk_is_exit_4_with_a_message(self):
        with open("/dev/full", "w") as full:
            code, err = self.spawn(self.run_args("--format", "json"), full)
        self.assertEqual(code, 4, err)
        self.assertIn("cannot write the report to standard output: No space left on device", err)
        with open("/dev/full", "w") as full:
            path = os.path.join(self.dir, "fleet.txt")
            with open(path, "w") as f:
                f.write(self.server.url + "\n")
            code, err = self.spawn(["matrix", "--no-progress", "--targets", path, "--check",
                                    "check.integration.oci.registry"], full)
        self.assertEqual(code, 4, err)
        self.assertIn("cannot write the table to standard output", err)

    def test_reports_are_private_files(self):
        path = os.path.join(self.dir, "report.json")
        code, out, err = self.doctor(self.run_args("--format", "json", "-o", path))
        self.assertEqual(code, h.EXIT_OK, err)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        os.chmod(path, 0o644)
        code, out, err = self.doctor(self.run_args("--format", "json", "-o", path))
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        table = os.path.join(self.dir, "table.csv")
        targets = os.path.join(self.dir, "one.txt")
        with open(targets, "w") as f:
            f.write(self.server.url + "\n")
        code, out, err = self.doctor(["matrix", "--no-progress", "--targets", targets, "--check",
                                      "check.integration.oci.registry", "-o", table])
        self.assertEqual(stat.S_IMODE(os.stat(table).st_mode), 0o600, err)

    def test_an_unwritable_output_is_refused_before_any_request(self):
        victim = os.path.join(self.dir, "victim")
        with open(victim, "w") as f:
            f.write("precious\n")
        link = os.path.join(self.dir, "link.json")
        if not os.path.lexists(link):
            os.symlink(victim, link)
        dangling = os.path.join(self.dir, "dangling.json")
        if not os.path.lexists(dangling):
            os.symlink(os.path.join(self.dir, "nowhere", "x"), dangling)
        targets = os.path.join(self.dir, "one.txt")
        with open(targets, "w") as f:
            f.write(self.server.url + "\n")
        cases = {"a symlink": link, "a dangling symlink": dangling, "a directory": self.dir,
                 "a missing directory": os.path.join(self.dir, "missing", "r.json")}
        for name, path in cases.items():
            for command in (self.run_args("-o", path),
                            ["matrix", "--targets", targets, "-o", path]):
                with self.subTest(name, command=command[0]):
                    before = len(self.server.requests())
                    code, out, err = self.doctor(command)
                    self.assertEqual(code, h.EXIT_USAGE, err)
                    self.assertIn(path, err)
                    self.assertEqual(len(err.strip().splitlines()), 1, err)
                    self.assertEqual(len(self.server.requests()), before, "a request was sent")
        with open(victim) as f:
            self.assertEqual(f.read(), "precious\n")
        # a symbolic link to a device is what /dev/stdout is: still allowed
        code, out, err = self.doctor(self.run_args("-o", "/dev/stdout", "--format", "json"))
        self.assertEqual(code, h.EXIT_OK, err)
        self.assertIn('"results"', out)


class UserinfoTest(h.DoctorTestCase):
    """A registry URL with a password in it is refused, and the password
    is not repeated by the refusal, by `config`, or by matrix."""

    PASSWORD = "u5erinfo-s3cret"

    def secrets(self):
        return (self.PASSWORD,)

    def test_the_password_of_a_userinfo_url_is_never_echoed(self):
        url = "http://alice:%s@127.0.0.1:%d" % (self.PASSWORD, h.free_port())
        code, out, err = self.doctor(["run", "--registry", url])
        self.assertEqual(code, h.EXIT_USAGE, err)
        self.assertIn("user information", err)
        code, out, err = self.doctor(["run"], env={"OCI__RegistryUrl": url})
        self.assertEqual(code, h.EXIT_USAGE, err)
        # config shows what run would refuse, and refuses it as run does
        code, out, err = self.doctor(["config", "--registry", url])
        self.assertEqual(code, h.EXIT_USAGE, err)
        self.assertIn("<redacted>@127.0.0.1", out)
        self.assertIn("<redacted>@127.0.0.1", err)
        directory = h.scratch_dir("userinfo-")
        path = os.path.join(directory, "targets.txt")
        with open(path, "w") as f:
            f.write(url + "\n")
        code, out, err = self.doctor(["matrix", "--targets", path])
        self.assertEqual(code, h.EXIT_USAGE, err)
        config = os.path.join(directory, "c.yaml")
        with open(config, "w") as f:
            f.write("oci:\n  registryUrl: %s\n" % url)
        code, out, err = self.doctor(["config", "--config", config])
        self.assertIn("<redacted>@", out)
        code, out, err = self.doctor(["run", "--config", config])
        self.assertEqual(code, h.EXIT_USAGE, err)


class CredentialHelperTest(h.DoctorTestCase):
    """A credential helper inherits nothing but its three standard streams,
    and its exit ends the wait even when a child it left behind keeps its
    stdout open."""

    @classmethod
    def setUpClass(cls):
        cls.server = cls.start_server(fs.FaultServer())
        cls.dir = h.scratch_dir("helper-")
        script = ("#!/bin/sh\n"
                  "cat >/dev/null\n"
                  "ls -l /proc/self/fd > '{d}'/fds.$$ 2>&1\n"
                  "sleep 30 &\n"
                  "echo $! >> '{d}/background.pids'\n"
                  "printf '%s\\n' '{{\"ServerURL\":\"\",\"Username\":\"u\",\"Secret\":\"helper-s3cret\"}}'\n"
                  "exit 0\n").format(d=cls.dir)
        h._write(os.path.join(cls.dir, "docker-credential-lingering"), script, 0o755)
        # three hosts for one server: a helper runs once per host (and process)
        cls.hosts = [cls.server.host, "localhost:%d" % cls.server.port,
                     "127.0.0.2:%d" % cls.server.port]
        h.write_docker_config(cls.dir, {"credHelpers": {host: "lingering" for host in cls.hosts}})
        cls.addClassCleanup(cls.kill_background)

    @classmethod
    def kill_background(cls):
        try:
            with open(os.path.join(cls.dir, "background.pids")) as f:
                pids = [int(p) for p in f.read().split()]
        except OSError:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def env(self):
        return {"PATH": self.dir + ":" + os.environ.get("PATH", "/usr/bin:/bin")}

    def fd_listings(self):
        texts = []
        for name in os.listdir(self.dir):
            if name.startswith("fds."):
                with open(os.path.join(self.dir, name)) as f:
                    texts.append(f.read())
                os.unlink(os.path.join(self.dir, name))
        return texts

    def test_a_lingering_child_does_not_make_the_helper_time_out(self):
        start = time.monotonic()
        code, report, err = self.doctor_json(
            ["run", "--registry", self.server.url, "--docker-config", self.dir,
             "--check", "check.integration.oci.credentials", "--timeout", "20"], env=self.env())
        elapsed = time.monotonic() - start
        self.assertNotEqual(code, h.EXIT_USAGE, err)
        # the helper's own limit is 10 s; valgrind (OCIDOCTOR_WRAPPER) makes the run slower
        limit = 9 if os.environ.get("OCIDOCTOR_WRAPPER") else 5
        self.assertLess(elapsed, limit, "waited for the helper's background child")
        self.assertIn("docker-credential-lingering", json.dumps(h.result_of(report, "credentials")))

    def test_the_helper_inherits_no_descriptor(self):
        self.fd_listings()
        targets = os.path.join(self.dir, "targets.txt")
        with open(targets, "w") as f:
            f.write("http://%s team/a\nhttp://%s team/b\nhttp://%s team/c\n" % tuple(self.hosts))
        table = os.path.join(self.dir, "table.csv")
        code, out, err = self.doctor(["matrix", "--no-progress", "--targets", targets,
                                      "--parallel", "1", "--format", "csv", "-o", table,
                                      "--docker-config", self.dir], env=self.env())
        listings = self.fd_listings()
        self.assertEqual(len(listings), 3, err)
        for text in listings:
            fds = [line for line in text.splitlines() if "->" in line]
            self.assertEqual(len(fds), 4, text)   # 0, 1, 2 and ls's own directory
            self.assertNotIn("socket:", text)
            self.assertNotIn("table.csv", text)
            self.assertNotIn("targets.txt", text)

    def test_the_helper_runs_once_per_host(self):
        self.fd_listings()
        targets = os.path.join(self.dir, "targets.txt")
        with open(targets, "w") as f:
            f.write("%s team/a\n%s team/b\n%s team/c\n" % ((self.server.url,) * 3))
        table = os.path.join(self.dir, "table.csv")
        code, out, err = self.doctor(["matrix", "--no-progress", "--targets", targets,
                                      "--parallel", "3", "--format", "csv", "-o", table,
                                      "--docker-config", self.dir], env=self.env())
        self.assertNotEqual(code, h.EXIT_USAGE, err)
        self.assertEqual(len(self.fd_listings()), 1, err)


INJECTION = ("<script>alert(1)</script><img src=http://evil.invalid/p.png>"
             "![x](http://evil.invalid/t.png)[click](http://evil.invalid/)"
             "\u202eevil\u200b\ufeff\uffff\ufffe sha256-<hex>")


class InjectionTest(h.DoctorTestCase):
    """Server text (here the API version headers of GET /v2/, quoted in the
    capabilities check's reason) that tries to inject markup, a tracking
    pixel, a link, a bidirectional override and XML's forbidden
    noncharacters into the reports."""

    @classmethod
    def setUpClass(cls):
        raw = INJECTION.encode("utf-8").decode("latin-1")  # sent as UTF-8 bytes
        headers = {"Content-Type": "application/json", "OCI-Distribution-API-Version": raw,
                   "Docker-Distribution-API-Version": raw}
        cls.registry = cls.start_server(sr.ScriptedRegistry(status_override={
            ("GET", r"^/v2/$"): (200, headers, {})}))

    def report(self, fmt):
        code, out, err = self.doctor(["run", "--registry", self.registry.url, "--no-writes",
                                      "--format", fmt, "--timeout", "10"])
        self.assertIn(code, (h.EXIT_OK, h.EXIT_WARN, h.EXIT_FAIL), err)
        return out

    def test_markdown_shows_server_text_literally(self):
        out = self.report("markdown")
        self.assertIn("alert", out, "the injected text is not in the report at all")
        for raw in ("<script", "<img", "![x](", "[click](", "\u202e", "\uffff"):
            self.assertNotIn(raw, out)
        self.assertIn("sha256-&lt;hex&gt;", out)   # renders as sha256-<hex>

    def test_the_terminal_gets_no_invisible_format_characters(self):
        # (JSON keeps the raw header values in details, escaped as JSON requires;
        # JUnit's escaping of U+FFFE and U+FFFF is pinned by test_report_escape)
        for fmt in ("text", "html", "markdown"):
            with self.subTest(fmt):
                out = self.report(fmt)
                self.assertIn("alert", out)
                for hidden in ("\u202e", "\u200b", "\ufeff", "\uffff", "\ufffe"):
                    self.assertNotIn(hidden, out)
                if fmt == "html":
                    self.assertNotIn("<script>alert", out)


class RealmSchemeTest(h.DoctorTestCase):
    """A Bearer challenge whose realm is not an http or https URL: refused
    by ocidoctor itself, not merely by libcurl's protocol list."""

    PASSWORD = "realm-scheme-s3cret"

    def secrets(self):
        return (self.PASSWORD,)

    def test_a_non_http_realm_is_refused(self):
        for realm in ("ftp://127.0.0.1:%d/token" % h.free_port(), "file:///etc/passwd",
                      "gopher://127.0.0.1:70/token"):
            with self.subTest(realm):
                reg = sr.ScriptedRegistry(auth="token", token_realm=realm,
                                          token_service="svc").start()
                self.addCleanup(reg.stop)
                code, report, err = self.doctor_json(
                    ["run", "--registry", reg.url, "--username", "alice", "--password-stdin",
                     "--no-writes", "--timeout", "10"], stdin=self.PASSWORD + "\n")
                text = json.dumps(report)
                # the registry check names the bad challenge before any token request
                self.assertIn("realm '%s' is not an HTTP(S) URL" % realm, text)
                self.assertEqual(h.result_of(report, "registry")["status"], "fail")


class PresignedRedirectTest(h.DoctorTestCase):
    """Storage behind a redirect (here of the manifests): the signature in the presigned URL's
    query is a bearer credential for that blob, and no output may show it."""

    @classmethod
    def setUpClass(cls):
        cls.storage = cls.start_server(fs.FaultServer(
            {("GET", "^/bucket/"): fs.respond(200, {"Content-Type": "application/octet-stream"},
                                              b"not the blob")}))
        location = (cls.storage.url + "/bucket/blob?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                    "&X-Amz-Signature=%s&sig=%s&signature=%s" % (SIGNATURE, SIGNATURE, SIGNATURE))
        cls.registry = cls.start_server(sr.ScriptedRegistry(status_override={
            ("GET", r"/manifests/"): (307, {"Location": location}, b""),
            ("HEAD", r"/manifests/"): (307, {"Location": location}, b"")}))

    def secrets(self):
        return (SIGNATURE,)

    def test_no_output_shows_the_signature(self):
        base = ["run", "--registry", self.registry.url, "--timeout", "10", "--no-writes"]
        before = len(self.storage.requests())
        code, report, err = self.doctor_json(base + ["-v"])
        self.assertGreater(len(self.storage.requests()), before, "the redirect was not followed")
        urls = [e["url"] for r in report["results"] for e in r.get("evidence", [])]
        self.assertIn(self.storage.url + "/bucket/blob?<redacted>", urls)
        self.assertIn("/bucket/blob?<redacted>", err, "the -v trace shows the hop")
        for fmt in ("text", "html", "markdown", "junit", "prometheus"):
            with self.subTest(fmt):
                self.doctor(base + ["--format", fmt, "-v"])


class _ClientCertServer(h.Service):
    """A TLS server on 127.0.0.1 that requires a client certificate from the
    test CA: without one, the handshake ends (under TLS 1.3, after libcurl
    thinks it is done)."""

    def __init__(self, directory):
        self.ca, ca_key = h.make_ca(directory)
        cert, key = h.make_server_cert(directory, self.ca, ca_key)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.ctx.load_verify_locations(self.ca)
        self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.sock = None
        self.stopping = threading.Event()

    def start(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.url = "https://127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()
        h._track(self)
        return self

    def _serve(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            try:
                conn.settimeout(5)
                with self.ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    def stop(self):
        h._untrack(self)
        self.stopping.set()
        if self.sock:
            self.sock.close()


class TlsFilesTest(h.DoctorTestCase):
    """A client certificate the registry wants, and one that does not match its key."""

    @classmethod
    def setUpClass(cls):
        cls.dir = h.scratch_dir("tls-")
        cls.server = cls.start_server(_ClientCertServer(cls.dir))
        cls.cert = os.path.join(cls.dir, "client.pem")
        cls.key = os.path.join(cls.dir, "client.key")
        cls.other_key = os.path.join(cls.dir, "other.key")
        h._run_tool(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", cls.key, "-out",
                     cls.cert, "-days", "2", "-subj", "/CN=client"])
        h._run_tool(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                     "ec_paramgen_curve:prime256v1", "-out", cls.other_key])

    def test_a_wanted_client_certificate_is_named(self):
        code, report, err = self.doctor_json(["run", "--registry", self.server.url, "--ca-file",
                                              self.server.ca, "--check",
                                              "check.integration.oci.registry", "--timeout", "10"])
        self.assertStatus(report, "registry", "fail", err)
        message = h.result_of(report, "registry")["message"]
        self.assertIn("client certificate", message)
        self.assertIn("--cert", message)

    def test_a_mismatched_pair_is_a_usage_error_before_any_request(self):
        for command in (["run", "--registry", refused_url()],
                        ["matrix", "--targets", "/dev/null"]):
            with self.subTest(command[0]):
                code, out, err = self.doctor(command + ["--cert", self.cert, "--key",
                                                        self.other_key])
                self.assertEqual(code, h.EXIT_USAGE, err)
                self.assertEqual(len(err.strip().splitlines()), 1, err)
                self.assertIn(self.cert, err)
                self.assertIn(self.other_key, err)
                self.assertIn("do not match", err)
        code, out, err = self.doctor(["run", "--registry", refused_url(), "--cert", self.key,
                                      "--key", self.key])
        self.assertEqual(code, h.EXIT_USAGE, err)


if __name__ == "__main__":
    unittest.main()
