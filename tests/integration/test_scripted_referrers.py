"""The referrers check against every kind of answer registries really give.

A ScriptedRegistry plays each one: a proper OCI 1.1 referrers API (200 or
404 with an image index), Harbor 2.9's index served as application/json,
distribution's plain-text 404, a JSON MANIFEST_UNKNOWN, NAME_UNKNOWN, 405,
an HTML login page (directly or behind a redirect), Harbor 2.8's `{}`, a
dropped connection. For each the check must reach the verdict of
the distribution spec ("Listing Referrers", "Referrers Tag Schema"), say how oras,
go-containerregistry and regclient would react, and look up the fallback
tag sha256-<hex> when the API is missing. It must reuse the digest found by
the pull check: one HEAD of the manifest and one referrers GET per run.

ReferrersServerSelfTest checks the scripted registry itself and needs no
binary.
"""

import http.client
import json
import unittest

import harness as h
import scripted_registry as sr

CHECK = "referrers"
API = "api"
FALLBACK = "tag-fallback"
ERROR = "error"
UNKNOWN = "unknown"


class ReferrersServerSelfTest(unittest.TestCase):
    """The scripted registry answers the referrers API as configured."""

    EXPECTED = {
        "index": (200, h.OCI_INDEX),
        "index-wrong-type": (200, "application/json"),
        "404-index": (404, h.OCI_INDEX),
        "404-plain": (404, "text/plain"),
        "404-json-error": (404, "application/json"),
        "404-name-unknown": (404, "application/json"),
        "405": (405, "text/plain"),
        "200-not-json": (200, "text/html"),
        "200-empty-object": (200, "application/json"),
        "redirect-login": (302, "text/html"),
    }

    def referrers(self, reg, name="library/alpine"):
        return reg.call("GET", "/v2/%s/referrers/%s" % (name, reg.manifest_digest))

    def test_each_variant(self):
        for mode, (status, content_type) in self.EXPECTED.items():
            with self.subTest(mode), sr.ScriptedRegistry(referrers=mode) as reg:
                got, headers, body = self.referrers(reg)
                self.assertEqual(got, status)
                self.assertTrue(headers["Content-Type"].startswith(content_type),
                                headers["Content-Type"])
                self.assertEqual(int(headers["Content-Length"]), len(body))
                if content_type == h.OCI_INDEX or mode == "index-wrong-type":
                    self.assertEqual(json.loads(body), sr.empty_index())
        with sr.ScriptedRegistry(referrers="404-json-error") as reg:
            self.assertEqual(json.loads(self.referrers(reg)[2])["errors"][0]["code"],
                             "MANIFEST_UNKNOWN")
        with sr.ScriptedRegistry(referrers="200-empty-object") as reg:
            self.assertEqual(json.loads(self.referrers(reg)[2]), {})

    def test_redirect_leads_to_a_login_page(self):
        with sr.ScriptedRegistry(referrers="redirect-login") as reg:
            _, headers, _ = self.referrers(reg)
            self.assertEqual(headers["Location"], "/login")
            status, headers, body = reg.call("GET", "/login")
            self.assertEqual((status, body), (200, b"<html>login</html>"))

    def test_count_link_and_filters(self):
        with sr.ScriptedRegistry(referrers_count=3, referrers_link=True,
                                 filters_applied="artifactType") as reg:
            status, headers, body = self.referrers(reg)
            self.assertEqual(status, 200)
            self.assertEqual(len(json.loads(body)["manifests"]), 3)
            self.assertIn('rel="next"', headers["Link"])
            self.assertEqual(headers["OCI-Filters-Applied"], "artifactType")
            path = "/v2/library/alpine/referrers/%s?last=x" % reg.manifest_digest
            self.assertIsNone(reg.call("GET", path)[1]["Link"], "the last page has no Link")

    def test_unknown_repository(self):
        with sr.ScriptedRegistry() as reg:
            status, _, body = self.referrers(reg, "library/other")
            self.assertEqual(status, 404)
            self.assertEqual(json.loads(body)["errors"][0]["code"], "NAME_UNKNOWN")
            status, _, body = reg.call("HEAD", "/v2/library/other/manifests/latest")
            self.assertEqual(status, 404)

    def test_manifest_and_fallback_tag(self):
        with sr.ScriptedRegistry(fallback_tag=True) as reg:
            conn = http.client.HTTPConnection("127.0.0.1", reg.port, timeout=10)
            self.addCleanup(conn.close)
            for ref in ("latest", reg.manifest_digest):
                status, headers, body = reg.call("HEAD", "/v2/library/alpine/manifests/" + ref,
                                                 conn=conn)
                self.assertEqual(status, 200)
                self.assertEqual(headers["Docker-Content-Digest"], reg.manifest_digest)
                self.assertEqual(headers["Content-Type"], h.OCI_MANIFEST)
                self.assertGreater(int(headers["Content-Length"]), 0)
            status, _, body = reg.call("GET", "/v2/library/alpine/manifests/" + reg.fallback_tag,
                                       conn=conn)
            self.assertEqual((status, json.loads(body)), (200, sr.empty_index()))
            status, _, body = reg.call("GET", "/v2/library/alpine/manifests/nope", conn=conn)
            self.assertEqual(json.loads(body)["errors"][0]["code"], "MANIFEST_UNKNOWN")
            self.assertEqual(len(reg.requests(method="HEAD")), 2)

    def test_dropped_connection(self):
        with sr.ScriptedRegistry(status_override={("GET", "/referrers/"): sr.DROP}) as reg:
            with self.assertRaises((http.client.HTTPException, ConnectionError)):
                self.referrers(reg)
            self.assertEqual(reg.requests(path_contains="/referrers/")[0]["status"], sr.DROP)


