"""--writes verify against the scriptable registry, one behaviour each.

The artifacts check pushes a subject image and an artifact that refers to
it (as oras, cosign and notation do), looks for it through the referrers
API and, where a client would need it, through the tag-schema fallback
(sha256-<hex>), and deletes everything again. Each test scripts one
registry behaviour that the distribution spec allows or a product shows
(spec: "Pushing Manifests with Subject", "Listing Referrers", "Referrers
Tag Schema"): a full OCI 1.1 API with OCI-Subject, one without
OCI-Subject, OCI-Subject without a listing (ECR once), artifact manifests
refused (405, 415, 400 MANIFEST_INVALID), a subject that must exist,
OCI-Chunk-Min-Length, deletes disabled, a deadline mid-way, and two runs
at once. Every test also checks what the run left in the registry.
"""

import json
import os
import re
import threading
import time
import unittest

import harness as h
import schema_check
import scripted_registry as sr

CHECK = "artifacts"
SCRATCH = "library/verify-scratch"
ARTIFACT_TYPE = "application/vnd.ocidoctor.probe.v1+json"
SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                      "report.schema.json")
ONLY = ["--check", "check.integration.oci.artifacts"]
WITH_REFERRERS = ONLY + ["--check", "check.integration.oci.referrers"]


class ArtifactsTestCase(sr.ScriptedTestCase):

    @classmethod
    def setUpClass(cls):
        with open(SCHEMA) as f:
            cls.schema = json.load(f)

    def verify(self, reg, *extra, checks=ONLY):
        """A --writes verify run in SCRATCH; returns (report, stderr), schema-checked."""
        code, report, err = self.run_against(reg, "--writes", "verify",
                                             "--scratch-repository", SCRATCH,
                                             *(list(checks) + list(extra)))
        self.assertEqual(schema_check.validate(report, self.schema), [],
                         self.diagnostics(report, err))
        # 0, 1 or 2 by the worst status; anything else (valgrind's 99) is a fault
        self.assertIn(code, (h.EXIT_OK, h.EXIT_WARN, h.EXIT_FAIL), err)
        return report, err

    def assertLeftNothingOfTheRun(self, reg, details):
        """No manifest, tag, blob or upload session of the run is left, nothing
        was deleted by tag, and the report lists no leftovers."""
        self.assertEqual(reg.contents(SCRATCH), {"manifests": [], "tags": [], "blobs": []})
        self.assertEqual(reg.open_sessions(), [])
        self.assertEqual(reg.deletes_by_tag(), [])
        self.assertEqual(details.get("leftovers"), [])

    def steps(self, details):
        return {name: step["status"] for name, step in details["steps"].items()}

    def attach(self, report):
        clients = self.details(report, "referrers")["clients"]
        return {name: c["attach"] for name, c in clients.items()}


class ProfilesTest(ArtifactsTestCase):
    """Each modelled product, with the default scratch repository (which does
    not exist before the run): the delete proof uses the run's own blob, so
    it works where the repository is unknown (NAME_UNKNOWN), where a blob
    delete of a made-up digest answers 500 (go-containerregistry), and on
    text/plain error bodies (olareg); where blob deletes are refused (Quay)
    nothing is pushed. Nothing of the run is left in any of them."""

    # profile -> (status, deletesProven)
    EXPECTED = {"spec": ("pass", True), "distribution": ("warn", True),
                "distribution-3": ("warn", True), "olareg": ("pass", True),
                "ggcr": ("warn", True), "quay": ("info", False)}

    def test_every_profile(self):
        for profile, (status, proven) in self.EXPECTED.items():
            with self.subTest(profile=profile):
                reg = self.scripted(profile=profile)
                code, report, err = self.run_against(reg, "--writes", "verify", *WITH_REFERRERS)
                self.assertEqual(schema_check.validate(report, self.schema), [],
                                 self.diagnostics(report, err))
                self.assertStatus(report, CHECK, status, err)
                d = self.details(report, CHECK)
                self.assertEqual(d["deletesProven"], proven, d["steps"]["deleteProof"])
                scratch = d["scratchRepository"]
                self.assertEqual(scratch, "library/ocidoctor-scratch")
                held = reg.contents(scratch)
                self.assertEqual((held["manifests"], held["tags"]), ([], []), held)
                self.assertEqual(set(held["blobs"]) - {reg.config_digest}, set(), held)
                self.assertEqual(reg.open_sessions(), [])
                self.assertEqual(reg.deletes_by_tag(), [])
                self.assertEqual(d["leftovers"], [])
                if not proven:
                    self.assertEqual(reg.requests("PUT"), [], "pushed without proof")


