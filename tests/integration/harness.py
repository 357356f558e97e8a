"""Shared machinery for ocidoctor's integration tests.

Each test module starts real servers on the loopback interface and runs the
built ocidoctor binary against them. This file holds everything those modules
share: picking free ports, a docker-registry (Debian's distribution 2.8) that
can be started with TLS, htpasswd users, token auth, delete off or read-only;
a small Docker token server (anonymous callers get pull only, known users get
what they ask for); seeding a registry's storage with a tiny OCI image; and
running the binary with a scrubbed environment so that nothing from the
developer's own ~/.docker or shell leaks into a test.

Nothing may outlive a test run: every server registers itself with a cleanup
list that is emptied by tearDownClass, at interpreter exit and on SIGTERM,
SIGINT and SIGHUP. Registries run in their own process group under
`setpriv --pdeathsig KILL`, so even a SIGKILL of the test process takes them
down with it.

Only the Python standard library is used; keys, certificates and JWT
signatures are made with the openssl command-line tool.
"""

import atexit
import base64
import fcntl
import gzip
import hashlib
import http.server
import io
import json
import os
import random
import re
import select
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import tarfile
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_ACCEPT = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST])

CHECK_PREFIX = "check.integration.oci."


_checks = []


def _listed_checks():
    """The program's checks (`ocidoctor list --format json`), read once:
    the program's table is the one list of checks, so no test keeps its own."""
    if not _checks:
        out = subprocess.run([doctor_binary(), "list", "--format", "json"],
                             stdout=subprocess.PIPE, check=True, encoding="utf-8").stdout
        _checks.extend(json.loads(out))
    return _checks


def check_ids():
    """The ids of the checks a run without --check runs, in report order."""
    return [c["id"] for c in _listed_checks() if c.get("default", True)]


def all_check_ids():
    """The ids of every check, the opt-in ones included, in report order."""
    return [c["id"] for c in _listed_checks()]

EXIT_OK, EXIT_WARN, EXIT_FAIL, EXIT_USAGE = 0, 1, 2, 3


# --------------------------------------------------------------------------
# Cleanup safety net
# --------------------------------------------------------------------------

_live = []                 # objects with a stop() method, newest last
_live_lock = threading.Lock()
_secrets = set()           # strings that must never reach a test log
_scratch = None            # this process's directory for every temporary file


def _track(obj):
    with _live_lock:
        _live.append(obj)


def _untrack(obj):
    with _live_lock:
        if obj in _live:
            _live.remove(obj)


def stop_all():
    """Stops every server still running, newest first. Safe to call twice."""
    while True:
        with _live_lock:
            if not _live:
                return
            obj = _live.pop()
        try:
            obj.stop()
        except Exception:  # a cleanup must not hide the others
            pass


def scratch_dir(prefix):
    """A new temporary directory inside this process's scratch directory,
    which is removed as a whole when the process ends (or is signalled)."""
    global _scratch
    if _scratch is None:
        _scratch = tempfile.mkdtemp(prefix="ocidoctor-it-")
    return tempfile.mkdtemp(prefix=prefix, dir=_scratch)


def _clean_up_everything():
    stop_all()
    if _scratch is not None:
        shutil.rmtree(_scratch, ignore_errors=True)


def _on_signal(signum, _frame):
    _clean_up_everything()
    # Leave with the conventional status of a death by that signal.
    os._exit(128 + signum)


def _install_safety_net():
    atexit.register(_clean_up_everything)
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        try:
            signal.signal(sig, _on_signal)
        except (ValueError, OSError):
            pass


_install_safety_net()


def add_secret(value):
    """Registers a string that redact() will hide from diagnostics."""
    if value:
        _secrets.add(value)


def redact(text, extra=()):
    """Returns text with every registered secret, and those in extra,
    replaced by <redacted>."""
    for secret in sorted(_secrets.union(s for s in extra if s), key=len, reverse=True):
        text = text.replace(secret, "<redacted>")
    return text


def add_user_secrets(user, password):
    """Registers a password and the base64 of "user:password"."""
    add_secret(password)
    add_secret(basic_auth_value(user, password))


# --------------------------------------------------------------------------
# Ports, files and tools
# --------------------------------------------------------------------------

