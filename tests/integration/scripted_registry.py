"""A registry we script: answers that no real registry on this machine gives.

The docker-registry in harness.py shows how distribution 2.8 behaves, and
nothing else. The referrers and capability checks must also judge the
answers of registries we cannot run here: an OCI 1.1 registry with a real
referrers API, Harbor's `{}`, a login page behind a redirect, ACR's
REGISTRY_DISALLOWED_OPERATION, Quay refusing blob deletes, ECR answering a
PATCH with 201, and so on (each profile below names the product). This
module is a small in-process OCI registry whose answers a test picks with
keyword options. Its baseline is a well-behaved OCI 1.1 registry holding one
image, library/alpine:latest (harness.build_test_image's bytes).

It also keeps score of what a client did to it: every request is recorded
(Authorization values hidden: a SHA-256 of each is kept, for
received_authorization()), and the state that a careful doctor must
leave as it found it is exposed: upload sessions still open, blobs linked by
a mount and not removed, deletes by tag, blob uploads completed by PUT.

    with ScriptedRegistry(referrers="404-plain", delete="405") as reg:
        ... run ocidoctor against reg.url ...
        assert reg.open_sessions() == []

Only the Python standard library is used.
"""

import hashlib
import http.client
import http.server
import json
import re
import ssl
import threading
import time
import traceback
import urllib.parse
import uuid

import harness as h

REPOSITORY, TAG = "library/alpine", "latest"
ARTIFACT_TYPE = "application/vnd.ocidoctor.test.v1"
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$|^sha512:[0-9a-f]{128}$")

# The values each option accepts.
REFERRERS_MODES = ("index", "index-wrong-type", "404-index", "404-plain", "404-json-error",
                   "404-name-unknown", "405", "200-not-json", "200-empty-object",
                   "redirect-login")
# These answer the same whether the repository exists or not: the route is
# missing or hijacked, so the registry never looks at the repository.
ROUTE_LEVEL_REFERRERS = ("404-plain", "405", "200-not-json", "redirect-login")
MOUNT_MODES = ("ok", "always-202")
PATCH_MODES = ("ok", "refused", "no-range", "201", "416")
DELETE_MODES = ("ok", "405", "405-acr", "400-unsupported", "403-denied", "blobs-405")
OPTIONS_MODES = ("allow-all", "unimplemented")
# subject_header: the OCI-Subject a manifest push with a subject is answered with
SUBJECT_HEADER_MODES = (None, "exact", "none", "other")
# artifact_manifest: how a manifest with artifactType (or the empty config) is refused
ARTIFACT_REFUSALS = (None, "405", "415", "400")
MISSING_SUBJECT_MODES = ("accept", "refuse")
# referrers modes whose registry has the API, so answers pushes with OCI-Subject by default
API_REFERRERS = ("index", "index-wrong-type", "404-index")
EMPTY_CONFIG_TYPE = "application/vnd.oci.empty.v1+json"

# A status_override value that closes the connection without any answer.
DROP = "drop-connection"

# Profiles: how a real product answers the routes where real registries
# differ from each other (measured on distribution 2.8.2 and 3.1.1, olareg
# 0.2.2 and go-containerregistry's registry 0.21.9; Quay from its source).
# Each key is a behaviour the other options do not cover:
#   error_type        Content-Type of error bodies (olareg and ggcr: text/plain)
#   unknown_repo      the code a manifest GET/HEAD/DELETE in a repository
#                     that does not exist answers (404 MANIFEST_UNKNOWN, as
#                     distribution does, or NAME_UNKNOWN)
#   tags_unknown      tags/list of a repository that does not exist: "404"
#                     NAME_UNKNOWN, or "200" with no tags (olareg)
#   blob_delete_unknown  DELETE of a blob the repository does not hold: "404"
#                     BLOB_UNKNOWN, "500" INTERNAL_SERVER_ERROR "not found"
#                     (ggcr), or "202-after-get": 404, but 202 once a GET
#                     asked for that blob in that repository (olareg)
#   shared_blobs      blobs belong to the registry, not a repository: a HEAD in
#                     any repository finds a blob any repository holds, and a
#                     DELETE removes it from all of them (ggcr)
#   referrers_unknown_repo  referrers of a repository that does not exist:
#                     "name-unknown" (404 NAME_UNKNOWN) or "empty-index" (olareg)
#   catalog           what /v2/_catalog lists: "written" (every repository
#                     written to, distribution 2.8 and this module's own view),
#                     "manifests" (only repositories that ever held a
#                     manifest: distribution 3, ggcr) or "none" (404: olareg)
# and defaults for the other options (referrers, subject_header, mount, delete).
PROFILES = {
    # the spec's answers, as distribution 3 gives them; an OCI 1.1 referrers API
    "spec": {},
    # distribution 2.8 and 3.1: no referrers API, no OCI-Subject
    "distribution": {"referrers": "404-plain"},
    "distribution-3": {"referrers": "404-plain", "catalog": "manifests"},
    "olareg": {"error_type": "text/plain; charset=utf-8", "tags_unknown": "200",
               "blob_delete_unknown": "202-after-get", "referrers_unknown_repo": "empty-index",
               "catalog": "none"},
    "ggcr": {"error_type": "text/plain; charset=utf-8", "unknown_repo": "NAME_UNKNOWN",
             "blob_delete_unknown": "500", "shared_blobs": True, "mount": "always-202",
             "subject_header": "none", "catalog": "manifests"},
    # Quay 3.x (from its source): NAME_UNKNOWN for unknown repositories, blob deletes refused
    "quay": {"unknown_repo": "NAME_UNKNOWN", "delete": "blobs-405"},
    # Harbor in read-only mode, or an account over its quota: pushes refused
    # (status_override entries from _profile_overrides)
    "harbor-readonly": {},
}
PROFILE_DEFAULTS = {"error_type": "application/json", "unknown_repo": "MANIFEST_UNKNOWN",
                    "tags_unknown": "404", "blob_delete_unknown": "404", "shared_blobs": False,
                    "referrers_unknown_repo": "name-unknown", "catalog": "written"}


