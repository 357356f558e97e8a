"""Running `ocidoctor serve` in the tests: a started exporter on a free
loopback port, stopped with the suite like every other server, plus an HTTP
client that returns the status, headers and body of any answer (4xx and 5xx
included) and promtool's verdict on an exposition.

Only the Python standard library and Debian's promtool are used.
"""

import http.client as httpclient
import os
import re
import shlex
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import harness as h

PROM_TEXT = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
PROMTOOL = "/usr/bin/promtool"
# Under a wrapper such as valgrind (scripts/test) everything is slower.
WRAPPED = bool(os.environ.get("OCIDOCTOR_WRAPPER", "").strip())
SLACK = 10 if WRAPPED else 1


class Answer:
    def __init__(self, status, headers, body, seconds):
        self.status = status
        self.headers = headers
        self.body = body
        self.seconds = seconds

    @property
    def content_type(self):
        return self.headers.get("Content-Type")

    def __repr__(self):
        return "<%d %s: %r>" % (self.status, self.content_type, self.body[:300])


def http(method, url, headers=None, timeout=60, data=None):
    """Any answer as an Answer; a refused connection raises. A POST without
    data sends no body and no Content-Type (as `curl -X POST` does)."""
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    start = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Answer(r.status, dict(r.headers), r.read().decode(), time.monotonic() - start)
    except urllib.error.HTTPError as e:
        return Answer(e.code, dict(e.headers), e.read().decode(), time.monotonic() - start)


def get_from(source, url_host, port, path, timeout):
    """GET path from another loopback address (source, e.g. "127.0.0.2"):
    (status, body, seconds). A client that is not the one flooding the server."""
    conn = httpclient.HTTPConnection(url_host, port, timeout=timeout,
                                      source_address=(source, 0))
    start = time.monotonic()
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode(), time.monotonic() - start
    finally:
        conn.close()


def promtool_check_metrics(text):
    """(ok, output) of `promtool check metrics` on text."""
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, encoding="utf-8", timeout=30)
    return p.returncode == 0 and not p.stdout.strip(), p.stdout


def samples(text):
    """{(name, frozenset(labels.items())): value} of an exposition (simple parser:
    label values here hold no comma, brace or escaped quote)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, value = line.rsplit(" ", 1)
        if "{" in head:
            name, rest = head.split("{", 1)
            labels = {}
            for pair in rest.rstrip("}").split(","):
                k, v = pair.split("=", 1)
                labels[k] = v.strip('"')
        else:
            name, labels = head, {}
        out[(name, frozenset(labels.items()))] = float(value)
    return out


def value(text, name, **labels):
    return samples(text).get((name, frozenset(labels.items())))


class Exporter(h.Service):
    """`ocidoctor serve` on 127.0.0.1:<free port> with args; stderr kept in a file."""

    def __init__(self, *args, config=None):
        self.args = list(args)
        self.dir = h.scratch_dir("serve-")
        self.config_path = None
        if config is not None:
            self.config_path = os.path.join(self.dir, "serve.yaml")
            self.write_config(config)
            self.args += ["--config", self.config_path]
        self.log_path = os.path.join(self.dir, "serve.log")
        self.port = None
        self.proc = None

    def write_config(self, text):
        with open(self.config_path, "w") as f:
            f.write(text)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        self.port = h.free_port()
        wrapper = shlex.split(os.environ.get("OCIDOCTOR_WRAPPER", ""))
        cmd = wrapper + [h.doctor_binary(), "serve", "--listen", "127.0.0.1:%d" % self.port] + self.args
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                     env=h.doctor_env(None, self.dir), cwd=self.dir,
                                     start_new_session=True)
        h._track(self)
        h.wait_port(self.port, timeout=30, alive=lambda: self.proc.poll() is None)
        return self

    def stop(self):
        """SIGTERM, then checks that the exporter stopped cleanly: exit status 0
        and no sanitizer or valgrind report in its log (so leaks and memory
        errors of a long-running server fail the test that started it)."""
        h._untrack(self)
        proc, self.proc = self.proc, None
        if proc is None:
            return
        killed = False
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                killed = True
        self.log.close()
        text = self.stderr()
        bad = [m for m in (r"ERROR: AddressSanitizer", r"ERROR: LeakSanitizer", r"runtime error:",
                           r"Invalid (read|write)", r"definitely lost: [1-9]")
               if re.search(m, text)]
        if killed or proc.returncode != 0 or bad:
            raise AssertionError("ocidoctor serve did not stop cleanly (exit %s%s%s):\n%s"
                                 % (proc.returncode, ", killed" if killed else "",
                                    ", " + ", ".join(bad) if bad else "", text[-4000:]))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def get(self, path, headers=None, timeout=60):
        return http("GET", self.url + path, headers, timeout)

    def post(self, path, headers=None, data=None):
        return http("POST", self.url + path, headers, data=data)

    def probe(self, target, headers=None, timeout=60, **params):
        query = urllib.parse.urlencode(dict(params, target=target))
        return self.get("/probe?" + query, headers, timeout)

    def stderr(self):
        with open(self.log_path) as f:
            return f.read()
