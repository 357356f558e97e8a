"""Registries and clients that nobody here wrote, started for a test.

The scriptable registry only knows what its author thought of. This module
starts the real things on loopback: distribution 3.1 (`registry-v3`),
olareg, go-containerregistry's registry (`ggcr-registry`) from the
directory named by $OCIDOCTOR_INTEROP_BIN, and Debian's docker-registry
(distribution 2.8, harness.Registry) from the search path; and it runs the
real clients from the same directory: oras, regctl and `ggcr-referrers`
(go-containerregistry's remote.Referrers / remote.Write with a subject).

Without the binaries a test is skipped with a message naming what is
missing, unless $OCIDOCTOR_INTEROP_REQUIRED is set (scripts/test sets it),
which turns the skip into a failure: CI must run these tests.

    with interop.start("olareg") as reg:
        reg.push_image()
        ... ocidoctor run --registry reg.url ...
        reg.catalog(), reg.tags("library/alpine")

Only the Python standard library is used.
"""

import json
import os
import shutil
import subprocess
import urllib.parse

import harness as h

ENV_BIN = "OCIDOCTOR_INTEROP_BIN"
ENV_REQUIRED = h.REQUIRE_ALL

# name -> (binary, what it is)
REGISTRIES = {
    "distribution-2.8": ("docker-registry", "Debian's docker-registry (distribution 2.8)"),
    "distribution-3.1": ("registry-v3", "distribution v3.1"),
    "olareg": ("olareg", "olareg"),
    "ggcr": ("ggcr-registry", "go-containerregistry's registry"),
}
CLIENTS = {"oras": "oras", "regctl": "regctl", "ggcr": "ggcr-referrers"}

V3_CONFIG = """version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: {delete}
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
  secret: ocidoctor-interop-secret
"""


def _missing(what):
    """Skips the test, or fails it when CI requires these tests."""
    text = ("%s; set %s to the directory holding the real registries and clients "
            "(registry-v3, olareg, ggcr-registry, oras, regctl, ggcr-referrers)" % (what, ENV_BIN))
    h.missing_program(text)


def binary(name):
    """The path of a real registry's or client's binary; skips (or fails) without it."""
    if name == "docker-registry":
        path = shutil.which(name)
        if not path:
            _missing("docker-registry is not installed (Debian package docker-registry)")
        return path
    directory = os.environ.get(ENV_BIN)
    if not directory:
        _missing("%s is not set" % ENV_BIN)
    path = os.path.join(directory, name)
    if not os.access(path, os.X_OK):
        _missing("%s has no executable %s" % (directory, name))
    return path