class VerifyIsOptInTest(ArtifactsTestCase):
    """Without --writes verify nothing is pushed and the check is skipped with a hint."""

    def test_default_and_probe_and_none_skip(self):
        reg = self.scripted()
        for extra in ([], ["--writes", "probe"], ["--writes", "none"], ["--no-writes"]):
            with self.subTest(extra=extra):
                code, report, err = self.run_against(reg, *(ONLY + extra))
                result = h.result_of(report, CHECK)
                self.assertEqual(result["status"], "skip", err)
                self.assertIn("--writes verify", result["message"])
        self.assertEqual(reg.requests("PUT"), [])
        self.assertEqual(reg.requests(path_contains="/manifests/"), [])

    def test_not_selected_pushes_nothing(self):
        """The referrers check reads the artifacts check, but a run that did not
        select it pushes nothing: what it would leave would be in no report."""
        reg = self.scripted()
        code, report, err = self.run_against(reg, "--writes", "verify", "--check",
                                             "check.integration.oci.referrers")
        self.assertEqual([r["checkId"] for r in report["results"]],
                         ["check.integration.oci.referrers"])
        self.assertEqual(reg.requests("PUT"), [])
        self.assertEqual(reg.requests("POST"), [])
        clients = self.details(report, "referrers")["clients"]
        self.assertEqual(clients["oras"]["attach"], "unknown")

    def test_unknown_mode_is_a_usage_error(self):
        reg = self.scripted()
        code, out, err = self.doctor(["run", "--registry", reg.url, "--writes", "always"])
        self.assertEqual(code, h.EXIT_USAGE)
        self.assertIn("none, probe or verify", err)
        self.assertEqual(reg.requests(), [])


class WritesSettingTest(h.DoctorTestCase):
    """--writes from a flag, the environment and the config file; --no-writes is its alias."""

    def config(self, *args, env=None):
        code, out, err = self.doctor(["config", "--registry", "http://127.0.0.1:9"] + list(args),
                                     env=env)
        self.assertEqual(code, h.EXIT_OK, err)
        rows = {}
        for line in out.splitlines():
            name, _, rest = line.partition(" ")
            rows[name] = rest.split()
        return rows

    def test_sources(self):
        self.assertEqual(self.config()["writes"][:2], ["probe", "default"])
        self.assertEqual(self.config("--writes", "verify")["writes"][:2], ["verify", "flag"])
        self.assertEqual(self.config("--no-writes")["writes"][0], "none")
        rows = self.config(env={"OCIDOCTOR_WRITES": "verify", "OCIDOCTOR_KEEP_ARTIFACTS": "1"})
        self.assertEqual(rows["writes"][:3], ["verify", "environment", "OCIDOCTOR_WRITES"])
        self.assertEqual(rows["keep-artifacts"][0], "true")
        # a flag beats the environment, either way round
        self.assertEqual(self.config("--no-writes", env={"OCIDOCTOR_WRITES": "verify"})
                         ["writes"][0], "none")
        self.assertEqual(self.config("--writes", "verify", env={"OCIDOCTOR_NO_WRITES": "1"})
                         ["writes"][0], "verify")
        directory = h.scratch_dir("writes-")
        path = os.path.join(directory, "c.yaml")
        with open(path, "w") as f:
            f.write("oci:\n  writes: verify\n  keepArtifacts: yes\n")
        rows = self.config("--config", path)
        self.assertEqual(rows["writes"][0], "verify")
        self.assertIn("(oci.writes)", " ".join(rows["writes"]))
        self.assertEqual(rows["keep-artifacts"][0], "true")

    def test_contradiction_and_bad_values(self):
        for args, needle in ((["--writes", "verify", "--no-writes"], "contradict"),
                             (["--writes", "all"], "none, probe or verify")):
            with self.subTest(args=args):
                code, out, err = self.doctor(["config", "--registry", "http://127.0.0.1:9"] + args)
                self.assertEqual(code, h.EXIT_USAGE)
                self.assertIn(needle, err)
        code, out, err = self.doctor(["config", "--registry", "http://127.0.0.1:9"],
                                     env={"OCIDOCTOR_WRITES": "sometimes"})
        self.assertEqual(code, h.EXIT_USAGE)
        # a bad value is named by where it came from, not by the flag
        self.assertIn("OCIDOCTOR_WRITES: invalid value 'sometimes'", err)
        path = os.path.join(h.scratch_dir("writes-"), "c.yaml")
        with open(path, "w") as f:
            f.write("oci:\n  writes: sometimes\n")
        code, out, err = self.doctor(["config", "--registry", "http://127.0.0.1:9",
                                      "--config", path])
        self.assertEqual(code, h.EXIT_USAGE)
        self.assertIn("%s:2: oci.writes: invalid value 'sometimes'" % path, err)