# Ports handed out by free_port() come from a range below the kernel's
# ephemeral range (32768-60999 on Linux), so no server that binds port 0 and
# no outgoing connection's source port can land on one. Each port is claimed
# with a lock file held until this process exits, so tests running side by
# side under `ctest -j` never get the same port, and a port kept free for a
# "connection refused" test stays free.
_PORT_RANGE = (20000, 32000)
_PORT_LOCK_DIR = os.path.join(tempfile.gettempdir(), "ocidoctor-test-ports")
_claimed_ports = []


def _claim(port):
    """Takes the lock file of `port`; False when another process holds it."""
    os.makedirs(_PORT_LOCK_DIR, exist_ok=True)
    fd = os.open(os.path.join(_PORT_LOCK_DIR, "%d.lock" % port), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _claimed_ports.append(fd)
    return True


def _bindable(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on and that no other test
    process will be given while this one runs."""
    rng = random.SystemRandom()
    for _ in range(1000):
        port = rng.randrange(*_PORT_RANGE)
        if not _claim(port):
            continue
        if _bindable(port):
            return port
    raise RuntimeError("no free port in %d-%d" % _PORT_RANGE)


# Under a wrapper such as valgrind (OCIDOCTOR_WRAPPER, scripts/test) the
# binary runs several times slower; bounds on how long a run takes scale.
WRAPPED = bool(os.environ.get("OCIDOCTOR_WRAPPER", "").strip())


def slack(seconds):
    """A time bound in seconds, widened when the binary runs under a wrapper."""
    return seconds * 3 if WRAPPED else seconds


def wait_port(port, timeout=10.0, alive=None):
    """Waits until 127.0.0.1:port accepts connections. `alive`, if given, is
    called between tries and should return False once waiting is pointless
    (the server died). Raises TimeoutError or RuntimeError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            pass
        if alive is not None and not alive():
            raise RuntimeError("server on port %d exited before listening" % port)
        time.sleep(0.05)
    raise TimeoutError("nothing listens on 127.0.0.1:%d after %.0fs" % (port, timeout))


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def b64url(data):
    """base64url without padding, as JWS wants it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def basic_auth_value(user, password):
    """The base64 of "user:password", as in Authorization and docker config."""
    return base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def _run_tool(args, **kw):
    """Runs a helper tool, raising with its stderr when it fails."""
    proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    if proc.returncode != 0:
        raise RuntimeError("%s failed: %s" % (args[0], proc.stderr.decode(errors="replace")))
    return proc.stdout


def _write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def _tail(path, lines=30, width=300):
    """The last lines of a log file, each cut to width, secrets redacted."""
    try:
        with open(path, errors="replace") as f:
            tail = f.readlines()[-lines:]
    except OSError:
        return ""
    return redact("".join(line if len(line) <= width else line[:width] + "...\n"
                          for line in tail))


# --------------------------------------------------------------------------
# Throwaway PKI (openssl CLI)
# --------------------------------------------------------------------------

def make_ca(directory, name="ocidoctor-test-ca"):
    """Creates a self-signed CA (ca.pem, ca.key) in directory; returns their paths."""
    cert, key = os.path.join(directory, "ca.pem"), os.path.join(directory, "ca.key")
    _run_tool(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
               "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
               "-days", "2", "-subj", "/CN=" + name,
               "-addext", "basicConstraints=critical,CA:TRUE",
               "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    return cert, key


def make_server_cert(directory, ca_cert, ca_key, days=2):
    """Creates server.pem/server.key for 127.0.0.1 and localhost, signed by the CA,
    valid for days."""
    cert, key = os.path.join(directory, "server.pem"), os.path.join(directory, "server.key")
    csr = os.path.join(directory, "server.csr")
    ext = _write(os.path.join(directory, "server.ext"),
                 "basicConstraints=CA:FALSE\n"
                 "keyUsage=critical,digitalSignature,keyEncipherment\n"
                 "extendedKeyUsage=serverAuth\n"
                 "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _run_tool(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
               "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"])
    _run_tool(["openssl", "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key,
               "-CAcreateserial", "-out", cert, "-days", str(days), "-extfile", ext])
    return cert, key


def make_rsa_signing_cert(directory, name="ocidoctor-test-token-signer"):
    """Creates a self-signed RSA certificate and key used to sign JWTs."""
    cert, key = os.path.join(directory, "token.pem"), os.path.join(directory, "token.key")
    _run_tool(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
               "-out", cert, "-days", "2", "-subj", "/CN=" + name])
    return cert, key


# --------------------------------------------------------------------------
# Token server
# --------------------------------------------------------------------------

def parse_scope(scope):
    """Splits "repository:host:5000/name:pull,push" into (type, name, [actions]).
    The name may itself contain ':' so type is cut at the first colon and the
    actions at the last one."""
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    return kind, name, [a for a in actions.split(",") if a]


class Service:
    """A server the tests start and stop; `with` works on it too."""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def serve_in_background(server, name):
    """Runs a socketserver's serve_forever in a daemon thread."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=name, daemon=True)
    thread.start()
    return thread


def serve_until_interrupted(service, banner):
    """For running a test server by hand (to poke at it with curl): start it,
    print banner (formatted with the service), wait for Ctrl-C."""
    with service:
        print(banner.format(service=service))
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


def shut_down(server):
    """Stops a server started with serve_in_background and closes its socket."""
    server.shutdown()
    server.server_close()


class TokenServer(Service):
    """A Docker token-auth endpoint (GET /token, and POST /token for OAuth2).

    users: {name: password}. Anonymous requests get only the "pull" actions
    of the scopes they ask for; a known user gets every action asked for; a
    wrong password gets 401. refresh_token, if given, is accepted by the
    OAuth2 refresh_token grant (as user refresh_user). Every request is
    recorded in .requests as {method, path, scopes, authorization, user,
    grant_type, status}, and every token handed out in .issued_tokens.
    """

    def __init__(self, users=None, service="ocidoctor-test-registry",
                 issuer="ocidoctor-test-issuer", refresh_token=None,
                 refresh_user="refresh-user", expires_in=300, delay_ms=0):
        self.delay_ms = delay_ms   # sleep before every answer (benchmarks)
        self.users = dict(users or {})
        self.service = service
        self.issuer = issuer
        self.refresh_token = refresh_token
        self.refresh_user = refresh_user
        self.expires_in = expires_in
        self.requests = []
        self.issued_tokens = []
        self._lock = threading.Lock()
        self._httpd = None
        self._thread = None
        self.tmpdir = None
        self.port = None
        for user, password in self.users.items():
            add_user_secrets(user, password)
        add_secret(refresh_token)

    # -- lifecycle --

    def start(self):
        self.tmpdir = scratch_dir("token-")
        self.cert_file, self.key_file = make_rsa_signing_cert(self.tmpdir)
        with open(self.cert_file) as f:
            der = ssl.PEM_cert_to_DER_cert(f.read())
        self._x5c = base64.b64encode(der).decode("ascii")
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = serve_in_background(self._httpd, "token-server")
        _track(self)
        return self

    def stop(self):
        _untrack(self)
        if self._httpd is not None:
            shut_down(self._httpd)
            self._httpd = None
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def realm(self):
        return self.url + "/token"

    def clear_requests(self):
        with self._lock:
            self.requests.clear()

    # -- tokens --

    def grant(self, user, scopes):
        """The access list for user (None: anonymous) asking for scopes."""
        access = []
        for scope in scopes:
            kind, name, actions = parse_scope(scope)
            if user is None:
                actions = [a for a in actions if a == "pull"]
            access.append({"type": kind, "name": name, "actions": actions})
        return access

    def make_token(self, user, scopes):
        """A JWT signed RS256 with the server's key, for user and scopes."""
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self._x5c]}
        claims = {"iss": self.issuer, "sub": user or "", "aud": self.service,
                  "exp": now + self.expires_in, "nbf": now - 10, "iat": now,
                  "jti": uuid.uuid4().hex, "access": self.grant(user, scopes)}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode()))
        signature = _run_tool(["openssl", "dgst", "-sha256", "-sign", self.key_file],
                              input=signing_input.encode())
        token = signing_input + "." + b64url(signature)
        with self._lock:
            self.issued_tokens.append(token)
        add_secret(token)
        return token

    def token_response(self, user, scopes):
        token = self.make_token(user, scopes)
        issued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return {"token": token, "access_token": token,
                "expires_in": self.expires_in, "issued_at": issued}

    def check_basic(self, header):
        """(ok, user) for an Authorization header value; (True, None) when absent."""
        if not header:
            return True, None
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False, None
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False, None
        if user in self.users and self.users[user] == password:
            return True, user
        return False, None

    def _record(self, **entry):
        with self._lock:
            self.requests.append(entry)

    def _handler_class(self):
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out as two writes: without this, Nagle holds the body
            # back until the client's delayed ACK (40 ms) and every GET pays for it
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _send(self, status, body, extra=None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _unauthorized(self, entry):
                entry["status"] = 401
                server._record(**entry)
                self._send(401, {"errors": [{"code": "UNAUTHORIZED",
                                             "message": "authentication required"}]},
                           {"WWW-Authenticate": 'Basic realm="ocidoctor-test-token"'})

            def do_GET(self):
                if server.delay_ms:
                    time.sleep(server.delay_ms / 1000.0)
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                scopes = [s for value in query.get("scope", []) for s in value.split()]
                auth = self.headers.get("Authorization")
                entry = {"method": "GET", "path": url.path, "scopes": scopes,
                         "service": query.get("service", [None])[0],
                         "authorization": auth is not None, "user": None,
                         "grant_type": None}
                if url.path != "/token":
                    entry["status"] = 404
                    server._record(**entry)
                    return self._send(404, {"errors": [{"code": "NOT_FOUND"}]})
                ok, user = server.check_basic(auth)
                if not ok:
                    return self._unauthorized(entry)
                entry.update(user=user, status=200)
                server._record(**entry)
                body = server.token_response(user, scopes)
                if user and query.get("offline_token") == ["true"] and server.refresh_token:
                    body["refresh_token"] = server.refresh_token
                self._send(200, body)

            def do_POST(self):
                if server.delay_ms:
                    time.sleep(server.delay_ms / 1000.0)
                url = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode(errors="replace"))
                field = lambda name: form.get(name, [None])[0]
                scopes = (field("scope") or "").split()
                entry = {"method": "POST", "path": url.path, "scopes": scopes,
                         "service": field("service"),
                         "authorization": self.headers.get("Authorization") is not None,
                         "user": None, "grant_type": field("grant_type")}
                if url.path != "/token":
                    entry["status"] = 404
                    server._record(**entry)
                    return self._send(404, {"errors": [{"code": "NOT_FOUND"}]})
                user = None
                if field("grant_type") == "password":
                    name, password = field("username"), field("password")
                    if name in server.users and server.users[name] == password:
                        user = name
                elif field("grant_type") == "refresh_token":
                    if server.refresh_token and field("refresh_token") == server.refresh_token:
                        user = server.refresh_user
                else:
                    entry["status"] = 400
                    server._record(**entry)
                    return self._send(400, {"error": "unsupported_grant_type"})
                if user is None:
                    return self._unauthorized(entry)
                entry.update(user=user, status=200)
                server._record(**entry)
                body = server.token_response(user, scopes)
                body.pop("token")
                body["scope"] = " ".join(scopes)
                if field("access_type") == "offline" and server.refresh_token:
                    body["refresh_token"] = server.refresh_token
                self._send(200, body)

        return Handler