class RealRegistry(h.Service):
    """One of REGISTRIES on 127.0.0.1:<free port>, in a process group of its own."""

    def __init__(self, kind, delete_enabled=True):
        if kind not in REGISTRIES:
            raise ValueError("unknown registry %r" % kind)
        self.kind = kind
        self.delete_enabled = delete_enabled
        self.tmpdir = h.scratch_dir("interop-%s-" % kind)
        self.rootdir = os.path.join(self.tmpdir, "storage")
        os.makedirs(self.rootdir, exist_ok=True)
        self.log_file = os.path.join(self.tmpdir, "registry.log")
        self.port = None
        self.proc = None
        self.inner = None     # harness.Registry for distribution 2.8

    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    @property
    def url(self):
        return "http://" + self.host

    @property
    def stores_on_disk(self):
        return self.kind.startswith("distribution")

    def repo_dir(self, repo):
        return os.path.join(self.rootdir, "docker", "registry", "v2", "repositories", repo)

    def _command(self):
        exe = binary(REGISTRIES[self.kind][0])
        if self.kind == "distribution-3.1":
            config = os.path.join(self.tmpdir, "config.yml")
            with open(config, "w") as f:
                f.write(V3_CONFIG.format(root=self.rootdir, port=self.port,
                                         delete="true" if self.delete_enabled else "false"))
            return [exe, "serve", config]
        if self.kind == "olareg":
            cmd = [exe, "serve", "--store-type", "mem", "--addr", "127.0.0.1",
                   "--port", str(self.port)]
            return cmd + (["--api-delete", "--api-blob-delete"] if self.delete_enabled else [])
        return [exe, "-addr", self.host]

    def start(self, timeout=15.0):
        if self.kind == "distribution-2.8":
            binary("docker-registry")
            self.inner = h.Registry(delete_enabled=self.delete_enabled, rootdir=self.rootdir)
            self.inner.start(timeout)
            self.port = self.inner.port
            return self
        binary(REGISTRIES[self.kind][0])
        for attempt in range(3):
            self.port = h.free_port()
            cmd = self._command()
            if shutil.which("setpriv"):
                cmd = ["setpriv", "--pdeathsig", "KILL"] + cmd
            with open(self.log_file, "ab") as log:
                self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT, start_new_session=True,
                                             cwd=self.tmpdir)
            h._track(self)
            try:
                h.wait_port(self.port, timeout, alive=lambda: self.proc.poll() is None)
                return self
            except (RuntimeError, TimeoutError) as err:
                self._kill()
                if attempt == 2:
                    raise RuntimeError("%s\n%s log:\n%s" % (err, self.kind,
                                                            h._tail(self.log_file))) from None
        return self

    def _kill(self):
        proc, self.proc = self.proc, None
        h.stop_process_group(proc)

    def stop(self):
        h._untrack(self)
        if self.inner is not None:
            self.inner.stop()
            self.inner = None
        self._kill()
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    # -- what a test asks --

    def call(self, method, path, body=None, headers=None):
        """(status, headers, body) of one request."""
        return h._http(method, self.url + path, body, headers)

    def push_image(self, repo="library/alpine", tag="latest"):
        """Pushes harness.build_test_image; returns (manifest_digest, config_digest)."""
        return h.push_image(self.url, repo, tag)

    def catalog(self):
        status, _, body = self.call("GET", "/v2/_catalog?n=1000")
        if status != 200:
            raise AssertionError("%s: /v2/_catalog answered %d" % (self.kind, status))
        return sorted(json.loads(body).get("repositories") or [])

    def tags(self, repo):
        """The repository's tags ([] when it has none or does not exist)."""
        status, _, body = self.call("GET", "/v2/%s/tags/list" % repo)
        if status == 404:
            return []
        if status != 200:
            raise AssertionError("%s: tags of %s answered %d" % (self.kind, repo, status))
        return sorted(json.loads(body).get("tags") or [])

    def manifest_status(self, repo, ref):
        status, _, _ = self.call("HEAD", "/v2/%s/manifests/%s" % (repo, ref),
                                 headers={"Accept": h.MANIFEST_ACCEPT})
        return status

    def blob_status(self, repo, digest):
        status, _, _ = self.call("HEAD", "/v2/%s/blobs/%s" % (repo, digest))
        return status

    def links(self, repo):
        """distribution: every `link` file under the repository's directory."""
        found = []
        top = self.repo_dir(repo)
        for dirpath, _, files in os.walk(top):
            found += [os.path.relpath(os.path.join(dirpath, f), top) for f in files
                      if f == "link"]
        return sorted(found)

    def upload_sessions(self):
        """distribution: upload sessions still open (harness.Registry.upload_sessions)."""
        probe = self.inner or h.Registry.__new__(h.Registry)
        probe.rootdir = self.rootdir
        return h.Registry.upload_sessions(probe)


def start(kind, delete_enabled=True):
    return RealRegistry(kind, delete_enabled).start()


def client(name, args, timeout=60, home=None):
    """Runs a real client (a key of CLIENTS) with args in a throwaway HOME;
    returns (exit_code, stdout, stderr)."""
    exe = binary(CLIENTS[name])
    home = home or h.scratch_dir("client-home-")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
           "DOCKER_CONFIG": os.path.join(home, ".docker")}
    proc = subprocess.run([exe] + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, timeout=timeout, cwd=home,
                          encoding="utf-8", errors="replace")
    return proc.returncode, proc.stdout, proc.stderr


def quote_path(path):
    return urllib.parse.quote(path, safe="/:")
