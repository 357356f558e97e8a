"""The capabilities check against registries that differ in one capability.

A ScriptedRegistry is a good OCI 1.1 registry (score 5/5) until a test
takes one thing away: the version header, PATCH, cross-repository mounts
(a 202 fallback), or deletes (refused as distribution, ACR, Harbor or Quay
refuse them, or denied). The check must judge each capability by what the
registry does and not by what it claims: a DELETE refused with 405 is
unsupported even when OPTIONS lists DELETE, and a delete that works is
supported even when OPTIONS is not implemented. A denial (401/403) is
"unknown", never "unsupported"; --no-writes probes nothing that writes and
reports those capabilities "not-probed", which does not count against the
registry.

After every run the registry must be as the doctor found it: no upload
session open, nothing left mounted (when deletes work), no delete by tag,
no upload completed, and the test image untouched.

CapabilitiesServerSelfTest checks the scripted registry itself and needs
no binary.
"""

import http.client
import json
import time
import unittest

import harness as h
import scripted_registry as sr

CHECK = "capabilities"
NAMES = ("distributionVersion", "referrersApi", "chunkedUpload", "crossRepoMount", "delete")
SCRATCH = "library/ocidoctor-scratch"     # for the server's own tests
SCRATCH_OF_RUN = r"^library/ocidoctor-scratch$"   # the scratch repository of every run
NOT_PROBED = "not probed (writes are off)"


def error_code(body):
    return json.loads(body)["errors"][0]["code"]


