"""The real clients judge ocidoctor's client predictions.

The referrers check predicts, for oras, go-containerregistry (cosign's
library) and regclient (regctl), whether each lists and attaches referrers
through the Referrers API or through the `sha256-<hex>` tag schema
(details.clients, see docs/checks/check.integration.oci.referrers.md).
Here the real clients say what they do: on a fresh registry holding the
test image, `oras discover` / `oras attach`, `regctl artifact list` /
`regctl artifact put --subject` and `ggcr-referrers list` / `attach`
(go-containerregistry's remote.Referrers / remote.Write with a subject, the
path cosign takes) each run once, and what the client did is read from the
registry side: a GET or HEAD of manifests/sha256-<hex> is a listing through
the tag, a PUT of it an attach through the tag, a failed command an error.
Then `ocidoctor run --writes verify` on another fresh registry of the same
kind must have predicted exactly that, with no `unknown`.

The registries: the four real ones (distribution 2.8 and 3.1, olareg,
go-containerregistry's registry; interop.py), each behind a recording
reverse proxy on loopback (Go clients never use a forward proxy for
loopback), and the scripted registry with the options that model products
(Harbor 2.8-2.9's index served as application/json, a login page, GitLab's
fallback tag, ECR answering OCI-Subject without listing, ...), whose own
request log is read.

Without the binaries the tests are skipped, naming what is missing;
scripts/test sets OCIDOCTOR_INTEROP_REQUIRED so that CI fails instead.
"""

import http.client
import http.server
import json
import os
import threading
import unittest

import harness as h
import interop
import schema_check
import scripted_registry as sr

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                      "report.schema.json")
REPO = "library/alpine"
ARTIFACT_TYPE = "application/vnd.ocidoctor.interop.v1"
CLIENTS = ("oras", "go-containerregistry", "regclient")
# ocidoctor's name of a client -> the key of interop.CLIENTS that runs it
RUNNERS = {"oras": "oras", "go-containerregistry": "ggcr", "regclient": "regctl"}

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
               "transfer-encoding", "upgrade", "content-length"}


class RecordingProxy(h.Service):
    """A reverse proxy on 127.0.0.1:<free port> in front of one registry:
    forwards every request unchanged (Host included, so that the absolute
    Locations a registry builds point back here) and records method, path
    and status."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self._lock = threading.Lock()
        self._log = []
        self._httpd = None
        self.port = None

    def start(self):
        self._httpd = sr._Server(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        h.serve_in_background(self._httpd, "recording-proxy")
        h._track(self)
        return self

    def stop(self):
        h._untrack(self)
        if self._httpd is not None:
            h.shut_down(self._httpd)
            self._httpd = None

    def requests(self):
        with self._lock:
            return list(self._log)

    def _forward(self, method, target, headers, body):
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        try:
            # putheader: repeated headers (several Accept lines) stay repeated
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for key, value in headers.items():
                if key.lower() not in _HOP_BY_HOP:
                    conn.putheader(key, value)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def _handler_class(self):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _serve(self):
                body = sr._read_body(self)
                status, headers, data = proxy._forward(self.command, self.path,
                                                       self.headers, body)
                with proxy._lock:
                    proxy._log.append({"method": self.command,
                                       "path": self.path.split("?", 1)[0], "status": status})
                self.send_response(status)
                length = None
                for key, value in headers:
                    if key.lower() == "content-length":
                        length = value
                    elif key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                # a HEAD answer keeps the length of what a GET would send
                self.send_header("Content-Length",
                                 length if self.command == "HEAD" and length else str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        return Handler


class Real:
    """A real registry (interop.REGISTRIES) with the test image, behind a RecordingProxy."""

    def __init__(self, kind):
        self.kind = kind
        self.reg = None
        self.proxy = None

    def start(self):
        self.reg = interop.start(self.kind)
        self.manifest_digest, _ = self.reg.push_image(REPO)
        self.proxy = RecordingProxy(self.reg.port).start()
        return self

    def stop(self):
        for service in (self.proxy, self.reg):
            if service is not None:
                service.stop()

    @property
    def host(self):          # what the clients talk to
        return "127.0.0.1:%d" % self.proxy.port

    @property
    def url(self):           # what ocidoctor talks to
        return self.reg.url

    def requests(self):
        return self.proxy.requests()

    def tags(self):
        return self.reg.tags(REPO)


class Scripted:
    """The scripted registry with some options; it records requests itself."""

    def __init__(self, **options):
        self.options = options
        self.reg = None

    def start(self):
        self.reg = sr.ScriptedRegistry(**self.options).start()
        self.manifest_digest = self.reg.manifest_digest
        return self

    def stop(self):
        if self.reg is not None:
            self.reg.stop()

    @property
    def host(self):
        return self.reg.host

    @property
    def url(self):
        return self.reg.url

    def requests(self):
        return self.reg.requests()

    def tags(self):
        return self.reg.contents(REPO)["tags"]


def run_client(name, verb, target):
    """Runs one real client's list or attach of the test image's referrers
    on target; returns (exit_code, output)."""
    ref = "%s/%s@%s" % (target.host, REPO, target.manifest_digest)
    home = h.scratch_dir("client-home-")
    if name == "oras":
        args = (["discover", "--plain-http", ref] if verb == "list" else
                ["attach", "--plain-http", "--artifact-type", ARTIFACT_TYPE, ref,
                 "--annotation", "org.example=interop"])
    elif name == "regclient":
        code, out, err = interop.client("regctl", ["registry", "set", "--tls", "disabled",
                                                   target.host], home=home)
        if code:
            raise AssertionError("regctl registry set failed: %s%s" % (out, err))
        args = (["artifact", "list", ref] if verb == "list" else
                ["artifact", "put", "--artifact-type", ARTIFACT_TYPE, "--subject", ref,
                 "--annotation", "org.example=interop"])
    else:
        args = ["list", ref] if verb == "list" else ["attach", ref, ARTIFACT_TYPE]
    code, out, err = interop.client(RUNNERS[name], args, home=home)
    return code, (out + err).strip()


def observed(verb, code, requests, digest):
    """What a client did, in ocidoctor's words: "api", "tag-fallback" or "error"."""
    tag_path = "/v2/%s/manifests/%s" % (REPO, digest.replace(":", "-"))
    api_path = "/v2/%s/referrers/%s" % (REPO, digest)
    if code != 0:
        return "error"
    if verb == "list":
        if any(r["path"] == tag_path and r["method"] in ("GET", "HEAD") for r in requests):
            return "tag-fallback"
        if any(r["path"] == api_path for r in requests):
            return "api"
        return "neither (no referrers request, no tag read)"
    if any(r["path"] == tag_path and r["method"] == "PUT" for r in requests):
        return "tag-fallback"
    return "api"