def error_body(code, message, detail=None):
    """The JSON error document of the distribution spec, as bytes."""
    entry = {"code": code, "message": message}
    if detail is not None:
        entry["detail"] = detail
    return json.dumps({"errors": [entry]}).encode()


def empty_index(manifests=()):
    return {"schemaVersion": 2, "mediaType": h.OCI_INDEX, "manifests": list(manifests)}


class Answer:
    """One HTTP answer: status, headers (a list of pairs) and body bytes."""

    def __init__(self, status, body=b"", content_type=None, headers=()):
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.headers = list(headers)
        if content_type:
            self.headers.insert(0, ("Content-Type", content_type))

    @classmethod
    def json(cls, status, doc, content_type="application/json", headers=()):
        return cls(status, json.dumps(doc).encode(), content_type, headers)

    @classmethod
    def error(cls, status, code, message, headers=()):
        return cls(status, error_body(code, message), "application/json", headers)

    @classmethod
    def plain(cls, status, text, headers=()):
        return cls(status, text, "text/plain; charset=utf-8", headers)


def _profile_overrides(profile):
    """The status_override entries of a profile (see ScriptedRegistry)."""
    if profile != "harbor-readonly":
        return {}
    read_only = (403, {"Content-Type": "application/json"},
                 {"errors": [{"code": "DENIED", "message": "The system is in read only mode"}]})
    not_found = (404, {"Content-Type": "application/json"},
                 {"errors": [{"code": "NOT_FOUND", "message": "artifact not found"}]})
    return {("POST", r"/blobs/uploads/"): read_only, ("PATCH", r"^/v2/"): read_only,
            ("PUT", r"^/v2/"): read_only, ("DELETE", r"^/v2/"): not_found}


def _override_answer(value):
    """Turns a status_override value (status, headers, body) into an Answer."""
    status, headers, body = value
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or ())
    return Answer(status, body or b"", None, pairs)


class _Server(http.server.ThreadingHTTPServer):
    """A listen backlog deep enough for a fleet run's bursts of connections
    (socketserver's default of 5 drops SYNs, and the client waits a second
    for each retransmission)."""
    request_queue_size = 512
    ssl_context = None   # set for tls=True: the handshake runs in the request's thread

    def handle_error(self, request, client_address):
        """A client that hung up (a deadline passed) is no error of the server."""
        import sys
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)

    def finish_request(self, request, client_address):
        if self.ssl_context is None:
            return super().finish_request(request, client_address)
        try:
            request.settimeout(10)
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except OSError:    # includes ssl.SSLError: a client that gave up
            return None
        try:
            return super().finish_request(tls, client_address)
        finally:
            tls.close()