class FullApiTest(ArtifactsTestCase):
    """An OCI 1.1 registry: OCI-Subject on the push, the artifact listed, filters applied."""

    def test_pass_and_clients_attach_through_the_api(self):
        reg = self.scripted()
        report, err = self.verify(reg, checks=WITH_REFERRERS)
        self.assertStatus(report, CHECK, "pass", err)
        d = self.details(report, CHECK)
        self.assertEqual((d["ociSubject"], d["subjectProcessing"]), ("exact", "api"))
        self.assertTrue(d["listed"])
        self.assertFalse(d["listedUnderWrongType"])
        self.assertEqual(d["referrersListed"], 1)
        self.assertEqual(d["filtersApplied"], "artifactType")
        self.assertIsNone(d["fallbackWorked"])
        self.assertEqual(self.steps(d)["fallback"], "skip")
        self.assertEqual(self.steps(d)["chunkedUpload"], "pass")
        # the filtered listing went out with the type encoded
        lists = reg.requests("GET", "/referrers/")
        self.assertIn([ARTIFACT_TYPE], [r["query"].get("artifactType") for r in lists])
        # no fallback tag was written
        self.assertFalse([r for r in reg.requests("PUT") if "/manifests/sha256-" in r["path"]])
        self.assertEqual(self.attach(report), {"oras": "api", "go-containerregistry": "api",
                                               "regclient": "api"})
        self.assertStatus(report, "referrers", "pass", err)
        self.assertLeftNothingOfTheRun(reg, d)

    def test_the_artifact_as_pushed(self):
        """The artifact manifest has what oras and cosign send: artifactType, the
        empty config, one layer, the run id, the subject; pushed by digest."""
        reg = self.scripted()
        pushed = []
        original = reg._add_manifest

        def record(repo, tag, media_type, data):
            pushed.append((repo, tag, media_type, data))
            return original(repo, tag, media_type, data)
        reg._add_manifest = record
        report, err = self.verify(reg)
        d = self.details(report, CHECK)
        docs = {h.sha256_digest(data): json.loads(data) for _, _, _, data in pushed}
        art = docs[d["artifactDigest"]]
        self.assertEqual(art["artifactType"], ARTIFACT_TYPE)
        self.assertEqual(art["config"]["mediaType"], "application/vnd.oci.empty.v1+json")
        self.assertEqual(art["config"]["size"], 2)
        self.assertEqual(len(art["layers"]), 1)
        self.assertEqual(art["subject"]["digest"], d["subjectDigest"])
        self.assertEqual(art["annotations"]["org.ocidoctor.run-id"], d["runId"])
        self.assertTrue(all(repo == SCRATCH for repo, _, _, _ in pushed))
        self.assertTrue(all(tag is None for _, tag, _, _ in pushed), "pushed by tag")
        # every write (and delete) of the run went to the scratch repository
        writes = [r for r in reg.requests() if r["method"] in ("PUT", "POST", "PATCH", "DELETE")]
        self.assertTrue(writes)
        for r in writes:
            self.assertTrue(r["path"].startswith("/v2/%s/" % SCRATCH), r["path"])
        self.assertLeftNothingOfTheRun(reg, d)