def trace(requests):
    return "\n".join("    %s %s %s" % (r["method"], r["path"], r["status"]) for r in requests)


REAL = ("distribution-2.8", "distribution-3.1", "olareg", "ggcr")


class ClientsJudgePredictionsTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        h.doctor_binary()
        for name in set(RUNNERS.values()):
            interop.binary(interop.CLIENTS[name])
        with open(SCHEMA) as f:
            cls.schema = json.load(f)

    def measure(self, make):
        """{client: {"list", "attach"}} as the real clients did it, each on a fresh registry."""
        got, traces = {}, []
        for name in CLIENTS:
            got[name] = {}
            for verb in ("list", "attach"):
                target = make().start()
                try:
                    code, output = run_client(name, verb, target)
                    requests = target.requests()
                    got[name][verb] = observed(verb, code, requests, target.manifest_digest)
                    tag = target.manifest_digest.replace(":", "-")
                    if verb == "attach" and got[name][verb] == "tag-fallback":
                        # the tag is there afterwards, in the registry's own listing
                        self.assertIn(tag, target.tags(), "%s attach" % name)
                    elif verb == "attach" and got[name][verb] == "api":
                        self.assertNotIn(tag, target.tags(), "%s attach" % name)
                finally:
                    target.stop()
                traces.append("  %s %s: exit %d, %s\n%s\n%s" % (name, verb, code, got[name][verb],
                                                                 output[-400:], trace(requests)))
        return got, "\n".join(traces)

    def predicted(self, make, extra=()):
        """details.clients of the referrers check under --writes verify, on a fresh registry."""
        target = make().start()
        try:
            code, report, err = self.doctor_json(["run", "--registry", target.url,
                                                  "--writes", "verify"] + list(extra))
        finally:
            target.stop()
        self.assertIn(code, (h.EXIT_OK, h.EXIT_WARN, h.EXIT_FAIL), err)
        self.assertEqual(schema_check.validate(report, self.schema), [], h.describe(report))
        clients = h.result_of(report, "referrers")["details"].get("clients") or {}
        return ({name: {"list": c["list"], "attach": c["attach"]} for name, c in clients.items()},
                clients, report)

    def judge(self, make, measured, extra=()):
        got, traces = self.measure(make)
        self.assertEqual(got, expand(measured),
                         "the clients no longer do what was measured:\n" + traces)
        want, clients, report = self.predicted(make, extra)
        for name in CLIENTS:
            self.assertNotEqual(want.get(name, {}).get("attach"), "unknown",
                                "%s: %s" % (name, clients.get(name)))
            self.assertNotEqual(want.get(name, {}).get("list"), "unknown",
                                "%s: %s" % (name, clients.get(name)))
        self.assertEqual(want, got, "ocidoctor predicted (left) what the clients did not "
                         "(right):\n%s\nwhy: %s\nreport:\n%s" % (traces, clients,
                                                                 h.describe(report)))

    def test_real_registries(self):
        for kind in REAL:
            with self.subTest(registry=kind):
                self.judge(lambda: Real(kind), MEASURED_REAL[kind])

    def test_scripted_products(self):
        for label, options, measured, extra in SCRIPTED:
            with self.subTest(product=label):
                self.judge(lambda: Scripted(**options), measured, extra)

    def test_withheld_push_leaves_attach_unknown(self):
        """Where deletes are not shown to work (Quay refuses blob deletes),
        verify pushes nothing without --keep-artifacts, so how oras and
        regclient attach (by the push's OCI-Subject) cannot be known: the
        prediction says so instead of guessing."""
        _, clients, _ = self.predicted(lambda: Scripted(profile="quay"))
        for name in ("oras", "regclient"):
            self.assertEqual(clients[name]["attach"], "unknown", clients[name])
            self.assertIn("pushed nothing", clients[name]["why"])
        self.assertEqual(clients["go-containerregistry"]["attach"], "api")