# --------------------------------------------------------------------------
# Test image
# --------------------------------------------------------------------------

def build_test_image():
    """Returns (config_bytes, layer_bytes, manifest_bytes) of a tiny OCI image:
    one gzip layer holding /hello.txt. Built deterministically."""
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        payload = b"hello from ocidoctor's integration tests\n"
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime, info.mode = len(payload), 0, 0o644
        tar.addfile(info, io.BytesIO(payload))
    tar_bytes = tar_buf.getvalue()
    layer = gzip.compress(tar_bytes, mtime=0)
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256_digest(tar_bytes)]},
    }, sort_keys=True).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256_digest(config),
                   "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": sha256_digest(layer),
                    "size": len(layer)}],
    }, sort_keys=True).encode()
    return config, layer, manifest


def _http(method, url, data=None, headers=None, timeout=10):
    """One plain HTTP request; returns (status, headers, body) even for 4xx/5xx."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def upload_blob(base_url, repo, data):
    """POST an upload session, then PUT the whole blob with ?digest=."""
    status, headers, body = _http("POST", "%s/v2/%s/blobs/uploads/" % (base_url, repo), b"")
    if status != 202:
        raise RuntimeError("upload start answered %d: %r" % (status, body[:200]))
    location = urllib.parse.urljoin(base_url, headers["Location"])
    sep = "&" if "?" in location else "?"
    digest = sha256_digest(data)
    status, _, body = _http("PUT", location + sep + "digest=" + urllib.parse.quote(digest),
                            data, {"Content-Type": "application/octet-stream"})
    if status != 201:
        raise RuntimeError("blob PUT answered %d: %r" % (status, body[:200]))
    return digest


def push_image(base_url, repo="library/alpine", tag="latest"):
    """Pushes the test image to a running plain, open registry.
    Returns (manifest_digest, config_digest)."""
    config, layer, manifest = build_test_image()
    upload_blob(base_url, repo, layer)
    config_digest = upload_blob(base_url, repo, config)
    status, headers, body = _http("PUT", "%s/v2/%s/manifests/%s" % (base_url, repo, tag),
                                  manifest, {"Content-Type": OCI_MANIFEST})
    if status != 201:
        raise RuntimeError("manifest PUT answered %d: %r" % (status, body[:200]))
    manifest_digest = sha256_digest(manifest)
    if headers.get("Docker-Content-Digest") not in (None, manifest_digest):
        raise RuntimeError("registry computed another manifest digest")
    return manifest_digest, config_digest


def push_test_image(target, repo="library/alpine", tag="latest"):
    """Puts the test image into a registry's storage. target is a storage
    root directory or a Registry (its rootdir is used; normally one that is
    not started yet). A throwaway plain HTTP registry without auth is run on
    that directory for the push and stopped again.
    Returns (manifest_digest, config_digest)."""
    rootdir = target.rootdir if isinstance(target, Registry) else target
    with Registry(rootdir=rootdir) as seeder:
        digests = push_image(seeder.url, repo, tag)
    if isinstance(target, Registry):
        target.images[(repo, tag)] = digests
    return digests


# --------------------------------------------------------------------------
# docker-registry
# --------------------------------------------------------------------------

def stop_process_group(proc):
    """Ends a server started in its own process group: SIGTERM, then SIGKILL
    after 5 s; waits for it. None does nothing."""
    if proc is None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


class Registry(Service):
    """Debian's docker-registry (distribution 2.8) on 127.0.0.1:<free port>.

    Options: tls (a throwaway CA and server certificate; see .ca_file),
    users ({name: password} for htpasswd basic auth), token (a started
    TokenServer whose JWTs the registry trusts), delete_enabled, readonly,
    seed (a list of (repo, tag) pushed into the storage before start; the
    digests land in .images), rootdir (storage directory; a fresh one by
    default). Use as a context manager or call start()/stop().
    The registry's stdout and stderr go to .log_file.
    """

    def __init__(self, tls=False, users=None, token=None, delete_enabled=True,
                 readonly=False, seed=(), rootdir=None):
        if users and token:
            raise ValueError("choose htpasswd users or token auth, not both")
        self.tls = tls
        self.users = dict(users or {})
        self.token = token
        self.delete_enabled = delete_enabled
        self.readonly = readonly
        self.seed = list(seed)
        self.images = {}
        self.tmpdir = scratch_dir("registry-")
        self.rootdir = rootdir or os.path.join(self.tmpdir, "storage")
        os.makedirs(self.rootdir, exist_ok=True)
        self.log_file = os.path.join(self.tmpdir, "registry.log")
        self.config_file = os.path.join(self.tmpdir, "config.json")
        self.ca_file = None
        self.port = None
        self.proc = None
        for user, password in self.users.items():
            add_user_secrets(user, password)

    # -- properties --

    @property
    def scheme(self):
        return "https" if self.tls else "http"

    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    @property
    def url(self):
        return "%s://%s" % (self.scheme, self.host)

    def repo_dir(self, repo):
        """The storage directory of a repository."""
        return os.path.join(self.rootdir, "docker", "registry", "v2", "repositories", repo)

    def log_tail(self, lines=30):
        return _tail(self.log_file, lines)

    def upload_sessions(self):
        """Paths of the upload sessions still open in any repository.

        A session is _uploads/<uuid>/ with its `startedat` file: that file is
        what distribution looks for to resume one. Cancelling a session
        (DELETE, 204) removes `data` and `startedat` but, in 2.8, leaves an
        empty hashstates/ skeleton behind; such a directory is not a session
        (a GET on its URL answers 404 BLOB_UPLOAD_UNKNOWN)."""
        top = os.path.join(self.rootdir, "docker", "registry", "v2", "repositories")
        found = []
        for dirpath, dirnames, _ in os.walk(top):
            if os.path.basename(dirpath) == "_uploads":
                found.extend(os.path.join(dirpath, d) for d in dirnames
                             if os.path.exists(os.path.join(dirpath, d, "startedat")))
                dirnames[:] = []
        return found

    # -- configuration --

    def _auth_config(self):
        if self.users:
            lines = [_run_tool(["htpasswd", "-Bbn", user, password]).decode().strip()
                     for user, password in self.users.items()]
            path = _write(os.path.join(self.tmpdir, "htpasswd"), "\n".join(lines) + "\n", 0o600)
            return {"htpasswd": {"realm": "ocidoctor-test", "path": path}}
        if self.token:
            return {"token": {"realm": self.token.realm, "service": self.token.service,
                              "issuer": self.token.issuer,
                              "rootcertbundle": self.token.cert_file}}
        return None

    def _tls_config(self):
        ca_cert, ca_key = make_ca(self.tmpdir)
        cert, key = make_server_cert(self.tmpdir, ca_cert, ca_key)
        self.ca_file = ca_cert
        return {"certificate": cert, "key": key}

    def _config(self):
        storage = {"filesystem": {"rootdirectory": self.rootdir},
                   "delete": {"enabled": bool(self.delete_enabled)},
                   "maintenance": {"uploadpurging": {"enabled": False}}}
        if self.readonly:
            storage["maintenance"]["readonly"] = {"enabled": True}
        http_cfg = {"addr": "127.0.0.1:%d" % self.port, "secret": "ocidoctor-test-secret"}
        if self.tls:
            http_cfg["tls"] = self._tls_config()
        config = {"version": "0.1", "log": {"level": "warn"}, "storage": storage,
                  "http": http_cfg}
        auth = self._auth_config()
        if auth:
            config["auth"] = auth
        return config

    # -- lifecycle --

    def _spawn(self):
        _write(self.config_file, json.dumps(self._config(), indent=2))
        cmd = ["docker-registry", "serve", self.config_file]
        if shutil.which("setpriv"):
            cmd = ["setpriv", "--pdeathsig", "KILL"] + cmd
        log = open(self.log_file, "ab")
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         cwd=self.tmpdir)
        finally:
            log.close()
        _track(self)

    def start(self, timeout=15.0):
        for repo, tag in self.seed:
            push_test_image(self, repo, tag)
        for attempt in range(3):   # a free port can be taken between probe and bind
            self.port = free_port()
            self._spawn()
            try:
                wait_port(self.port, timeout, alive=lambda: self.proc.poll() is None)
                return self
            except (RuntimeError, TimeoutError) as err:
                self._kill()
                if attempt == 2 or "address already in use" not in self.log_tail():
                    raise RuntimeError("%s\nregistry log:\n%s" % (err, self.log_tail())) from None
        return self

    def _kill(self):
        proc, self.proc = self.proc, None
        stop_process_group(proc)

    def stop(self, keep_files=False):
        """Kills the registry's process group; removes its files unless keep_files."""
        _untrack(self)
        self._kill()
        if not keep_files and self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None