class TextReportTest(ArtifactsTestCase):
    """The text report lists the steps under the check's line, in order."""

    def test_steps_in_text(self):
        reg = self.scripted(subject_header="none")
        code, out, err = self.doctor(["run", "--registry", reg.url, "--writes", "verify"] + ONLY)
        lines = [l.split() for l in out.splitlines() if l.startswith("        ")]
        names = [l[0] for l in lines if len(l) > 1 and l[1] in ("pass", "warn", "fail", "skip")]
        self.assertEqual(names, ["deleteProof", "subject", "artifact", "ociSubject",
                                 "missingSubject", "listing", "fallback", "chunkedUpload",
                                 "cleanup"], out)
        self.assertRegex(out, r"ociSubject\s+warn\s+no OCI-Subject")
        self.assertIn("see: ocidoctor explain check.integration.oci.artifacts", out)


class NoSubjectHeaderTest(ArtifactsTestCase):
    """The API lists the artifact, but the push has no OCI-Subject (go-containerregistry's registry)."""

    def test_warn_fallback_pushed_and_oras_regclient_attach_by_tag(self):
        reg = self.scripted(subject_header="none")
        report, err = self.verify(reg, checks=WITH_REFERRERS)
        self.assertStatus(report, CHECK, "warn", err)
        result = h.result_of(report, CHECK)
        self.assertEqual(result["remediation"]["summary"] != "", True)
        d = self.details(report, CHECK)
        self.assertEqual((d["ociSubject"], d["subjectProcessing"]), ("absent", "listed-without-header"))
        self.assertTrue(d["fallbackWorked"])
        tag = "sha256-" + d["subjectDigest"].split(":")[1]
        self.assertEqual(d["fallbackTag"], tag)
        puts = [r for r in reg.requests("PUT") if r["path"].endswith("/manifests/" + tag)]
        self.assertEqual(len(puts), 1)
        self.assertTrue(puts[0]["headers"]["Content-Type"].startswith(h.OCI_INDEX))
        self.assertEqual(self.attach(report), {"oras": "tag-fallback", "go-containerregistry": "api",
                                               "regclient": "tag-fallback"})
        self.assertLeftNothingOfTheRun(reg, d)

    def test_other_digest_splits_oras_and_regclient(self):
        reg = self.scripted(subject_header="other")
        report, err = self.verify(reg, checks=WITH_REFERRERS)
        d = self.details(report, CHECK)
        self.assertEqual(d["ociSubject"], "other")
        self.assertTrue(d["fallbackWorked"])
        attach = self.attach(report)
        self.assertEqual((attach["oras"], attach["regclient"]), ("api", "tag-fallback"))
        self.assertLeftNothingOfTheRun(reg, d)


class HeaderWithoutListingTest(ArtifactsTestCase):
    """OCI-Subject on the push, but the API lists nothing (ECR once did)."""

    def test_warn_and_the_referrers_check_names_it(self):
        reg = self.scripted(list_pushed=False)
        report, err = self.verify(reg, checks=WITH_REFERRERS)
        self.assertStatus(report, CHECK, "warn", err)
        d = self.details(report, CHECK)
        self.assertEqual(h.result_of(report, CHECK).get("remediation", {}).get("runbook"),
                         "ocidoctor explain check.integration.oci.artifacts")
        self.assertEqual(d["subjectProcessing"], "header-without-listing")
        self.assertFalse(d["listed"])
        self.assertTrue(d["fallbackWorked"])
        self.assertEqual(self.steps(d)["listing"], "fail")
        ref = h.result_of(report, "referrers")
        self.assertEqual(ref["status"], "warn", err)
        self.assertIn("OCI-Subject but its referrers API did not list", ref["message"])
        self.assertIn("OCI-Subject", self.details(report, "referrers")["consequences"])
        self.assertEqual(self.attach(report)["oras"], "api")
        self.assertLeftNothingOfTheRun(reg, d)