class ScriptedRegistry(h.Service):
    """An OCI registry on 127.0.0.1:<free port>, run in a thread.

    Options (defaults are a good OCI 1.1 registry):
      profile          one of PROFILES (default "spec"): the answers of a real
                       product where real registries differ; explicit
                       options below win over the profile's defaults
      referrers        one of REFERRERS_MODES (default "index")
      referrers_count  descriptors in the referrers index (default 0)
      referrers_link   add a Link rel="next" header to the first page
      filters_applied  value of OCI-Filters-Applied on referrers answers
      fallback_tag     True: also store an empty index under the tag
                       sha256-<hex> of the image (the referrers tag schema);
                       "subject": that tag names the image itself (GitLab)
      version_header   send Docker-Distribution-API-Version (default True)
      readonly         uploads and deletes answer 405 text/plain, Allow: GET, HEAD
      upload_status    401 or 403: the answer to every upload start
      chunk_min_length add OCI-Chunk-Min-Length to upload starts
      mount            one of MOUNT_MODES (default "ok")
      patch            one of PATCH_MODES (default "ok")
      delete           one of DELETE_MODES (default "ok")
      options          one of OPTIONS_MODES (default "allow-all")
      subject_header   OCI-Subject on a push of a manifest with a subject: "exact"
                       (its digest), "none", "other" (another digest); default
                       "exact" where the referrers mode is an API, else "none"
      list_pushed      the referrers API lists the manifests pushed with a
                       subject (default True; False: OCI-Subject but nothing
                       listed, as ECR once did)
      filter_artifact_type  ?artifactType= filters the pushed referrers and the
                       answer says OCI-Filters-Applied: artifactType (default True)
      artifact_manifest  one of ARTIFACT_REFUSALS: a manifest with artifactType
                       or the empty config is refused with 405 "Invalid JSON
                       syntax", 415 or 400 MANIFEST_INVALID (ECR, Quay, Docker
                       Hub, Harbor at some point)
      missing_subject  "accept" (default, as the spec says) or "refuse": a
                       manifest whose subject is not in the repository answers
                       400 MANIFEST_BLOB_UNKNOWN
      stall_blob_deletes  ms: a DELETE of a blob the repository holds (but for
                       the write verification's delete-proof blob) waits this
                       long, then answers 503 without deleting it
      delay_ms         sleep this long before every answer
      slow             {(METHOD, path_regex): ms}: sleep this long before
                       answering matching requests (a registry that drips
                       its answers); matched like status_override
      status_override  {(METHOD, path_regex): (status, headers, body) or DROP};
                       METHOD "*" matches any method; the regex is searched
                       in the path with its query string.
      profile          (see above) "harbor-readonly" also presets answers on
                       top of the others (status_override entries of the
                       test still win): it refuses every push (upload start,
                       PATCH, PUT) with 403 DENIED "The system is in read
                       only mode" (Harbor's read-only mode, or an account
                       over its quota), while a DELETE answers 404 NOT_FOUND
                       (Harbor's code, which no client reads as a proof
                       that deletes work)
      auth             None, "basic" (users: {name: password}) or "token"
                       (token_realm, token_service: a harness.TokenServer;
                       any Bearer token is accepted, its signature is not
                       checked): requests without it answer 401 with the
                       challenge, as a registry with authentication does

    Options for fault injection (test_faults.py, test_secrets.py):
      override_first   {(METHOD, path_regex): (n, (status, headers, body))}:
                       like status_override, but only for the first n
                       matching requests (e.g. two 429s, then the real answer);
                       status_override still wins over it
      tls              serve https with a throwaway CA (see .ca_file; call()
                       speaks plain http only)
      tls_days         the server certificate's validity in days (default 2)
      date_offset      seconds added to the Date header of every answer (a
                       registry whose clock is off)
    """

    def __init__(self, referrers=None, referrers_count=0, referrers_link=False,
                 filters_applied=None, fallback_tag=False, version_header=True,
                 readonly=False, upload_status=None, chunk_min_length=None, mount=None,
                 patch="ok", delete=None, options="allow-all", delay_ms=0,
                 status_override=None, auth=None, users=None, token_realm=None,
                 token_service=None, override_first=None, tls=False, slow=None,
                 subject_header=None, list_pushed=True, filter_artifact_type=True,
                 artifact_manifest=None, missing_subject="accept", stall_blob_deletes=0,
                 profile="spec", tls_days=2, date_offset=0):
        _check_choice("profile", profile, tuple(PROFILES))
        self.profile = profile
        traits = dict(PROFILE_DEFAULTS, **PROFILES[profile])
        referrers = referrers or traits.pop("referrers", "index")
        mount = mount or traits.pop("mount", "ok")
        delete = delete or traits.pop("delete", "ok")
        subject_header = subject_header or traits.pop("subject_header", None)
        self.error_type = traits["error_type"]
        self.unknown_repo = traits["unknown_repo"]
        self.tags_unknown = traits["tags_unknown"]
        self.blob_delete_unknown = traits["blob_delete_unknown"]
        self.shared_blobs = traits["shared_blobs"]
        self.referrers_unknown_repo = traits["referrers_unknown_repo"]
        self.catalog = traits["catalog"]
        _check_choice("referrers", referrers, REFERRERS_MODES)
        _check_choice("mount", mount, MOUNT_MODES)
        _check_choice("patch", patch, PATCH_MODES)
        _check_choice("delete", delete, DELETE_MODES)
        _check_choice("options", options, OPTIONS_MODES)
        _check_choice("upload_status", upload_status, (None, 401, 403))
        _check_choice("subject_header", subject_header, SUBJECT_HEADER_MODES)
        _check_choice("artifact_manifest", artifact_manifest, ARTIFACT_REFUSALS)
        _check_choice("missing_subject", missing_subject, MISSING_SUBJECT_MODES)
        if subject_header is None:
            subject_header = "exact" if referrers in API_REFERRERS else "none"
        self.subject_header = subject_header
        self.list_pushed = list_pushed
        self.filter_artifact_type = filter_artifact_type
        self.artifact_manifest = artifact_manifest
        self.missing_subject = missing_subject
        self.stall_blob_deletes = stall_blob_deletes
        self.referrers = referrers
        self.referrers_count = referrers_count
        self.referrers_link = referrers_link
        self.filters_applied = filters_applied
        self.version_header = version_header
        self.readonly = readonly
        self.upload_status = upload_status
        self.chunk_min_length = chunk_min_length
        self.mount = mount
        self.patch = patch
        self.delete = delete
        self.options = options
        self.delay_ms = delay_ms
        self.slow = dict(slow or {})
        self.status_override = dict(status_override or {})
        for key, value in _profile_overrides(profile).items():
            self.status_override.setdefault(key, value)
        _check_choice("auth", auth, (None, "basic", "token"))
        self.auth = auth
        self.users = dict(users or {})
        self.token_realm = token_realm
        self.token_service = token_service
        # -- fault-injection options (added for test_faults.py) --
        self.override_first = {key: [n, answer] for key, (n, answer)
                               in (override_first or {}).items()}
        self.tls = tls
        self.tls_days = tls_days
        self.date_offset = date_offset
        self.ca_file = None
        self._ssl_context = None
        # -- end of fault-injection options --
        self._lock = threading.Lock()
        self._in_flight = 0
        self.max_in_flight = 0    # most requests being answered at once
        self._log = []
        self._blobs = {}          # digest -> bytes
        self._repos = {}          # name -> {"manifests": {digest: (type, bytes)}, "tags", "blobs"}
        self._sessions = {}       # uuid -> {"repo", "data", "open"}
        self._mounted = []        # [repo, digest] linked by a mount and still linked
        self._tag_deletes = []    # [repo, tag]
        self._blob_puts = []      # [repo, digest]
        self._blob_gets = set()   # (repo, digest) of GETs of blobs not held
        self._had_manifest = set()  # repositories that ever held a manifest
        self.short_chunks = []    # [repo, length] of PATCHes under chunk_min_length (a last chunk may be)
        self._httpd = None
        self.port = None
        self._seed(fallback_tag)

    # -- the image --

    def _seed(self, fallback_tag):
        config, layer, manifest = h.build_test_image()
        self.config_digest = self._add_blob(REPOSITORY, config)
        self.layer_digest = self._add_blob(REPOSITORY, layer)
        self.manifest_digest = self._add_manifest(REPOSITORY, TAG, h.OCI_MANIFEST, manifest)
        self.fallback_tag = self.manifest_digest.replace(":", "-")
        if fallback_tag == "subject":
            self._repo(REPOSITORY)["tags"][self.fallback_tag] = self.manifest_digest
        elif fallback_tag:
            index = json.dumps(empty_index()).encode()
            self._add_manifest(REPOSITORY, self.fallback_tag, h.OCI_INDEX, index)

    def _repo(self, name, create=False):
        if create and name not in self._repos:
            self._repos[name] = {"manifests": {}, "tags": {}, "blobs": set()}
        return self._repos.get(name)

    def _add_blob(self, repo, data):
        digest = h.sha256_digest(data)
        self._blobs[digest] = data
        self._repo(repo, create=True)["blobs"].add(digest)
        return digest

    def _add_manifest(self, repo, tag, media_type, data):
        digest = h.sha256_digest(data)
        entry = self._repo(repo, create=True)
        entry["manifests"][digest] = (media_type, data)
        self._had_manifest.add(repo)
        if tag:
            entry["tags"][tag] = digest
        return digest

    # -- lifecycle --

    def start(self):
        if self.tls:
            self._ssl_context = self._make_ssl_context()
        self._httpd = _Server(("127.0.0.1", 0), _make_handler(self))
        self._httpd.ssl_context = self._ssl_context
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        h.serve_in_background(self._httpd, "scripted-registry")
        h._track(self)
        return self

    def stop(self):
        h._untrack(self)
        if self._httpd is not None:
            h.shut_down(self._httpd)
            self._httpd = None

    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    @property
    def url(self):
        return ("https://" if self.tls else "http://") + self.host

    def _make_ssl_context(self):
        """A server context for 127.0.0.1 signed by a new CA (.ca_file)."""
        directory = h.scratch_dir("scripted-tls-")
        ca_cert, ca_key = h.make_ca(directory)
        cert, key = h.make_server_cert(directory, ca_cert, ca_key, days=self.tls_days)
        self.ca_file = ca_cert
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        return context

    def call(self, method, path, body=b"", headers=None, conn=None):
        """One request without redirects; returns (status, headers, body).
        conn, an http.client.HTTPConnection to this registry, is reused."""
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.headers, resp.read()
        finally:
            if own:
                conn.close()

    # -- what a test asserts on --

    def requests(self, method=None, path_contains=None):
        """The recorded requests, oldest first, each a dict with method, path,
        query ({name: [values]}), headers, body_length and status."""
        with self._lock:
            return [dict(r) for r in self._log
                    if (method is None or r["method"] == method)
                    and (path_contains is None or path_contains in r["path"])]

    def received_authorization(self, value):
        """How many requests carried exactly this Authorization value (the
        log keeps its SHA-256 only, never the value)."""
        digest = hashlib.sha256(value.encode()).hexdigest()
        with self._lock:
            return sum(1 for r in self._log if r["authorization_sha256"] == digest)

    def clear_requests(self):
        with self._lock:
            self._log.clear()

    def open_sessions(self):
        """[repo, uuid] of upload sessions opened and not closed by DELETE or PUT."""
        with self._lock:
            return [[s["repo"], sid] for sid, s in self._sessions.items() if s["open"]]

    def mounted_links(self):
        """[repo, digest] of blobs linked by a mount and not deleted since."""
        with self._lock:
            return [list(link) for link in self._mounted]

    def deletes_by_tag(self):
        """[repo, tag] of every DELETE on a manifest by tag (never allowed)."""
        with self._lock:
            return [list(d) for d in self._tag_deletes]

    def blob_puts(self):
        """[repo, digest] of every upload completed by PUT (never allowed)."""
        with self._lock:
            return [list(p) for p in self._blob_puts]

    def contents(self, repo):
        """What a repository holds: {"manifests": [digest], "tags": [tag],
        "blobs": [digest]} (empty lists for a repository never written)."""
        with self._lock:
            entry = self._repos.get(repo) or {"manifests": {}, "tags": {}, "blobs": set()}
            return {"manifests": sorted(entry["manifests"]), "tags": sorted(entry["tags"]),
                    "blobs": sorted(entry["blobs"])}

    def repository_exists(self, name):
        with self._lock:
            return name in self._repos

    def blob_linked(self, repo, digest):
        with self._lock:
            entry = self._repos.get(repo)
            return bool(entry) and digest in entry["blobs"]

    # -- answering --

    def answer(self, method, target, headers, body):
        """Records the request and works out its Answer (or DROP)."""
        url = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        record = {"method": method, "path": url.path, "query": query,
                  "headers": _scrub_headers(headers), "body_length": len(body),
                  "authorization_sha256": _authorization_digest(headers), "status": None}
        with self._lock:
            self._log.append(record)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        if self.delay_ms:
            time.sleep(self.delay_ms / 1000.0)
        for (m, pattern), ms in self.slow.items():
            if m in ("*", method) and re.search(pattern, target):
                time.sleep(ms / 1000.0)
                break
        stalled = self._stall(method, url.path)
        with self._lock:
            self._in_flight -= 1
        with self._lock:
            result = stalled or self._override(method, target)
            if result is None:
                result = self._override_first(method, target)
            if result is None:
                result = self._challenge(headers)
            if result is None:
                result = self._route_safely(method, url.path, query, headers, body)
            record["status"] = result if result == DROP else result.status
        if result != DROP and self.version_header:
            result.headers.append(("Docker-Distribution-API-Version", "registry/2.0"))
        if result != DROP and result.status >= 400 and self.error_type != "application/json":
            result.headers = [(k, self.error_type if k == "Content-Type"
                               and v == "application/json" else v) for k, v in result.headers]
        return result

    def _stall(self, method, path):
        """stall_blob_deletes: waits, then a 503 for a DELETE of a held blob; else None."""
        m = re.match(r"^/v2/(?P<name>.+)/blobs/(?P<digest>sha256:[0-9a-f]{64})$", path)
        if not self.stall_blob_deletes or method != "DELETE" or not m:
            return None
        with self._lock:
            repo = self._repo(m.group("name"))
            held = repo is not None and m.group("digest") in repo["blobs"]
            proof = self._blobs.get(m.group("digest"), b"").startswith(b"ocidoctor delete proof")
        if not held or proof:
            return None
        time.sleep(self.stall_blob_deletes / 1000.0)
        return Answer.error(503, "UNAVAILABLE", "the storage backend did not answer in time")

    def _challenge(self, headers):
        """The 401 an authenticating registry gives a request without valid credentials."""
        if not self.auth:
            return None
        given = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if self.auth == "basic":
            if given in ("Basic " + h.basic_auth_value(u, p) for u, p in self.users.items()):
                return None
            challenge = 'Basic realm="scripted"'
        else:
            if given.startswith("Bearer ") and len(given) > 7:
                return None
            challenge = 'Bearer realm="%s",service="%s"' % (self.token_realm, self.token_service)
        return Answer.error(401, "UNAUTHORIZED", "authentication required",
                            headers=[("WWW-Authenticate", challenge)])

    def _override_first(self, method, target):
        """The override_first answer while its count lasts, else None."""
        for (m, pattern), entry in self.override_first.items():
            if entry[0] > 0 and m in ("*", method) and re.search(pattern, target):
                entry[0] -= 1
                return DROP if entry[1] == DROP else _override_answer(entry[1])
        return None

    def _override(self, method, target):
        for (m, pattern), value in self.status_override.items():
            if m in ("*", method) and re.search(pattern, target):
                return DROP if value == DROP else _override_answer(value)
        return None

    def _route_safely(self, method, path, query, headers, body):
        """_route, with a bug of this module answered as a 500 with its traceback."""
        try:
            return self._route(method, path, query, headers, body)
        except Exception:  # the client must see something, and the test the cause
            return Answer.plain(500, traceback.format_exc())

    def _route(self, method, path, query, headers, body):
        for pattern, handler in _ROUTES:
            m = re.match(pattern, path)
            if m:
                return handler(self, method, query, headers, body, **m.groupdict())
        return Answer.plain(404, "404 page not found\n")

    # base, catalog, login

    def _base(self, method, query, headers, body):
        if method not in ("GET", "HEAD"):
            return _not_allowed("GET, HEAD")
        return Answer.json(200, {})

    def _login(self, method, query, headers, body):
        return Answer(200, "<html>login</html>", "text/html; charset=utf-8")

    def _catalog(self, method, query, headers, body):
        if self.catalog == "none":
            return Answer(404, b"")
        names = sorted(n for n in self._repos
                       if self.catalog == "written" or n in self._had_manifest)
        return Answer.json(200, {"repositories": names})

    def _tags(self, method, query, headers, body, name):
        repo = self._repo(name)
        if repo is None and self.tags_unknown == "200":
            return Answer.json(200, {"name": name, "tags": []})
        if repo is None:
            return _name_unknown(name)
        return Answer.json(200, {"name": name, "tags": sorted(repo["tags"])})

    # manifests

    def _manifests(self, method, query, headers, body, name, ref):
        if method == "OPTIONS":
            return self._options("DELETE, GET, HEAD, PUT")
        if method == "DELETE":
            return self._delete_manifest(name, ref)
        if method == "PUT":
            return self._put_manifest(name, ref, headers, body)
        if method not in ("GET", "HEAD"):
            return _not_allowed("DELETE, GET, HEAD, PUT")
        repo = self._repo(name)
        if repo is None:
            return self._unknown_repo_manifest(name)
        digest = ref if ":" in ref else repo["tags"].get(ref)
        if digest not in repo["manifests"]:
            return Answer.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        media_type, data = repo["manifests"][digest]
        return Answer(200, data, media_type, [("Docker-Content-Digest", digest)])

    def _put_manifest(self, name, ref, headers, body):
        if self.readonly:
            return _read_only()
        media_type = headers.get("Content-Type") or h.OCI_MANIFEST
        try:
            doc = json.loads(body)
        except ValueError:
            return Answer.error(400, "MANIFEST_INVALID", "manifest invalid")
        if not isinstance(doc, dict):
            return Answer.error(400, "MANIFEST_INVALID", "manifest invalid")
        refused = self._refuse_manifest(name, doc)
        if refused:
            return refused
        if ":" in ref and h.sha256_digest(body) != ref:
            return Answer.error(400, "DIGEST_INVALID", "provided digest did not match uploaded content")
        digest = self._add_manifest(name, None if ":" in ref else ref, media_type, body)
        extra = []
        subject = (doc.get("subject") or {}).get("digest")
        if subject and self.subject_header == "exact":
            extra.append(("OCI-Subject", subject))
        elif subject and self.subject_header == "other":
            extra.append(("OCI-Subject", h.sha256_digest(b"another digest " + subject.encode())))
        return Answer(201, b"", None, [("Location", "/v2/%s/manifests/%s" % (name, digest)),
                                       ("Docker-Content-Digest", digest)] + extra)

    def _unknown_repo_manifest(self, name):
        """A manifest request in a repository that does not exist."""
        if self.unknown_repo == "NAME_UNKNOWN":
            return _name_unknown(name)
        return Answer.error(404, "MANIFEST_UNKNOWN", "manifest unknown")

    def _holds_blob(self, repo, digest):
        """Whether a blob is there for a repository (any repository's, with shared_blobs)."""
        if self.shared_blobs:
            return digest in self._blobs and any(digest in r["blobs"] for r in self._repos.values())
        return repo is not None and digest in repo["blobs"]

    def _refuse_manifest(self, name, doc):
        """Why a pushed manifest is refused (an Answer), or None."""
        repo = self._repo(name) or {"blobs": set(), "manifests": {}}
        config = doc.get("config") or {}
        artifact = "artifactType" in doc or config.get("mediaType") == EMPTY_CONFIG_TYPE
        if artifact and self.artifact_manifest == "405":
            return Answer.error(405, "UNSUPPORTED", "Invalid JSON syntax")
        if artifact and self.artifact_manifest == "415":
            return Answer.plain(415, "unsupported media type\n")
        if artifact and self.artifact_manifest == "400":
            return Answer.error(400, "MANIFEST_INVALID", "manifest invalid")
        wanted = [d.get("digest") for d in [config] + list(doc.get("layers") or []) if d]
        if any(not self._holds_blob(repo, d) for d in wanted if d):
            return Answer.error(400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry")
        subject = (doc.get("subject") or {}).get("digest")
        if subject and self.missing_subject == "refuse" and subject not in repo["manifests"]:
            return Answer.error(400, "MANIFEST_BLOB_UNKNOWN", "subject manifest unknown")
        return None

    def _delete_manifest(self, name, ref):
        if ":" not in ref:
            self._tag_deletes.append([name, ref])
            return Answer.error(400, "UNSUPPORTED", "delete by tag is not supported")
        refused = self._delete_refusal("manifest")
        if refused:
            return refused
        repo = self._repo(name)
        if repo is None:
            return self._unknown_repo_manifest(name)
        if ref not in repo["manifests"]:
            return Answer.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        del repo["manifests"][ref]
        for tag in [t for t, d in repo["tags"].items() if d == ref]:
            del repo["tags"][tag]
        return Answer(202)

    # blobs

    def _blob(self, method, query, headers, body, name, digest):
        if method == "OPTIONS":
            return self._options("DELETE, GET, HEAD")
        if method == "DELETE":
            return self._delete_blob(name, digest)
        if method not in ("GET", "HEAD"):
            return _not_allowed("DELETE, GET, HEAD")
        if not self._holds_blob(self._repo(name), digest):
            if method == "GET":
                self._blob_gets.add((name, digest))
            return Answer.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
        return Answer(200, self._blobs[digest], "application/octet-stream",
                      [("Docker-Content-Digest", digest)])

    def _delete_blob(self, name, digest):
        refused = self._delete_refusal("blob")
        if refused:
            return refused
        if not DIGEST_RE.match(digest):
            return Answer.error(400, "DIGEST_INVALID", "provided digest did not match")
        repo = self._repo(name)
        if not self._holds_blob(repo, digest):
            if self.blob_delete_unknown == "202-after-get" and (name, digest) in self._blob_gets:
                return Answer(202)
            if self.blob_delete_unknown == "500":
                return Answer.error(500, "INTERNAL_SERVER_ERROR", "not found")
            return Answer.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
        for other, entry in self._repos.items():
            if other == name or self.shared_blobs:
                entry["blobs"].discard(digest)
                if [other, digest] in self._mounted:
                    self._mounted.remove([other, digest])
        return Answer(202)

    def _delete_refusal(self, kind):
        """The answer when deletes of this kind are refused, else None."""
        mode = self.delete
        if self.readonly:
            return _read_only()
        if mode == "405" or (mode == "blobs-405" and kind == "blob"):
            return Answer.error(405, "UNSUPPORTED", "The operation is unsupported.")
        if mode == "405-acr":
            return Answer.error(405, "REGISTRY_DISALLOWED_OPERATION",
                                "The operation is disallowed on this registry.")
        if mode == "400-unsupported":
            return Answer.error(400, "UNSUPPORTED", "the operation is unsupported")
        if mode == "403-denied":
            return Answer.error(403, "DENIED", "requested access to the resource is denied")
        return None

    def _options(self, allow):
        if self.options == "unimplemented":
            return Answer.plain(405, "Method not allowed\n")
        return Answer(200, b"", None, [("Allow", allow)])

    # referrers

    def _referrers(self, method, query, headers, body, name, digest):
        if method not in ("GET", "HEAD"):
            return _not_allowed("GET, HEAD")
        mode = self.referrers
        if mode not in ROUTE_LEVEL_REFERRERS and self._repo(name) is None:
            if self.referrers_unknown_repo == "empty-index":
                return Answer.json(200, empty_index(), h.OCI_INDEX)
            return _name_unknown(name)
        if mode == "404-plain":
            return Answer.plain(404, "404 page not found\n")
        if mode == "405":
            return Answer.plain(405, "Method not allowed\n")
        if mode == "200-not-json":
            return Answer(200, "<html>login</html>", "text/html; charset=utf-8")
        if mode == "redirect-login":
            return Answer(302, "<a href=\"/login\">Found</a>.\n", "text/html; charset=utf-8",
                          [("Location", "/login")])
        if mode == "200-empty-object":
            return Answer.json(200, {}, "application/json; charset=utf-8")
        if mode == "404-json-error":
            return Answer.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        if mode == "404-name-unknown":
            return _name_unknown(name)
        return self._referrers_index(mode, name, digest, query)

    def _referrers_index(self, mode, name, digest, query):
        status = 404 if mode == "404-index" else 200
        content_type = "application/json" if mode == "index-wrong-type" else h.OCI_INDEX
        extra = []
        if self.referrers_link and "last" not in query:
            extra.append(("Link", '</v2/%s/referrers/%s?last=x>; rel="next"' % (name, digest)))
        wanted = query.get("artifactType", [None])[0]
        if self.filters_applied:
            extra.append(("OCI-Filters-Applied", self.filters_applied))
        elif wanted and self.filter_artifact_type:
            extra.append(("OCI-Filters-Applied", "artifactType"))
        found = self._referrer_descriptors() + self._pushed_referrers(name, digest)
        if wanted and self.filter_artifact_type:
            found = [d for d in found if d.get("artifactType") == wanted]
        return Answer.json(status, empty_index(found), content_type, extra)

    def _pushed_referrers(self, name, digest):
        """Descriptors of the manifests pushed to name with this subject."""
        repo = self._repo(name)
        if not self.list_pushed or repo is None:
            return []
        out = []
        for d, (media_type, data) in sorted(repo["manifests"].items()):
            try:
                doc = json.loads(data)
            except ValueError:
                continue
            if not isinstance(doc, dict) or (doc.get("subject") or {}).get("digest") != digest:
                continue
            entry = {"mediaType": doc.get("mediaType") or media_type, "digest": d,
                     "size": len(data),
                     "artifactType": doc.get("artifactType")
                     or (doc.get("config") or {}).get("mediaType")}
            if doc.get("annotations"):
                entry["annotations"] = doc["annotations"]
            out.append(entry)
        return out

    def _referrer_descriptors(self):
        out = []
        for i in range(self.referrers_count):
            data = ("ocidoctor scripted referrer %d" % i).encode()
            out.append({"mediaType": h.OCI_MANIFEST, "digest": h.sha256_digest(data),
                        "size": len(data), "artifactType": ARTIFACT_TYPE})
        return out

    # uploads

    def _upload_start(self, method, query, headers, body, name):
        if method != "POST":
            return _not_allowed("POST")
        if self.readonly:
            return _read_only()
        if self.upload_status == 401:
            return Answer.error(401, "UNAUTHORIZED", "authentication required",
                                [("WWW-Authenticate", 'Basic realm="scripted-registry"')])
        if self.upload_status == 403:
            return Answer.error(403, "DENIED", "requested access to the resource is denied")
        mounted = self._try_mount(name, query)
        return mounted or self._new_session(name)

    def _try_mount(self, name, query):
        """201 when a ?mount=&from= request links a blob, else None."""
        digest = query.get("mount", [None])[0]
        source = self._repo(query.get("from", [""])[0])
        if not digest or self.mount != "ok" or source is None or digest not in source["blobs"]:
            return None
        target = self._repo(name, create=True)
        if digest not in target["blobs"]:
            target["blobs"].add(digest)
            self._mounted.append([name, digest])
        return Answer(201, b"", None, [("Location", "/v2/%s/blobs/%s" % (name, digest)),
                                       ("Docker-Content-Digest", digest)])

    def _new_session(self, name):
        sid = str(uuid.uuid4())
        self._sessions[sid] = {"repo": name, "data": bytearray(), "open": True,
                               "state": uuid.uuid4().hex}
        extra = [("Range", "0-0")]
        if self.chunk_min_length:
            extra.append(("OCI-Chunk-Min-Length", str(self.chunk_min_length)))
        return self._session_answer(202, name, sid, extra)

    def _session_answer(self, status, name, sid, extra=()):
        location = "/v2/%s/blobs/uploads/%s?_state=%s" % (name, sid,
                                                          self._sessions[sid]["state"])
        return Answer(status, b"", None, [("Location", location),
                                          ("Docker-Upload-UUID", sid)] + list(extra))

    def _session(self, method, query, headers, body, name, sid):
        session = self._sessions.get(sid)
        if session is None or not session["open"] or session["repo"] != name:
            return Answer.error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
        if method == "DELETE":
            session["open"] = False
            return Answer(204)
        if method == "PATCH":
            return self._patch(session, name, sid, headers, body)
        if method == "PUT":
            return self._complete(session, name, query, body)
        if method == "GET":
            return self._session_answer(204, name, sid, [("Range", _range(session))])
        return _not_allowed("DELETE, GET, PATCH, PUT")

    def _patch(self, session, name, sid, headers, body):
        if self.patch == "refused":
            return Answer.error(405, "UNSUPPORTED", "The operation is unsupported.")
        if self.chunk_min_length and len(body) < self.chunk_min_length:
            # allowed for the last chunk only, which the registry cannot tell yet
            self.short_chunks.append([name, len(body)])
        if self.patch == "416" or not _range_fits(headers.get("Content-Range"),
                                                  len(session["data"]), len(body)):
            return Answer.error(416, "BLOB_UPLOAD_INVALID", "invalid content range",
                                [("Range", _range(session))])
        session["data"] += body
        if self.patch == "no-range":
            return self._session_answer(202, name, sid)
        status = 201 if self.patch == "201" else 202
        return self._session_answer(status, name, sid, [("Range", _range(session))])

    def _complete(self, session, name, query, body):
        digest = query.get("digest", [""])[0]
        data = bytes(session["data"] + body)
        if h.sha256_digest(data) != digest:
            return Answer.error(400, "DIGEST_INVALID", "provided digest did not match content")
        session["open"] = False
        self._add_blob(name, data)
        self._blob_puts.append([name, digest])
        return Answer(201, b"", None, [("Location", "/v2/%s/blobs/%s" % (name, digest)),
                                       ("Docker-Content-Digest", digest)])


# Routes, tried in order; the name is everything between /v2/ and the verb.
_ROUTES = [
    (r"^/v2/?$", ScriptedRegistry._base),
    (r"^/login$", ScriptedRegistry._login),
    (r"^/v2/_catalog$", ScriptedRegistry._catalog),
    (r"^/v2/(?P<name>.+)/tags/list$", ScriptedRegistry._tags),
    (r"^/v2/(?P<name>.+)/blobs/uploads/?$", ScriptedRegistry._upload_start),
    (r"^/v2/(?P<name>.+)/blobs/uploads/(?P<sid>[^/]+)$", ScriptedRegistry._session),
    (r"^/v2/(?P<name>.+)/blobs/(?P<digest>[^/]+)$", ScriptedRegistry._blob),
    (r"^/v2/(?P<name>.+)/manifests/(?P<ref>[^/]+)$", ScriptedRegistry._manifests),
    (r"^/v2/(?P<name>.+)/referrers/(?P<digest>[^/]+)$", ScriptedRegistry._referrers),
]


def _check_choice(option, value, allowed):
    if value not in allowed:
        choices = ", ".join(map(repr, allowed))
        raise ValueError("%s=%r: choose one of %s" % (option, value, choices))


def _name_unknown(name):
    return Answer.error(404, "NAME_UNKNOWN", "repository name not known to registry: " + name)


def _not_allowed(allow):
    return Answer.plain(405, "Method not allowed\n", [("Allow", allow)])


def _read_only():
    """What distribution in read-only mode answers to every write."""
    return Answer.plain(405, "Method not allowed\n", [("Allow", "GET, HEAD")])


def _range(session):
    return "0-%d" % max(len(session["data"]) - 1, 0)


def _range_fits(content_range, received, length):
    """A PATCH's Content-Range (or its absence: a streamed chunk) continues
    the upload exactly where it stands."""
    if content_range is None:
        return True
    m = re.match(r"^(?:bytes[ =])?(\d+)-(\d+)$", content_range.strip())
    if not m:
        return False
    start, end = int(m.group(1)), int(m.group(2))
    return start == received and end - start + 1 == length


def _scrub_headers(headers):
    """The request headers as a dict, credentials replaced by <redacted>."""
    out = {}
    for key, value in headers.items():
        if key.lower() in ("authorization", "proxy-authorization"):
            value = value.split(" ", 1)[0] + " <redacted>"
        out[key] = value
    return out


def _authorization_digest(headers):
    """The SHA-256 of the request's Authorization value, or None without one."""
    given = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    return hashlib.sha256(given.encode()).hexdigest() if given is not None else None


def _read_body(handler):
    """Reads the request body whether sized by Content-Length or chunked."""
    if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
        data = bytearray()
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(data)
            data += handler.rfile.read(size)
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _make_handler(registry):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out as two writes: without this, Nagle holds the body
        # back until the client's delayed ACK (40 ms) and every GET pays for it
        disable_nagle_algorithm = True
        timeout = 30

        def log_message(self, *args):
            pass

        def date_time_string(self, timestamp=None):
            return super().date_time_string(
                (time.time() if timestamp is None else timestamp) + registry.date_offset)

        def _serve(self):
            body = _read_body(self)
            result = registry.answer(self.command, self.path, self.headers, body)
            if result == DROP:
                self.close_connection = True
                return
            self.send_response(result.status)
            for name, value in result.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(result.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(result.body)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

    return Handler


# --------------------------------------------------------------------------
# Test-case support
# --------------------------------------------------------------------------

class ScriptedTestCase(h.DoctorTestCase):
    """DoctorTestCase for tests that start a ScriptedRegistry per test."""

    def scripted(self, **options):
        """Starts a ScriptedRegistry for this test (stopped at its end).
        Skips the test, before anything starts, when there is no binary."""
        h.doctor_binary()
        reg = ScriptedRegistry(**options).start()
        self.addCleanup(reg.stop)
        return reg

    def run_against(self, reg, *extra):
        """`ocidoctor run --registry URL EXTRA... --format json` on reg."""
        return self.doctor_json(["run", "--registry", reg.url] + list(extra))

    def details(self, report, check):
        return h.result_of(report, check).get("details") or {}

    def assertLeftNothing(self, reg, deletes_work=True):
        """The doctor cancelled every session, removed what it mounted (when
        deletes work), never deleted by tag and never completed an upload."""
        self.assertEqual(reg.open_sessions(), [], "upload sessions left open")
        if deletes_work:
            self.assertEqual(reg.mounted_links(), [], "mounted blobs left linked")
        self.assertEqual(reg.deletes_by_tag(), [], "a manifest was deleted by tag")
        self.assertEqual(reg.blob_puts(), [], "an upload was completed with PUT")


if __name__ == "__main__":
    # `python3 scripted_registry.py`: serve until Ctrl-C, for curl
    h.serve_until_interrupted(ScriptedRegistry(),
                              "scripted registry at {service.url} (manifest {service.manifest_digest})")