def expand(row):
    """"api/tag-fallback api/api tag/tag" (oras, go-containerregistry, regclient) -> dict."""
    short = {"api": "api", "tag": "tag-fallback", "error": "error"}
    out = {}
    for name, pair in zip(CLIENTS, row.split()):
        listed, attached = pair.split("/")
        out[name] = {"list": short[listed], "attach": short[attached]}
    return out


# What the clients did, written down too (oras, go-containerregistry, regclient;
# list/attach), so that a change in a client or a registry shows up as such,
# not only as a disagreement with ocidoctor.
MEASURED_REAL = {
    "distribution-2.8": "tag/tag tag/tag tag/tag",
    "distribution-3.1": "tag/tag tag/tag tag/tag",
    "olareg": "api/api api/api api/api",
    "ggcr": "api/tag api/api api/tag",
}

GARBAGE_INDEX = {("GET", r"/referrers/"): (200, {"Content-Type": h.OCI_INDEX}, b"not json at all")}

# label, ScriptedRegistry options, what the clients did (oras, go-containerregistry,
# regclient; list/attach), extra arguments of the ocidoctor run
SCRIPTED = [
    ("OCI 1.1 registry (spec)", {}, "api/api api/api api/api", ()),
    ("distribution 2.8", {"profile": "distribution"}, "tag/tag tag/tag tag/tag", ()),
    ("distribution 3", {"profile": "distribution-3"}, "tag/tag tag/tag tag/tag", ()),
    ("olareg", {"profile": "olareg"}, "api/api api/api api/api", ()),
    ("go-containerregistry", {"profile": "ggcr"}, "api/tag api/api api/tag", ()),
    # blob deletes refused: verify pushes only when told to leave what it pushed
    ("Quay 3.13", {"profile": "quay"}, "api/api api/api api/api", ("--keep-artifacts",)),
    # every upload refused: no client attaches
    ("Harbor read-only", {"profile": "harbor-readonly"}, "api/error api/error api/error", ()),
    ("Harbor 2.8-2.9: index as application/json", {"referrers": "index-wrong-type"},
     "tag/api tag/api tag/api", ()),
    ("login page with 200", {"referrers": "200-not-json"}, "tag/tag tag/api tag/tag", ()),
    ("redirect to a login page (GAR 2023)", {"referrers": "redirect-login"},
     "tag/tag tag/api tag/tag", ()),
    ("garbage under the index type", {"status_override": GARBAGE_INDEX},
     "error/api error/api tag/api", ()),
    ("404 with an index", {"referrers": "404-index"}, "tag/api tag/tag tag/api", ()),
    ("404 JSON error (Quay, API off)", {"referrers": "404-json-error"}, "tag/tag tag/tag tag/tag", ()),
    ("404 NAME_UNKNOWN for a known repository", {"referrers": "404-name-unknown"},
     "error/tag tag/tag tag/tag", ()),
    ("405", {"referrers": "405"}, "error/tag error/error tag/tag", ()),
    ("200 {} (Harbor 2.8-2.10, unknown subject)", {"referrers": "200-empty-object"},
     "tag/tag tag/api tag/tag", ()),
    ("OCI-Subject without listing (ECR once)", {"list_pushed": False}, "api/api api/api api/api", ()),
    ("OCI-Subject naming another digest", {"subject_header": "other"}, "api/api api/api api/tag", ()),
    ("no OCI-Subject, API works", {"subject_header": "none"}, "api/tag api/api api/tag", ()),
    # artifact manifests (artifactType, empty config) refused: ECR once, Quay, Docker Hub;
    # cosign's kind of artifact (a config of its own type) goes in
    ("artifact manifests refused with 405 (ECR)", {"artifact_manifest": "405"},
     "api/error api/api api/error", ()),
    ("artifact manifests refused with 415", {"artifact_manifest": "415"},
     "api/error api/api api/error", ()),
    ("artifact manifests refused with 400, no API", {"artifact_manifest": "400",
                                                    "referrers": "404-plain"},
     "tag/error tag/tag tag/error", ()),
    ("GitLab: sha256-<hex> resolves to the subject",
     {"referrers": "404-plain", "fallback_tag": "subject"}, "tag/tag tag/error error/error", ()),
]


if __name__ == "__main__":
    unittest.main()
