"""The scriptable registry answers as the real registries do, route by route.

A test double that forgives what real registries do not hides bugs: the
write verification once proved deletes against a repository that did not
exist yet, which works on the double and on nothing real. Each profile of
scripted_registry models one real product; this audit sends the same
requests to the profile and to the real registry it models and compares
the status, the error code and the type of the error body. The table of
expected answers was measured on the real registries; the profile is held
to it always, the real registry whenever its binary is there (interop.py).

Z is a digest nothing holds; no/such a repository never written to. The
order matters: olareg answers a DELETE of a blob it lacks with 404, but
with 202 once a GET asked for that blob.
"""

import json
import unittest

import harness as h
import interop
import scripted_registry as sr

Z = "sha256:" + "0" * 64
CONFIG = h.sha256_digest(h.build_test_image()[0])

# (method, path): the routes where real registries differ
ROUTES = [
    ("GET", "/v2/no/such/manifests/latest"),
    ("GET", "/v2/library/alpine/manifests/" + Z),
    ("DELETE", "/v2/no/such/manifests/" + Z),
    ("DELETE", "/v2/library/alpine/manifests/" + Z),
    ("GET", "/v2/no/such/blobs/" + Z),
    ("DELETE", "/v2/no/such/blobs/" + Z),
    ("DELETE", "/v2/library/alpine/blobs/" + Z),
    ("GET", "/v2/no/such/tags/list"),
    ("GET", "/v2/no/such/referrers/" + Z),
    ("GET", "/v2/library/alpine/referrers/" + Z),
    ("HEAD", "/v2/no/such/blobs/" + CONFIG),
]

J, T, I = "application/json", "text/plain", h.OCI_INDEX
# profile -> the real registry it models, and per route (status, code, content type)
EXPECTED = {
    "distribution": ("distribution-2.8", [
        (404, "MANIFEST_UNKNOWN", J), (404, "MANIFEST_UNKNOWN", J), (404, "MANIFEST_UNKNOWN", J),
        (404, "MANIFEST_UNKNOWN", J), (404, "BLOB_UNKNOWN", J), (404, "BLOB_UNKNOWN", J),
        (404, "BLOB_UNKNOWN", J), (404, "NAME_UNKNOWN", J), (404, None, T), (404, None, T),
        (404, None, None)]),
    "distribution-3": ("distribution-3.1", [
        (404, "MANIFEST_UNKNOWN", J), (404, "MANIFEST_UNKNOWN", J), (404, "MANIFEST_UNKNOWN", J),
        (404, "MANIFEST_UNKNOWN", J), (404, "BLOB_UNKNOWN", J), (404, "BLOB_UNKNOWN", J),
        (404, "BLOB_UNKNOWN", J), (404, "NAME_UNKNOWN", J), (404, None, T), (404, None, T),
        (404, None, None)]),
    "olareg": ("olareg", [
        (404, "MANIFEST_UNKNOWN", T), (404, "MANIFEST_UNKNOWN", T), (404, "MANIFEST_UNKNOWN", T),
        (404, "MANIFEST_UNKNOWN", T), (404, "BLOB_UNKNOWN", T), (202, None, None),
        (404, "BLOB_UNKNOWN", T), (200, None, J), (200, None, I), (200, None, I), (404, None, None)]),
    "ggcr": ("ggcr", [
        (404, "NAME_UNKNOWN", T), (404, "MANIFEST_UNKNOWN", T), (404, "NAME_UNKNOWN", T),
        (404, "MANIFEST_UNKNOWN", T), (404, "BLOB_UNKNOWN", T), (500, "INTERNAL_SERVER_ERROR", T),
        (500, "INTERNAL_SERVER_ERROR", T), (404, "NAME_UNKNOWN", T), (404, "NAME_UNKNOWN", T),
        (200, None, I), (200, None, None)]),
}
# the default profile answers as the spec and distribution 3 do, with the referrers API
SPEC = [(404, "MANIFEST_UNKNOWN", J), (404, "MANIFEST_UNKNOWN", J), (404, "MANIFEST_UNKNOWN", J),
        (404, "MANIFEST_UNKNOWN", J), (404, "BLOB_UNKNOWN", J), (404, "BLOB_UNKNOWN", J),
        (404, "BLOB_UNKNOWN", J), (404, "NAME_UNKNOWN", J), (404, "NAME_UNKNOWN", J),
        (200, None, I), (404, None, None)]


def answer_of(call, method, path):
    """(status, first error code or None, Content-Type without parameters, None for a HEAD)."""
    status, headers, body = call(method, path)
    code = None
    try:
        code = json.loads(body)["errors"][0]["code"]
    except (ValueError, KeyError, IndexError, TypeError):
        pass
    ctype = headers.get("Content-Type") if method != "HEAD" else None
    return status, code, ctype.split(";")[0].strip() if ctype else None


def answers(call):
    return [answer_of(call, m, p) for m, p in ROUTES]


def diff(got, wanted):
    return "\n".join("%s %s: got %s, measured %s" % (m, p, g, w)
                     for (m, p), g, w in zip(ROUTES, got, wanted) if g != w)


class ProfilesTest(sr.ScriptedTestCase):

    def check_profile(self, profile, wanted):
        reg = self.scripted(profile=profile)
        got = answers(reg.call)
        self.assertEqual(got, wanted, "profile %s:\n%s" % (profile, diff(got, wanted)))

    def test_default_profile_answers_as_the_spec(self):
        self.check_profile("spec", SPEC)

    def test_each_profile_answers_as_measured(self):
        for profile, (_, wanted) in EXPECTED.items():
            with self.subTest(profile=profile):
                self.check_profile(profile, wanted)

    def test_shared_blobs_go_everywhere(self):
        """ggcr: a blob deleted in one repository is gone from all of them."""
        reg = self.scripted(profile="ggcr")
        self.assertEqual(reg.call("HEAD", "/v2/other/blobs/" + reg.config_digest)[0], 200)
        self.assertEqual(reg.call("DELETE", "/v2/other/blobs/" + reg.config_digest)[0], 202)
        self.assertEqual(reg.call("HEAD", "/v2/library/alpine/blobs/" + reg.config_digest)[0], 404)


class RealRegistriesTest(h.DoctorTestCase):
    """The measurements behind EXPECTED, taken again on the real registries."""

    def test_real_registries_answer_as_the_table_says(self):
        for profile, (kind, wanted) in EXPECTED.items():
            with self.subTest(registry=kind):
                with interop.start(kind) as reg:
                    reg.push_image()
                    got = answers(reg.call)
                self.assertEqual(got, wanted, "%s:\n%s" % (kind, diff(got, wanted)))


if __name__ == "__main__":
    unittest.main()