class CapabilitiesServerSelfTest(unittest.TestCase):
    """The scripted registry's uploads, mounts, deletes and OPTIONS."""

    def start(self, **options):
        reg = sr.ScriptedRegistry(**options).start()
        self.addCleanup(reg.stop)
        return reg

    def post(self, reg, repo=SCRATCH, query=""):
        return reg.call("POST", "/v2/%s/blobs/uploads/%s" % (repo, query))

    def mount_query(self, reg, digest=None):
        return "?mount=%s&from=library/alpine" % (digest or reg.config_digest)

    def test_base_and_version_header(self):
        reg = self.start()
        status, headers, body = reg.call("GET", "/v2/")
        self.assertEqual((status, body), (200, b"{}"))
        self.assertEqual(headers["Docker-Distribution-API-Version"], "registry/2.0")
        reg = self.start(version_header=False)
        self.assertIsNone(reg.call("GET", "/v2/")[1]["Docker-Distribution-API-Version"])

    def test_chunked_upload_then_cancel(self):
        reg = self.start(chunk_min_length=1024)
        conn = http.client.HTTPConnection("127.0.0.1", reg.port, timeout=10)
        self.addCleanup(conn.close)
        status, headers, _ = reg.call("POST", "/v2/%s/blobs/uploads/" % SCRATCH, conn=conn)
        self.assertEqual((status, headers["Range"], headers["OCI-Chunk-Min-Length"]),
                         (202, "0-0", "1024"))
        self.assertEqual(headers["Docker-Upload-UUID"], reg.open_sessions()[0][1])
        location = headers["Location"]
        status, headers, _ = reg.call("PATCH", location, b"abcd",
                                      {"Content-Range": "0-3"}, conn=conn)
        self.assertEqual((status, headers["Range"]), (202, "0-3"))
        status, _, _ = reg.call("PATCH", headers["Location"], b"ef",
                                {"Content-Range": "0-1"}, conn=conn)
        self.assertEqual(status, 416, "a chunk that does not continue the upload")
        self.assertEqual(reg.call("DELETE", location, conn=conn)[0], 204)
        self.assertEqual(reg.open_sessions(), [])
        status, _, body = reg.call("DELETE", location, conn=conn)
        self.assertEqual((status, error_code(body)), (404, "BLOB_UPLOAD_UNKNOWN"))

    def test_patch_modes(self):
        for mode, status, has_range in (("refused", 405, False), ("no-range", 202, False),
                                        ("201", 201, True), ("416", 416, True)):
            with self.subTest(mode):
                reg = self.start(patch=mode)
                location = self.post(reg)[1]["Location"]
                got, headers, _ = reg.call("PATCH", location, b"ab", {"Content-Range": "0-1"})
                self.assertEqual(got, status)
                self.assertEqual("Range" in headers, has_range)

    def test_put_completes_and_is_recorded(self):
        reg = self.start()
        location = self.post(reg)[1]["Location"]
        digest = h.sha256_digest(b"blob")
        status, headers, _ = reg.call("PUT", location + "&digest=" + digest, b"blob")
        self.assertEqual((status, headers["Docker-Content-Digest"]), (201, digest))
        self.assertEqual(reg.open_sessions(), [])
        self.assertEqual(reg.blob_puts(), [[SCRATCH, digest]])

    def test_mount(self):
        reg = self.start()
        status, headers, _ = self.post(reg, query=self.mount_query(reg))
        self.assertEqual(status, 201)
        self.assertEqual(headers["Location"], "/v2/%s/blobs/%s" % (SCRATCH, reg.config_digest))
        self.assertEqual(reg.mounted_links(), [[SCRATCH, reg.config_digest]])
        self.assertEqual(reg.open_sessions(), [])
        status, _, _ = reg.call("DELETE", "/v2/%s/blobs/%s" % (SCRATCH, reg.config_digest))
        self.assertEqual(status, 202)
        self.assertEqual(reg.mounted_links(), [])
        self.assertTrue(reg.blob_linked("library/alpine", reg.config_digest))

    def test_mount_falls_back_to_a_session(self):
        reg = self.start()
        missing = h.sha256_digest(b"not in the registry")
        self.assertEqual(self.post(reg, query=self.mount_query(reg, missing))[0], 202)
        reg = self.start(mount="always-202")
        self.assertEqual(self.post(reg, query=self.mount_query(reg))[0], 202)
        self.assertEqual(len(reg.open_sessions()), 1)
        self.assertEqual(reg.mounted_links(), [])

    def test_refused_uploads(self):
        reg = self.start(readonly=True)
        status, headers, body = self.post(reg)
        self.assertEqual((status, headers["Allow"]), (405, "GET, HEAD"))
        self.assertTrue(headers["Content-Type"].startswith("text/plain"))
        for code, error in ((401, "UNAUTHORIZED"), (403, "DENIED")):
            reg = self.start(upload_status=code)
            status, _, body = self.post(reg)
            self.assertEqual((status, error_code(body)), (code, error))

    def test_delete_modes(self):
        zero = "sha256:" + "0" * 64
        cases = {  # mode: (manifest answer, blob answer)
            "ok": ((404, "MANIFEST_UNKNOWN"), (404, "BLOB_UNKNOWN")),
            "405": ((405, "UNSUPPORTED"), (405, "UNSUPPORTED")),
            "405-acr": ((405, "REGISTRY_DISALLOWED_OPERATION"),) * 2,
            "400-unsupported": ((400, "UNSUPPORTED"), (400, "UNSUPPORTED")),
            "403-denied": ((403, "DENIED"), (403, "DENIED")),
            "blobs-405": ((404, "MANIFEST_UNKNOWN"), (405, "UNSUPPORTED")),
        }
        for mode, (manifest, blob) in cases.items():
            with self.subTest(mode):
                reg = self.start(delete=mode)
                status, _, body = reg.call("DELETE", "/v2/library/alpine/manifests/" + zero)
                self.assertEqual((status, error_code(body)), manifest)
                status, _, body = reg.call("DELETE", "/v2/library/alpine/blobs/" + zero)
                self.assertEqual((status, error_code(body)), blob)

    def test_delete_removes_and_by_tag_is_refused(self):
        reg = self.start()
        path = "/v2/library/alpine/manifests/"
        self.assertEqual(reg.call("DELETE", path + "latest")[0], 400)
        self.assertEqual(reg.deletes_by_tag(), [["library/alpine", "latest"]])
        self.assertEqual(reg.call("DELETE", path + reg.manifest_digest)[0], 202)
        self.assertEqual(reg.call("HEAD", path + "latest")[0], 404)

    def test_options(self):
        reg = self.start()
        status, headers, _ = reg.call("OPTIONS", "/v2/library/alpine/manifests/latest")
        self.assertEqual((status, headers["Allow"]), (200, "DELETE, GET, HEAD, PUT"))
        reg = self.start(options="unimplemented")
        status, headers, _ = reg.call("OPTIONS", "/v2/library/alpine/manifests/latest")
        self.assertEqual((status, headers["Allow"]), (405, None))

    def test_delay(self):
        reg = self.start(delay_ms=200)
        started = time.monotonic()
        self.assertEqual(reg.call("GET", "/v2/")[0], 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.2)

    def test_override_and_requests(self):
        reg = self.start(status_override={("GET", r"^/v2/$"): (418, {"X-Odd": "1"}, "teapot")})
        status, headers, body = reg.call("GET", "/v2/", headers={"Authorization": "Bearer s3"})
        self.assertEqual((status, headers["X-Odd"], body), (418, "1", b"teapot"))
        recorded = reg.requests(method="GET", path_contains="/v2/")
        self.assertEqual(recorded[0]["headers"]["Authorization"], "Bearer <redacted>")
        self.assertEqual(recorded[0]["status"], 418)