# --------------------------------------------------------------------------
# Credential sources
# --------------------------------------------------------------------------

def write_docker_config(directory, config):
    """Writes config (a dict) as directory/config.json; returns directory."""
    os.makedirs(directory, exist_ok=True)
    _write(os.path.join(directory, "config.json"), json.dumps(config, indent=2), 0o600)
    return directory


def write_credential_helper(directory, name, username, secret):
    """Writes an executable docker-credential-NAME into directory that answers
    `get` with the given credential. Each call appends its arguments and
    stdin to directory/NAME.calls. Returns the helper's path."""
    calls = os.path.join(directory, name + ".calls")
    answer = json.dumps({"ServerURL": "", "Username": username, "Secret": secret})
    script = ("#!/bin/sh\n"
              "input=$(cat)\n"
              "printf '%%s %%s\\n' \"$*\" \"$input\" >> '%s'\n"
              "if [ \"$1\" != get ]; then echo 'unsupported action' ; exit 1; fi\n"
              "cat <<'EOF'\n%s\nEOF\n") % (calls, answer)
    return _write(os.path.join(directory, "docker-credential-" + name), script, 0o755)


# --------------------------------------------------------------------------
# Running the binary
# --------------------------------------------------------------------------

# Variables passed through from the caller's environment: the search path and
# what sanitizer or coverage builds need. Everything else (DOCKER_CONFIG,
# OCI_*, REGISTRY_AUTH_FILE, XDG_*, proxies, NO_COLOR, ...) is dropped.
_PASS_THROUGH = ("PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS",
                 "LLVM_PROFILE_FILE", "GCOV_PREFIX", "GCOV_PREFIX_STRIP")