class WrongContentTypeTest(ArtifactsTestCase):
    """Harbor 2.8-2.9: the artifact is listed, but as application/json, which no client reads."""

    def test_listed_under_the_wrong_type(self):
        reg = self.scripted(referrers="index-wrong-type")
        report, err = self.verify(reg, checks=WITH_REFERRERS)
        self.assertStatus(report, CHECK, "warn", err)
        d = self.details(report, CHECK)
        self.assertFalse(d["listed"])
        self.assertTrue(d["listedUnderWrongType"])
        self.assertEqual(d["subjectProcessing"], "header-without-listing")
        self.assertTrue(d["fallbackWorked"])
        self.assertIn("Content-Type", h.result_of(report, CHECK)["message"])
        ref = h.result_of(report, "referrers")
        self.assertEqual(ref["status"], "warn")
        self.assertNotIn("did not list", ref["message"])
        self.assertLeftNothingOfTheRun(reg, d)


class RejectedArtifactTest(ArtifactsTestCase):
    """Artifact manifests refused: 405 "Invalid JSON syntax" (ECR), 415, 400 MANIFEST_INVALID."""

    def test_each_refusal_fails(self):
        for mode, needle in (("405", "Invalid JSON syntax"), ("415", "415"),
                             ("400", "MANIFEST_INVALID")):
            with self.subTest(mode=mode):
                reg = self.scripted(artifact_manifest=mode)
                report, err = self.verify(reg, checks=WITH_REFERRERS)
                self.assertStatus(report, CHECK, "fail", err)
                d = self.details(report, CHECK)
                self.assertEqual(d["subjectProcessing"], "rejected")
                self.assertEqual(self.steps(d)["artifact"], "fail")
                self.assertIn(needle, d["steps"]["artifact"]["verdict"])
                self.assertEqual(d["steps"]["artifact"]["httpStatus"], int(mode))
                if mode != "415":
                    self.assertEqual(d["steps"]["artifact"]["code"],
                                     "UNSUPPORTED" if mode == "405" else "MANIFEST_INVALID")
                else:
                    self.assertNotIn("code", d["steps"]["artifact"])
                self.assertIn("rejects artifact manifests", h.result_of(report, CHECK)["message"])
                clients = self.details(report, "referrers")["clients"]
                self.assertEqual(clients["oras"]["attach"], "error")
                self.assertEqual(clients["regclient"]["attach"], "error")
                self.assertIn("refused", clients["oras"]["why"])
                self.assertIn("oras attach fails outright",
                              self.details(report, "referrers")["consequences"])
                # the subject image went in, and out again
                self.assertEqual(self.steps(d)["subject"], "pass")
                self.assertLeftNothingOfTheRun(reg, d)


class MissingSubjectTest(ArtifactsTestCase):
    """A manifest whose subject does not exist must be accepted (spec); refusing it warns."""

    def test_refused_warns(self):
        reg = self.scripted(missing_subject="refuse")
        report, err = self.verify(reg)
        self.assertStatus(report, CHECK, "warn", err)
        d = self.details(report, CHECK)
        self.assertEqual(h.result_of(report, CHECK)["remediation"]["runbook"],
                         "ocidoctor explain check.integration.oci.artifacts")
        self.assertEqual(self.steps(d)["missingSubject"], "warn")
        self.assertIn("MANIFEST_BLOB_UNKNOWN", d["steps"]["missingSubject"]["verdict"])
        self.assertEqual(d["subjectProcessing"], "api")
        self.assertLeftNothingOfTheRun(reg, d)

    def test_accepted_is_removed_again(self):
        reg = self.scripted()
        report, err = self.verify(reg)
        d = self.details(report, CHECK)
        self.assertEqual(self.steps(d)["missingSubject"], "pass")
        self.assertLeftNothingOfTheRun(reg, d)


