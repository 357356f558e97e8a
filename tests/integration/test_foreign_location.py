"""A registry that points its upload Location somewhere else.

A hostile (or misconfigured) registry answers the POST that opens an upload
session with a Location of its choosing. ocidoctor must not let that steer
its writes: a PATCH, PUT or DELETE goes to a URL the registry gave only when
that URL is an upload session of the repository the session was opened in
(on any host, as the spec allows, but then without credentials). Anything
else, a manifest, another repository, a path that climbs out of the upload
route, is never sent, and the report names where the registry sent the
upload.

Two scripted registries run on loopback: the probed one (Basic auth, so
ocidoctor has credentials it could leak) and a bystander on another port
whose request log must stay empty, or hold only credential-free requests
to the upload session it was legitimately handed.
"""

import unittest

import harness as h
import scripted_registry as sr

USER, PASSWORD = "alice", "foreign-location-secret-7f3a"
SCRATCH = "team/scratch"
VICTIM = "/v2/team/precious/manifests/sha256:" + "d" * 64
UPLOAD_POST = ("POST", r"/blobs/uploads/?(\?|$)")
WRITES = ("PATCH", "PUT", "DELETE", "POST")


class ForeignLocationTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.bystander = cls.start_server(sr.ScriptedRegistry())

    def secrets(self):
        return (PASSWORD, h.basic_auth_value(USER, PASSWORD))

    def probed(self, location, method_path=UPLOAD_POST, status=202):
        """A registry whose upload answers send the session to `location`."""
        reg = sr.ScriptedRegistry(auth="basic", users={USER: PASSWORD}, status_override={
            method_path: (status, {"Location": location, "Range": "0-0"}, b"")})
        self.addCleanup(reg.stop)
        return reg.start()

    def run_against(self, reg, *extra):
        self.bystander.clear_requests()
        return self.doctor_json(["run", "--registry", reg.url, "--username", USER,
                                 "--password-stdin", "--scratch-repository", SCRATCH]
                                + list(extra), stdin=PASSWORD + "\n")

    def assert_bystander_untouched(self, report):
        seen = self.bystander.requests()
        self.assertEqual(seen, [], "the bystander registry received requests:\n%s\n%s"
                         % (seen, h.describe(report)))

    def assert_no_write_to(self, reg, path_part):
        writes = [r for r in reg.requests(path_contains=path_part) if r["method"] in WRITES]
        self.assertEqual(writes, [], "writes reached %s" % path_part)

    def assert_refused_location(self, report, shown):
        push = h.result_of(report, "push")
        self.assertEqual(push["status"], "warn", h.describe(report))
        self.assertIn("the registry opened an upload session, but the registry sent the upload to "
                      + shown, push["message"])
        self.assertIn("pointed its `Location` somewhere", push["remediation"]["summary"])
        chunked = h.result_of(report, "capabilities")["details"]["capabilities"]["chunkedUpload"]
        self.assertEqual(chunked["state"], "unknown")
        self.assertIn("the registry sent the upload to " + shown, chunked["reason"])

    def test_manifest_on_another_host_gets_nothing(self):
        target = self.bystander.url + VICTIM
        reg = self.probed(target)
        _, report, _ = self.run_against(reg)
        self.assert_bystander_untouched(report)
        self.assert_refused_location(report, target)

    def test_manifest_on_another_host_gets_nothing_with_writes_verify(self):
        reg = self.probed(self.bystander.url + VICTIM)
        _, report, _ = self.run_against(reg, "--writes", "verify")
        self.assert_bystander_untouched(report)
        artifacts = h.result_of(report, "artifacts")
        self.assertEqual(artifacts["status"], "fail", h.describe(report))
        self.assertIn("uploading to %s did not complete: the registry sent the upload to" % SCRATCH,
                      artifacts["message"])

    def test_another_repositorys_session_on_another_host_gets_nothing(self):
        reg = self.probed(self.bystander.url + "/v2/team/precious/blobs/uploads/abc")
        _, report, _ = self.run_against(reg)
        self.assert_bystander_untouched(report)
        self.assertEqual(h.result_of(report, "push")["status"], "warn")
        self.assertIn("which is not an upload session of " + SCRATCH,
                      h.result_of(report, "push")["message"])

    def test_manifest_on_the_same_registry_gets_no_write(self):
        reg = self.probed(VICTIM)
        _, report, _ = self.run_against(reg)
        self.assert_no_write_to(reg, "/team/precious/")
        self.assert_refused_location(report, reg.url + VICTIM)

    def test_paths_that_climb_out_of_the_upload_route_get_nothing(self):
        for tail in ("../../../precious/manifests/latest",
                     "%2e%2e/%2e%2e/%2e%2e/precious/manifests/latest",
                     "x%2f..%2f..%2f..%2fprecious%2fmanifests%2flatest"):
            with self.subTest(tail=tail):
                reg = self.probed(self.bystander.url + "/v2/%s/blobs/uploads/%s" % (SCRATCH, tail))
                _, report, _ = self.run_against(reg)
                self.assert_bystander_untouched(report)
                self.assertIn("which is not an upload session of " + SCRATCH,
                              h.result_of(report, "push")["message"], h.describe(report))

    def test_a_later_location_is_judged_too(self):
        """The PATCH's answer hands out the next Location: it is held to the same rule."""
        reg = self.probed(self.bystander.url + VICTIM, method_path=("PATCH", r"/blobs/uploads/"))
        _, report, _ = self.run_against(reg, "--writes", "verify")
        self.assert_bystander_untouched(report)
        chunked = h.result_of(report, "capabilities")["details"]["capabilities"]["chunkedUpload"]
        self.assertEqual(chunked["state"], "unknown")
        self.assertIn("after the PATCH, the registry sent the upload to", chunked["reason"])
        self.assertEqual(reg.open_sessions(), [], "the session before the bad Location was not cancelled")

    def test_a_session_moved_to_another_host_is_followed_without_credentials(self):
        session = "/v2/%s/blobs/uploads/moved-session" % SCRATCH
        reg = self.probed(self.bystander.url + session)
        _, report, _ = self.run_against(reg)
        seen = self.bystander.requests()
        self.assertTrue(seen, "the moved session was never used")
        for r in seen:
            self.assertEqual(r["path"], session, r)
            self.assertIn(r["method"], ("PATCH", "DELETE"), r)
            self.assertNotIn("authorization", [k.lower() for k in r["headers"]], r)
        push = h.result_of(report, "push")
        self.assertIn("the registry moved the upload to " + self.bystander.url + session,
                      push["message"])
        self.assertEqual(push["details"]["uploadMovedTo"], self.bystander.url + session)
        caps = h.result_of(report, "capabilities")["details"]
        self.assertEqual(caps["uploadMovedTo"], self.bystander.url + session)


if __name__ == "__main__":
    unittest.main()