# Set by scripts/test (so in CI): a program a test needs that is missing
# (chromium, the real registries and clients) fails the test instead of
# skipping it, so that CI never passes on what it did not run.
REQUIRE_ALL = "OCIDOCTOR_INTEROP_REQUIRED"


def missing_program(text):
    """Skips the test for a missing program, named in text with how to get
    it; fails it instead when $OCIDOCTOR_INTEROP_REQUIRED is set."""
    if os.environ.get(REQUIRE_ALL):
        raise AssertionError("%s (%s is set: this test must run)" % (text, REQUIRE_ALL))
    raise unittest.SkipTest(text)


def read_terminal(master, idle_timeout):
    """What a program wrote to its pseudo-terminal, read from the master side
    until it closes or stays silent for idle_timeout seconds; closes master."""
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], idle_timeout)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:   # EIO: the other end is closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return b"".join(chunks)


def doctor_binary():
    """Path of the ocidoctor binary: $OCIDOCTOR_BIN, else build/ocidoctor.
    Skips the calling test when neither exists."""
    path = os.environ.get("OCIDOCTOR_BIN")
    if path:
        if not os.access(path, os.X_OK):
            raise RuntimeError("OCIDOCTOR_BIN=%s is not an executable file" % path)
        return path
    path = os.path.join(REPO_ROOT, "build", "ocidoctor")
    if os.access(path, os.X_OK):
        return path
    raise unittest.SkipTest("no ocidoctor binary: set OCIDOCTOR_BIN or build into build/")