class ChunkMinLengthTest(ArtifactsTestCase):
    """Three chunks, each at least OCI-Chunk-Min-Length, closed by PUT ?digest=."""

    def test_chunks_honour_the_minimum(self):
        reg = self.scripted(chunk_min_length=300000)
        report, err = self.verify(reg)
        self.assertStatus(report, CHECK, "pass", err)
        d = self.details(report, CHECK)
        self.assertEqual(d["steps"]["chunkedUpload"]["status"], "pass")
        self.assertEqual(d["steps"]["chunkedUpload"]["chunkSize"], 300000)
        patches = reg.requests("PATCH", "/v2/%s/" % SCRATCH)
        self.assertEqual([p["body_length"] for p in patches], [300000] * 3)
        self.assertEqual(reg.short_chunks, [])
        ranges = [p["headers"]["Content-Range"] for p in patches]
        self.assertEqual(ranges, ["0-299999", "300000-599999", "600000-899999"])
        closes = [r for r in reg.requests("PUT", "/blobs/uploads/") if r["body_length"] == 0]
        self.assertEqual(len(closes), 1)
        self.assertTrue(closes[0]["query"].get("digest"))
        heads = [r for r in reg.requests("HEAD", "/v2/%s/blobs/" % SCRATCH)
                 if r["status"] == 200]
        self.assertTrue(heads, "the chunked blob was not verified by HEAD")
        self.assertLeftNothingOfTheRun(reg, d)

    def test_a_minimum_over_4_mib_is_not_attempted(self):
        reg = self.scripted(chunk_min_length=5 * 1024 * 1024)
        report, err = self.verify(reg)
        d = self.details(report, CHECK)
        self.assertEqual(d["steps"]["chunkedUpload"]["status"], "skip")
        self.assertEqual(reg.requests("PATCH", "/v2/%s/" % SCRATCH), [])
        self.assertLeftNothingOfTheRun(reg, d)


class DeletesDisabledTest(ArtifactsTestCase):
    """Without proof that deletes work nothing is pushed; --keep-artifacts pushes and lists it all."""

    def test_nothing_pushed(self):
        reg = self.scripted(delete="405")
        report, err = self.verify(reg, checks=WITH_REFERRERS)
        clients = self.details(report, "referrers")["clients"]
        self.assertEqual(clients["regclient"]["attach"], "unknown")
        self.assertIn("pushed nothing", clients["regclient"]["why"])
        result = h.result_of(report, CHECK)
        self.assertEqual(result["status"], "info", err)
        self.assertIn("nothing pushed", result["message"])
        self.assertIn("--keep-artifacts", result["message"])
        scratch = "/v2/%s/" % SCRATCH
        self.assertEqual(reg.requests("PUT", scratch), [])
        self.assertEqual(reg.requests("POST", scratch), [])
        self.assertEqual(reg.requests("PATCH", scratch), [])
        self.assertEqual(reg.contents(SCRATCH)["manifests"], [])
        self.assertEqual(self.details(report, CHECK)["leftovers"], [])

    def test_keep_artifacts_lists_what_was_left(self):
        reg = self.scripted(delete="405")
        report, err = self.verify(reg, "--keep-artifacts")
        d = self.details(report, CHECK)
        leftovers = d["leftovers"]
        held = reg.contents(SCRATCH)
        self.assertEqual(sorted(l["ref"] for l in leftovers if l["kind"] == "manifest"),
                         held["manifests"])
        self.assertEqual(sorted(l["ref"] for l in leftovers if l["kind"] == "blob"),
                         held["blobs"])
        self.assertEqual(len(held["manifests"]), 3)   # subject, artifact, missing subject
        for item in leftovers:
            self.assertEqual(item["repository"], SCRATCH)
            self.assertIn("curl -X DELETE", item["command"])
            self.assertIn(item["ref"], item["command"])
        self.assertIn("left in the scratch repository", h.result_of(report, CHECK)["message"])
        self.assertEqual([r for r in reg.requests("DELETE") if r["status"] == 202], [])