class CapabilitiesCheckTest(sr.ScriptedTestCase):
    """The capabilities check's verdicts; one scripted registry per test."""

    def probe(self, *extra, deletes_work=True, **options):
        """Runs the doctor on a registry with options and checks that it left
        nothing behind; returns (reg, report, err, details)."""
        reg = self.scripted(**options)
        _, report, err = self.run_against(reg, *extra)
        details = self.details(report, CHECK)
        self.assertLeftNothing(reg, deletes_work)
        self.assertImageIntact(reg)
        return reg, report, err, details

    def assertImageIntact(self, reg):
        for digest in (reg.config_digest, reg.layer_digest):
            self.assertTrue(reg.blob_linked("library/alpine", digest), "blob %s gone" % digest)
        self.assertEqual(reg.call("HEAD", "/v2/library/alpine/manifests/latest")[0], 200)

    def cap(self, details, name):
        return (details.get("capabilities") or {}).get(name) or {}

    def assertStates(self, details, **states):
        """capabilities[name].state == state for each name=state given, and
        a reason for every state that is not "supported"."""
        for name, state in states.items():
            cap = self.cap(details, name)
            self.assertEqual(cap.get("state"), state,
                             "%s: %s" % (name, json.dumps(details, indent=1)))
            if state != "supported":
                self.assertTrue(cap.get("reason"), "%s has no reason: %s" % (name, cap))

    def assertScore(self, details, score):
        self.assertEqual((details.get("score"), details.get("max")), (score, 5),
                         json.dumps(details, indent=1))

    # -- everything there --

    def test_good_registry_scores_5(self):
        reg, report, err, d = self.probe()
        self.assertStatus(report, CHECK, "pass", err)
        self.assertScore(d, 5)
        self.assertStates(d, **{name: "supported" for name in NAMES})
        self.assertIn("registry/2.0", json.dumps(self.cap(d, "distributionVersion")))
        self.assertEqual(d.get("leftovers"), [])
        mounts = [r for r in reg.requests("POST", "/blobs/uploads/") if "mount" in r["query"]]
        self.assertEqual(len(mounts), 1)
        scratch = d.get("scratchRepository")
        self.assertRegex(scratch, SCRATCH_OF_RUN)
        self.assertEqual(mounts[0]["path"], "/v2/%s/blobs/uploads/" % scratch)
        self.assertEqual(mounts[0]["query"], {"mount": [reg.config_digest],
                                              "from": ["library/alpine"]})
        self.assertTrue(reg.requests("PATCH"), "a chunk was sent")
        self.assertTrue(reg.repository_exists(scratch))
        self.assertFalse(reg.blob_linked(scratch, reg.config_digest))

    def test_no_delete_of_real_content(self):
        reg, report, err, d = self.probe()
        real = (reg.manifest_digest, reg.config_digest, reg.layer_digest)
        for r in reg.requests("DELETE"):
            if "/uploads/" in r["path"] or r["path"].startswith("/v2/%s/" % d["scratchRepository"]):
                continue
            self.assertFalse(r["path"].endswith(real), "deleted real content: %s" % r["path"])

    # -- one thing missing --

    def test_no_version_header(self):
        reg, report, err, d = self.probe(version_header=False)
        self.assertStatus(report, CHECK, "info", err)
        self.assertScore(d, 4)
        self.assertStates(d, distributionVersion="unsupported")

    def test_referrers_missing_warns(self):
        reg, report, err, d = self.probe(referrers="404-plain")
        self.assertStatus(report, CHECK, "warn", err)
        self.assertScore(d, 4)
        self.assertStates(d, referrersApi="unsupported")
        self.assertEqual(len(reg.requests("GET", "/referrers/")), 1, "one referrers probe")

    def test_referrers_unknown_is_info(self):
        # A denial leaves the API unknown (a NAME_UNKNOWN for the test
        # repository, used here before, now rules the route out).
        denied = (403, {"Content-Type": "application/json"},
                  {"errors": [{"code": "DENIED", "message": "requested access to the resource is denied"}]})
        reg, report, err, d = self.probe(status_override={("GET", "/referrers/"): denied})
        self.assertStatus(report, CHECK, "info", err)
        self.assertStates(d, referrersApi="unknown")

    def test_mount_answered_202(self):
        reg, report, err, d = self.probe(mount="always-202")
        self.assertStatus(report, CHECK, "info", err)
        self.assertScore(d, 4)
        self.assertStates(d, crossRepoMount="unsupported", delete="supported")
        self.assertTrue(reg.requests("DELETE", "/v2/%s/blobs/uploads/" % d["scratchRepository"]),
                        "the session the 202 opened was cancelled")

    def test_patch_refused(self):
        reg, report, err, d = self.probe(patch="refused")
        self.assertStatus(report, CHECK, "info", err)
        self.assertScore(d, 4)
        self.assertStates(d, chunkedUpload="unsupported")

    def test_patch_answers(self):
        for mode, state in (("201", "supported"), ("no-range", "unknown"), ("416", "unknown")):
            with self.subTest(patch=mode):
                reg, report, err, d = self.probe(patch=mode)
                self.assertStates(d, chunkedUpload=state)

    def test_patch_400_does_not_rule_chunks_out(self):
        # only 400 UNSUPPORTED (or 405, 501) says there are no chunked uploads
        for code, state in (("BLOB_UPLOAD_INVALID", "unknown"), ("UNSUPPORTED", "unsupported")):
            with self.subTest(code=code):
                answer = (400, {"Content-Type": "application/json"},
                          {"errors": [{"code": code, "message": "x"}]})
                reg, report, err, d = self.probe(status_override={("PATCH", "/blobs/uploads/"): answer})
                self.assertStates(d, chunkedUpload=state)

    def test_read_only(self):
        reg, report, err, d = self.probe(readonly=True, deletes_work=False)
        self.assertStates(d, chunkedUpload="unsupported", crossRepoMount="unsupported",
                          delete="unsupported")

    def test_uploads_denied_are_unknown(self):
        for status in (401, 403):
            with self.subTest(upload_status=status):
                reg, report, err, d = self.probe(upload_status=status)
                self.assertStates(d, chunkedUpload="unknown", crossRepoMount="unknown")
                self.assertStatus(report, CHECK, "info", err)

    def test_harbor_read_only_403_is_a_refusal(self):
        # Harbor's read-only mode answers every write with 403 DENIED naming
        # the mode. A refusal is not an incapacity: unknown, with the reason.
        harbor = (403, {"Content-Type": "application/json"},
                  {"errors": [{"code": "DENIED", "message":
                               "The system is in read only mode. Any modification is prohibited."}]})
        reg, report, err, d = self.probe(deletes_work=False, status_override={
            ("POST", "/blobs/uploads/"): harbor, ("DELETE", "/v2/"): harbor})
        self.assertStates(d, chunkedUpload="unknown", crossRepoMount="unknown", delete="unknown")
        for name in ("chunkedUpload", "crossRepoMount"):
            reason = self.cap(d, name).get("reason", "")
            self.assertIn("denied (403 DENIED", reason)
            self.assertIn("read-only mode", reason)
        self.assertIn("403", self.cap(d, "delete").get("reason", ""))
        self.assertStatus(report, CHECK, "info", err)

    # -- deletes: only a real DELETE tells --

    def test_delete_405_despite_options(self):
        reg, report, err, d = self.probe(delete="405", deletes_work=False)
        self.assertStatus(report, CHECK, "info", err)
        self.assertScore(d, 4)
        self.assertStates(d, delete="unsupported", crossRepoMount="supported")
        delete = self.cap(d, "delete")
        for kind in ("manifests", "blobs"):
            self.assertEqual((delete.get(kind) or {}).get("state"), "unsupported", delete)
            self.assertEqual((delete.get(kind) or {}).get("status"), 405, delete)
        self.assertIn("DELETE", (delete.get("allow") or {}).get("manifests") or "",
                      "the OPTIONS Allow header is recorded")
        # The mounted blob cannot be removed; the report must say so.
        self.assertEqual(reg.mounted_links(), [[d["scratchRepository"], reg.config_digest]])
        self.assertIn(reg.config_digest, json.dumps(d.get("leftovers")), d.get("leftovers"))

    def test_options_unimplemented_but_delete_works(self):
        reg, report, err, d = self.probe(options="unimplemented")
        self.assertStatus(report, CHECK, "pass", err)
        self.assertStates(d, delete="supported")

    def test_delete_refusals_of_other_registries(self):
        for mode, manifests, blobs in (("405-acr", "unsupported", "unsupported"),
                                       ("400-unsupported", "unsupported", "unsupported"),
                                       ("blobs-405", "supported", "unsupported")):
            with self.subTest(delete=mode):
                reg, report, err, d = self.probe(delete=mode, deletes_work=False)
                self.assertStates(d, delete="unsupported")
                delete = self.cap(d, "delete")
                self.assertEqual((delete.get("manifests") or {}).get("state"), manifests, delete)
                self.assertEqual((delete.get("blobs") or {}).get("state"), blobs, delete)

    def test_delete_denied_is_unknown(self):
        reg, report, err, d = self.probe(delete="403-denied", deletes_work=False)
        self.assertStatus(report, CHECK, "info", err)
        self.assertStates(d, delete="unknown")

    # -- the run itself --

    def test_no_writes(self):
        # Not probed is a state of its own: not unknown, and not counted
        # against the registry, so a read-only scan of a good registry passes.
        reg, report, err, d = self.probe("--no-writes")
        self.assertStates(d, chunkedUpload="not-probed", crossRepoMount="not-probed",
                          delete="not-probed", distributionVersion="supported",
                          referrersApi="supported")
        for name in ("chunkedUpload", "crossRepoMount", "delete"):
            self.assertEqual(self.cap(d, name).get("reason"), NOT_PROBED)
        self.assertEqual([r["path"] for r in reg.requests("POST") + reg.requests("PATCH")], [])
        self.assertEqual((d.get("score"), d.get("probed"), d.get("max")), (2, 2, 5), d)
        self.assertStatus(report, CHECK, "pass", err)
        self.assertMessageMatches(report, CHECK, r"^2/2 probed, 3 not probed \(writes are off\)")
        self.assertEqual(report["summary"]["worst"], "pass", "the push check's skip does not count")

    def test_no_writes_on_a_poor_registry_still_says_what_is_missing(self):
        reg, report, err, d = self.probe("--no-writes", version_header=False)
        self.assertStatus(report, CHECK, "info", err)
        self.assertMessageMatches(report, CHECK, r"^1/2 probed, 3 not probed")

    def test_good_registry_run_passes(self):
        # Everything passes but the credentials check, skipped for lack of
        # credentials: the run is pass, exit 0 (it was "worst: skip").
        reg = self.scripted()
        code, report, err = self.run_against(reg)
        self.assertStatus(report, "credentials", "skip", err)
        self.assertEqual(report["summary"]["worst"], "pass", h.describe(report))
        self.assertExit(code, h.EXIT_OK, report, err)
        code, out, err = self.doctor(["run", "--registry", reg.url])
        self.assertIn("worst: PASS", out)

    def test_connection_error_fails(self):
        drop = {("POST", "/blobs/uploads/"): sr.DROP}
        reg, report, err, d = self.probe(status_override=drop)
        self.assertStatus(report, CHECK, "fail", err)


if __name__ == "__main__":
    unittest.main()