def doctor_env(extra=None, home=None):
    """A clean environment for the binary: PATH and friends, HOME set to
    `home`, plus `extra` (a value of None removes a variable)."""
    env = {k: os.environ[k] for k in _PASS_THROUGH if k in os.environ}
    env["HOME"] = home or tempfile.gettempdir()
    env["LC_ALL"] = "C.UTF-8"
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_doctor(args, stdin=None, env=None, timeout=60):
    """Runs ocidoctor with args (a list) and returns (exit_code, stdout, stderr).
    stdin is a string fed to the process (default: none, like CI). HOME is a
    fresh empty directory, so no real ~/.docker or auth.json is read."""
    binary = doctor_binary()
    home = scratch_dir("home-")
    # OCIDOCTOR_WRAPPER runs the binary under a tool, e.g. valgrind (scripts/test)
    wrapper = shlex.split(os.environ.get("OCIDOCTOR_WRAPPER", ""))
    if wrapper:
        timeout *= 10
    try:
        proc = subprocess.run(wrapper + [binary] + list(args), cwd=home,
                              input=stdin if stdin is not None else "",
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=doctor_env(env, home), timeout=timeout,
                              encoding="utf-8", errors="replace")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return proc.returncode, proc.stdout, proc.stderr


def parse_report(stdout, code=None, stderr=""):
    """The JSON report printed on stdout; fails the test when it is not JSON."""
    try:
        return json.loads(stdout)
    except ValueError:
        raise AssertionError("stdout is not JSON (exit %s)\nstdout:\n%s\nstderr:\n%s"
                             % (code, redact(stdout[:3000]), redact(stderr[-3000:]))) from None