class PushesRefusedTest(ArtifactsTestCase):
    """Every push refused while the delete probes answer 404 (Harbor's
    read-only mode, an account over its quota): with --keep-artifacts the
    check pushes, is refused, and fails with the refusal as the subject
    step's reason; no step that was never reached is shown, and a fleet
    run goes on to its other targets."""

    REFUSAL = "403 DENIED: The system is in read only mode"

    def test_subject_step_names_the_refusal(self):
        reg = self.scripted(profile="harbor-readonly")
        report, err = self.verify(reg, "--keep-artifacts")
        result = h.result_of(report, CHECK)
        self.assertEqual(result["status"], "fail", err)
        self.assertIn("denied", result["message"])
        d = self.details(report, CHECK)
        self.assertFalse(d["deletesProven"])
        subject = d["steps"]["subject"]
        self.assertEqual(subject["status"], "fail")
        self.assertIn("its blobs were not uploaded", subject["verdict"])
        self.assertIn("POST /v2/%s/blobs/uploads/: %s" % (SCRATCH, self.REFUSAL),
                      subject["verdict"])
        self.assertNotIn("artifact", d["steps"])
        self.assertEqual(d["leftovers"], [])
        self.assertEqual(reg.contents(SCRATCH)["manifests"], [])
        self.assertEqual(reg.requests("PUT", "/v2/%s/" % SCRATCH), [])

    def test_matrix_reports_every_target(self):
        refusing = self.scripted(profile="harbor-readonly")
        good = self.scripted()
        path = os.path.join(h.scratch_dir("artifacts-matrix-"), "targets.txt")
        with open(path, "w") as f:
            f.write("%s\n%s\n" % (refusing.url, good.url))
        code, out, err = self.doctor(["matrix", "--no-progress", "--targets", path,
                                      "--writes", "verify", "--keep-artifacts",
                                      "--scratch-repository", SCRATCH, "--format", "json"])
        self.assertEqual(code, h.EXIT_FAIL, err)
        rows = {row["registry"]: row for row in map(json.loads, out.splitlines())}
        self.assertEqual(set(rows), {refusing.url, good.url}, out)
        self.assertEqual(rows[refusing.url]["checks"]["check.integration.oci.artifacts"], "fail")
        self.assertEqual(rows[good.url]["checks"]["check.integration.oci.artifacts"], "pass")
        self.assertEqual(len(good.contents(SCRATCH)["manifests"]), 3)   # kept, as asked


class DeadlineTest(ArtifactsTestCase):
    """A run cut by the deadline mid-way removes what it can and lists the rest."""

    def test_cleanup_after_the_deadline(self):
        # under valgrind (OCIDOCTOR_WRAPPER) the pushes before the listing take longer
        scale = 5 if os.environ.get("OCIDOCTOR_WRAPPER") else 1
        timeout = 3 * scale
        reg = self.scripted(slow={("GET", re.escape(SCRATCH) + "/referrers/"): 1000 * (timeout + 1)},
                            stall_blob_deletes=20000 * scale)
        started = time.monotonic()
        report, err = self.verify(reg, "--timeout", str(timeout))
        took = time.monotonic() - started
        self.assertStatus(report, CHECK, "fail", err)
        d = self.details(report, CHECK)
        self.assertEqual(d["subjectProcessing"], "unknown")
        held = reg.contents(SCRATCH)
        # the manifests went in the grace period; the stalled blob deletes did not
        self.assertEqual(held["manifests"], [])
        self.assertEqual(held["tags"], [])
        self.assertEqual(sorted(l["ref"] for l in d["leftovers"]), held["blobs"])
        self.assertEqual({l["kind"] for l in d["leftovers"]}, {"blob"})
        self.assertEqual(len(held["blobs"]), 5)
        self.assertEqual(reg.open_sessions(), [])
        # one grace period for the whole clean-up (plus the call under way), not one per wave
        self.assertLess(took, timeout + 3 + 3 * scale, "the clean-up outlived its grace period")


class ConcurrentRunsTest(ArtifactsTestCase):
    """Two verify runs at once in one scratch repository see only their own artifact."""

    def test_two_runs(self):
        reg = self.scripted(slow={("GET", "/referrers/"): 700})
        results = [None, None]

        def one(i):
            results[i] = self.run_against(reg, "--writes", "verify",
                                          "--scratch-repository", SCRATCH, *ONLY)
        threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        details = [self.details(r[1], CHECK) for r in results]
        for (code, report, err), d in zip(results, details):
            self.assertStatus(report, CHECK, "pass", err)
            self.assertEqual(d["referrersListed"], 1, "a run saw another run's artifact")
            self.assertEqual(d["leftovers"], [])
        self.assertNotEqual(details[0]["subjectDigest"], details[1]["subjectDigest"])
        self.assertNotEqual(details[0]["runId"], details[1]["runId"])
        # both listed while both artifacts were in the repository
        lists = reg.requests("GET", "/referrers/")
        self.assertEqual(len({r["path"] for r in lists}), 2)
        self.assertEqual(reg.contents(SCRATCH), {"manifests": [], "tags": [], "blobs": []})
        self.assertEqual(reg.open_sessions(), [])


if __name__ == "__main__":
    unittest.main()