class ReferrersCheckTest(sr.ScriptedTestCase):
    """The referrers check's verdicts; one scripted registry per test."""

    def verdict(self, *extra, **options):
        """Runs the doctor on a registry with options and checks that the
        whole run left nothing behind; returns (reg, report, err, details)."""
        reg = self.scripted(**options)
        _, report, err = self.run_against(reg, *extra)
        self.assertLeftNothing(reg)
        return reg, report, err, self.details(report, CHECK)

    def assertVerdict(self, report, err, status, state):
        self.assertStatus(report, CHECK, status, err)
        details = self.details(report, CHECK)
        self.assertEqual(details.get("state"), state, json.dumps(details, indent=1))

    def assertClients(self, details, oras=None, ggcr=None, regclient=None, ggcr_attach=None):
        """How each client would list (None: not asserted). Without a push
        oras and regclient cannot tell how they would attach; cosign's
        library decides it from this answer (ggcr_attach)."""
        clients = details.get("clients") or {}
        wanted = {"oras": oras, "go-containerregistry": ggcr, "regclient": regclient}
        for name, value in wanted.items():
            client = clients.get(name) or {}
            self.assertTrue(client.get("why"), "%s in %s" % (name, clients))
            if value is not None:
                self.assertEqual(client.get("list"), value, "%s in %s" % (name, clients))
        for name in ("oras", "regclient"):
            self.assertEqual((clients.get(name) or {}).get("attach"), UNKNOWN, clients)
        if ggcr_attach is not None:
            self.assertEqual(clients["go-containerregistry"].get("attach"), ggcr_attach, clients)

    def assertUnsupported(self, details, reg, exists=False):
        """The fallback tag of the image was looked up (extra keys allowed)."""
        tag = details.get("fallbackTag") or {}
        self.assertEqual({"tag": tag.get("tag"), "exists": tag.get("exists")},
                         {"tag": reg.fallback_tag, "exists": exists}, details)
        self.assertEqual(len(reg.requests(path_contains="/manifests/" + reg.fallback_tag)), 1,
                         "the fallback tag is looked up once")

    def assertOneProbe(self, reg):
        """The digest came from the pull check's single HEAD, and the API was
        asked once for the whole run (the capabilities check reuses it)."""
        heads = reg.requests("HEAD", "/v2/library/alpine/manifests/latest")
        self.assertEqual(len(heads), 1, "HEADs of the manifest: %s" % heads)
        probes = reg.requests("GET", "/referrers/")
        self.assertEqual(len(probes), 1, "referrers GETs: %s" % [p["path"] for p in probes])
        self.assertTrue(probes[0]["path"].endswith("/" + reg.manifest_digest), probes[0])

    # -- supported --

    def test_index_is_supported(self):
        reg, report, err, d = self.verdict()
        self.assertVerdict(report, err, "pass", "supported")
        self.assertEqual(d.get("digest"), reg.manifest_digest)
        self.assertEqual(d.get("digestSource"), "test-image")
        self.assertEqual(d.get("httpStatus"), 200)
        self.assertTrue(str(d.get("contentType")).startswith(h.OCI_INDEX), d)
        self.assertEqual(d.get("referrers"), 0)
        self.assertIs(d.get("paginated"), False)
        self.assertIsNone(d.get("filtersApplied"))
        self.assertClients(d, API, API, API, ggcr_attach=API)
        self.assertOneProbe(reg)

    def test_referrers_are_counted(self):
        reg, report, err, d = self.verdict(referrers_count=3)
        self.assertVerdict(report, err, "pass", "supported")
        self.assertEqual(d.get("referrers"), 3)

    def test_404_with_an_index_is_supported(self):
        # clients.md §3: every client needs a 200 to use the API itself.
        reg, report, err, d = self.verdict(referrers="404-index")
        self.assertVerdict(report, err, "pass", "supported")
        self.assertEqual(d.get("httpStatus"), 404)
        self.assertClients(d, FALLBACK, FALLBACK, FALLBACK, ggcr_attach=FALLBACK)

    def test_index_as_application_json(self):
        # Harbor 2.9: every client lists through the tag (regclient takes the
        # media type from Content-Type too), while cosign attaches through the API.
        reg, report, err, d = self.verdict(referrers="index-wrong-type")
        self.assertVerdict(report, err, "warn", "supported")
        self.assertTrue(str(d.get("contentType")).startswith("application/json"), d)
        self.assertClients(d, FALLBACK, FALLBACK, FALLBACK, ggcr_attach=API)
        self.assertMessageMatches(report, CHECK, r"cosign will not be found by cosign's own listing")

    def test_pagination(self):
        reg, report, err, d = self.verdict(referrers_link=True)
        self.assertVerdict(report, err, "pass", "supported")
        self.assertIs(d.get("paginated"), True)

    def test_filters_applied(self):
        reg, report, err, d = self.verdict(filters_applied="artifactType")
        self.assertVerdict(report, err, "pass", "supported")
        self.assertEqual(d.get("filtersApplied"), "artifactType")

    # -- unsupported --

    def test_plain_404_is_unsupported(self):
        # distribution 2.8 and 3.x: the route does not exist.
        reg, report, err, d = self.verdict(referrers="404-plain")
        self.assertVerdict(report, err, "warn", "unsupported")
        self.assertEqual(d.get("httpStatus"), 404)
        self.assertTrue(str(d.get("contentType")).startswith("text/plain"), d)
        self.assertIsNone(d.get("referrers"))
        self.assertClients(d, FALLBACK, FALLBACK, FALLBACK, ggcr_attach=FALLBACK)
        self.assertNotIn("consequences", d)
        self.assertUnsupported(d, reg, exists=False)
        self.assertOneProbe(reg)

    def test_fallback_tag_found(self):
        reg, report, err, d = self.verdict(referrers="404-plain", fallback_tag=True)
        self.assertVerdict(report, err, "warn", "unsupported")
        self.assertUnsupported(d, reg, exists=True)

    def test_fallback_tag_that_is_the_subject(self):
        # GitLab resolves sha256-<hex> to the subject itself (oras-go#1396):
        # that is not a referrers index.
        reg, report, err, d = self.verdict(referrers="404-plain", fallback_tag="subject")
        self.assertVerdict(report, err, "warn", "unsupported")
        self.assertEqual((d.get("fallbackTag") or {}).get("resolvesToSubject"), True, d)

    def test_json_404_is_unsupported(self):
        reg, report, err, d = self.verdict(referrers="404-json-error")
        self.assertVerdict(report, err, "warn", "unsupported")
        self.assertClients(d, FALLBACK, FALLBACK, FALLBACK)
        self.assertUnsupported(d, reg)

    def test_405_is_unsupported(self):
        reg, report, err, d = self.verdict(referrers="405")
        self.assertVerdict(report, err, "warn", "unsupported")
        self.assertEqual(d.get("httpStatus"), 405)
        self.assertUnsupported(d, reg)

    def test_html_200_is_unsupported(self):
        # registry.k8s.io and GAR: a login page with status 200.
        reg, report, err, d = self.verdict(referrers="200-not-json")
        self.assertVerdict(report, err, "warn", "unsupported")
        self.assertIn("not an index",
                      (h.result_of(report, CHECK).get("remediation") or {}).get("summary", ""))
        self.assertClients(d, FALLBACK, FALLBACK, FALLBACK, ggcr_attach=API)
        self.assertIn("signatures attached by cosign will not be found by cosign's own listing",
                      d.get("consequences", ""))
        self.assertMessageMatches(report, CHECK, r"cosign's own listing")
        self.assertUnsupported(d, reg)

    def test_garbage_under_the_index_type_breaks_listing(self):
        # oras and go-containerregistry fail outright on a body that does not
        # decode under the index Content-Type; regclient falls back.
        garbage = (200, {"Content-Type": h.OCI_INDEX}, "garbage, not JSON")
        reg, report, err, d = self.verdict(status_override={("GET", "/referrers/"): garbage})
        self.assertVerdict(report, err, "warn", "unsupported")
        self.assertClients(d, ERROR, ERROR, FALLBACK, ggcr_attach=API)
        self.assertIn("oras discover fails outright", d.get("consequences", ""))

    def test_empty_object_is_unsupported(self):
        # Harbor 2.8: `{}` is not an image index.
        reg, report, err, d = self.verdict(referrers="200-empty-object")
        self.assertVerdict(report, err, "warn", "unsupported")
        self.assertClients(d, FALLBACK, FALLBACK, FALLBACK, ggcr_attach=API)
        self.assertUnsupported(d, reg)

    def test_redirect_to_login_is_unsupported(self):
        reg, report, err, d = self.verdict(referrers="redirect-login")
        self.assertVerdict(report, err, "warn", "unsupported")
        self.assertUnsupported(d, reg)

    # -- cannot tell --

    def test_name_unknown_for_a_known_repository_is_unsupported(self):
        # The pull check just read library/alpine, so a NAME_UNKNOWN from the
        # referrers route means the registry has no such route and took the
        # path for a repository name. oras-go stops with "repository not found".
        reg, report, err, d = self.verdict(referrers="404-name-unknown")
        self.assertVerdict(report, err, "warn", "unsupported")
        self.assertIn("NAME_UNKNOWN", d.get("reason", ""))
        self.assertClients(d, ERROR, FALLBACK, FALLBACK)
        self.assertIn("oras discover fails outright", d.get("consequences", ""))

    def test_name_unknown_for_an_unknown_repository_stays_unknown(self):
        # library/other was never shown to exist: NAME_UNKNOWN says nothing.
        reg, report, err, d = self.verdict("--repository", "library/other",
                                           referrers="404-name-unknown")
        self.assertVerdict(report, err, "info", "unknown")
        self.assertIn("NAME_UNKNOWN", d.get("reason", ""))

    def test_missing_test_image(self):
        reg, report, err, d = self.verdict("--repository", "library/other")
        self.assertStatus(report, CHECK, "info", err)
        self.assertMessageMatches(report, CHECK, r"cannot verify")
        self.assertEqual(d.get("digestSource"), "probe", d)

    def test_missing_image_and_an_inconclusive_probe(self):
        # With a made-up digest, Quay 3.12's 404 MANIFEST_UNKNOWN and Harbor
        # 2.8's 200 {} do not rule the API out: unknown (info), not unsupported,
        # and the reason keeps the registry's answer.
        answers = {
            "404 MANIFEST_UNKNOWN": (404, {"Content-Type": "application/json"},
                                     {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "x"}]}),
            "200 {}": (200, {"Content-Type": "application/json"}, {}),
        }
        for name, answer in answers.items():
            with self.subTest(name):
                reg, report, err, d = self.verdict(
                    "--repository", "library/other",
                    status_override={("GET", "/referrers/"): answer})
                self.assertStatus(report, CHECK, "info", err)
                self.assertEqual(d.get("state"), "unknown", d)
                self.assertIn(name.split()[0], d.get("reason", ""))
                self.assertIn("digest they do not have", d.get("reason", ""))

    def test_connection_error_fails(self):
        reg, report, err, d = self.verdict(status_override={("GET", "/referrers/"): sr.DROP})
        self.assertStatus(report, CHECK, "fail", err)


if __name__ == "__main__":
    unittest.main()