def run_json(args, stdin=None, env=None, timeout=60):
    """run_doctor with `--format json` added; returns (exit_code, report, stderr)."""
    code, out, err = run_doctor(list(args) + ["--format", "json"], stdin, env, timeout)
    return code, parse_report(out, code, err), err


def check_id(name):
    """"pull" -> "check.integration.oci.pull"; full ids pass unchanged."""
    return name if name.startswith("check.") else CHECK_PREFIX + name


def result_of(report, check):
    """The result of one check in a JSON report (short or full id); fails
    the test when the report has none."""
    wanted = check_id(check)
    for result in report.get("results", []):
        if result.get("checkId") == wanted:
            return result
    raise AssertionError("no result for %s; report has %s"
                         % (wanted, [r.get("checkId") for r in report.get("results", [])]))


def describe(report):
    """One line per result ("id: status - message"), for failure messages."""
    return "\n".join("  %s: %s - %s" % (r.get("checkId"), r.get("status"), r.get("message"))
                     for r in report.get("results", []))


class DoctorTestCase(unittest.TestCase):
    """unittest.TestCase with assertions shaped for ocidoctor's reports.
    Subclasses start their servers in setUpClass with start_server(), which
    also arranges for them to be stopped in tearDownClass."""

    maxDiff = None
    servers = ()
    registry = None    # the Registry that run_registry() points ocidoctor at

    def secrets(self):
        """Strings that no output of ocidoctor may contain; see doctor()."""
        return ()

    def doctor(self, args, stdin=None, env=None):
        """run_doctor, then asserts that no secret is in stdout or stderr."""
        code, out, err = run_doctor(args, stdin, env)
        self.assertNoSecrets(self.secrets(), out, err)
        return code, out, err

    def doctor_json(self, args, stdin=None, env=None):
        """doctor() with `--format json`; returns (exit_code, report, stderr)."""
        code, out, err = self.doctor(list(args) + ["--format", "json"], stdin, env)
        return code, parse_report(out, code, err), err

    def run_core(self, *extra, stdin=None, env=None):
        """run_registry limited to the four core checks (registry, credentials,
        pull, push): distribution 2.8 has no Referrers API, so a full run on a
        healthy distribution registry warns (exit 1) by design."""
        core = []
        for name in ("registry", "credentials", "pull", "push"):
            core += ["--check", "check.integration.oci." + name]
        return self.run_registry(*(core + list(extra)), stdin=stdin, env=env)

    def run_registry(self, *extra, stdin=None, env=None):
        """`ocidoctor run --registry URL EXTRA... --format json` against self.registry."""
        return self.doctor_json(["run", "--registry", self.registry.url] + list(extra),
                                stdin, env)

    @classmethod
    def start_server(cls, server):
        """Starts server for the whole class (stopped in tearDownClass). The
        class is skipped, before anything starts, when there is no binary."""
        doctor_binary()
        server.start()
        cls.addClassCleanup(server.stop)
        cls.servers = tuple(cls.servers) + (server,)
        return server

    def diagnostics(self, report=None, stderr=""):
        """Text appended to failure messages: the results, ocidoctor's stderr
        and the registries' logs, all with secrets redacted."""
        parts = ["results:\n" + describe(report or {}),
                 "ocidoctor stderr tail:\n" + stderr[-2000:]]
        for server in self.servers:
            if isinstance(server, Registry):
                parts.append("registry log tail:\n" + server.log_tail(15))
        return redact("\n".join(parts), self.secrets())

    def assertStatus(self, report, check, status, stderr=""):
        """The check's status is `status` (or one of them, given a tuple)."""
        wanted = (status,) if isinstance(status, str) else tuple(status)
        got = result_of(report, check).get("status")
        if got not in wanted:
            self.fail("%s: status %r, wanted %s\n%s" % (check_id(check), got, "/".join(wanted),
                                                          self.diagnostics(report, stderr)))

    def assertExit(self, code, wanted, report=None, stderr=""):
        if code != wanted:
            self.fail("exit code %d, wanted %d\n%s" % (code, wanted,
                                                         self.diagnostics(report, stderr)))

    def assertMessageMatches(self, report, check, pattern):
        """The check's message (or, failing that, its details) matches regex pattern."""
        result = result_of(report, check)
        text = "%s %s" % (result.get("message", ""), json.dumps(result.get("details", {})))
        if not re.search(pattern, text, re.IGNORECASE):
            self.fail("%s: %r does not match /%s/"
                      % (check_id(check), redact(text, self.secrets()), pattern))

    def assertTraced(self, code, _stdout, stderr):
        """A -v run gave a verdict (exit 0-2) and wrote a trace on stderr, so
        that a secret check on its output means something."""
        self.assertIn(code, (EXIT_OK, EXIT_WARN, EXIT_FAIL), redact(stderr[-500:]))
        self.assertTrue(stderr.strip(), "-v wrote no trace on stderr")

    def assertNoSecrets(self, secrets, *texts):
        """None of the secrets occurs in any of the texts (without printing them)."""
        for secret in secrets:
            if not secret:
                continue
            for i, text in enumerate(texts):
                if secret in text:
                    self.fail("a secret (%d characters) leaked into output #%d:\n%s"
                              % (len(secret), i, redact(text, secrets)[:2000]))
