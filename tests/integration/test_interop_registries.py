"""ocidoctor against registries nobody here wrote.

Each real registry (distribution 2.8 from Debian, distribution 3.1, olareg,
go-containerregistry's registry; interop.py starts them from
$OCIDOCTOR_INTEROP_BIN) is started fresh on loopback with the test image,
and `ocidoctor run` goes against it without and with `--writes verify`. The
verdicts must be what these registries really support, the delete proof
must work on all of them (none needs the scratch repository to exist first,
none answers a made-up blob digest the same way), and nothing of the runs
may be left: the catalog gains at most the one scratch repository, which
holds no tag, and on distribution its storage directory holds no manifest,
tag or blob link and no open upload session. Consecutive runs give the same
verdicts, also after a run that could not clean up (deletes disabled).

Without the binaries the tests are skipped, naming what is missing;
scripts/test sets OCIDOCTOR_INTEROP_REQUIRED so that CI fails instead.
"""

import json
import unittest

import harness as h
import interop

SCRATCH = "library/ocidoctor-scratch"
ROUNDS = 20

# registry -> {check: status} with --writes verify
VERIFY = {
    "distribution-2.8": {"push": "pass", "referrers": "warn", "capabilities": "warn", "artifacts": "warn"},
    "distribution-3.1": {"push": "pass", "referrers": "warn", "capabilities": "warn", "artifacts": "warn"},
    "olareg": {"push": "pass", "referrers": "pass", "capabilities": "pass", "artifacts": "pass"},
    # no OCI-Subject (clients disagree), no upload cancel (400), no mount, blob deletes of
    # unknown digests answer 500, listing without artifactType: but writes verify
    "ggcr": {"push": "pass", "referrers": "warn", "capabilities": "info", "artifacts": "warn"},
}


def statuses(report):
    return {r["checkId"].rsplit(".", 1)[1]: r["status"] for r in report["results"]}


def verdicts(report):
    out = statuses(report)
    for result in report["results"]:
        caps = (result.get("details") or {}).get("capabilities") or {}
        for name, cap in caps.items():
            out[name] = cap.get("state")
    return out


class RealRegistriesTest(h.DoctorTestCase):

    def run_on(self, reg, *extra):
        code, report, err = self.doctor_json(["run", "--registry", reg.url] + list(extra))
        self.assertIn(code, (h.EXIT_OK, h.EXIT_WARN, h.EXIT_FAIL), err)
        return report

    def assertNothingLeft(self, reg, before, report):
        """The run left no more than the (empty) scratch repository."""
        if reg.kind != "olareg":           # olareg has no catalog
            self.assertLessEqual(set(reg.catalog()) - before, {SCRATCH}, reg.kind)
        self.assertEqual(reg.tags(SCRATCH), [], "%s: tags left in the scratch repository" % reg.kind)
        if reg.stores_on_disk:
            self.assertEqual(reg.links(SCRATCH), [], "%s: links left in storage" % reg.kind)
            self.assertEqual(reg.upload_sessions(), [], "%s: upload sessions left" % reg.kind)
        art = h.result_of(report, "artifacts")["details"]
        self.assertEqual(art.get("leftovers"), [], "%s: %s" % (reg.kind, art.get("leftovers")))
        # the test image is untouched
        self.assertEqual(reg.manifest_status("library/alpine", "latest"), 200, reg.kind)

    def test_verify_writes_and_leaves_nothing(self):
        for kind, wanted in VERIFY.items():
            with self.subTest(registry=kind):
                with interop.start(kind) as reg:
                    reg.push_image()
                    before = set(reg.catalog()) if kind != "olareg" else set()
                    plain = self.run_on(reg)
                    self.assertEqual(statuses(plain)["artifacts"], "skip")
                    reports = [self.run_on(reg, "--writes", "verify") for _ in range(2)]
                    for report in reports:
                        got = {c: statuses(report)[c] for c in wanted}
                        self.assertEqual(got, wanted, "%s:\n%s" % (kind, h.describe(report)))
                        d = h.result_of(report, "artifacts")["details"]
                        self.assertTrue(d["deletesProven"], d["steps"]["deleteProof"])
                        self.assertEqual(d["scratchRepository"], SCRATCH)
                        self.assertNothingLeft(reg, before, report)
                    self.assertEqual(verdicts(reports[0]), verdicts(reports[1]), kind)
                    # created by the first run at most, never by the second
                    created = [h.result_of(reports[1], c)["details"].get("scratchRepositoryCreated")
                               for c in ("capabilities", "artifacts")]
                    if kind.startswith("distribution") or kind == "ggcr":
                        self.assertNotIn(True, created, kind)

    def test_twenty_runs_add_at_most_one_repository(self):
        for kind in ("distribution-2.8", "distribution-3.1", "ggcr"):
            with self.subTest(registry=kind):
                with interop.start(kind) as reg:
                    reg.push_image()
                    before = set(reg.catalog())
                    first = {}          # by mode: the referrers check reads what verify pushed
                    for i in range(ROUNDS):
                        mode = ["--writes", "verify"] if i % 2 else []
                        v = verdicts(self.run_on(reg, *mode))
                        first.setdefault(bool(mode), v)
                        self.assertEqual(v, first[bool(mode)], "%s run %d" % (kind, i))
                    self.assertLessEqual(len(set(reg.catalog()) - before), 1, reg.catalog())

    def test_runs_after_one_that_could_not_clean_up(self):
        """Deletes disabled: the first run's mounted link stays; the next runs
        give the same verdicts, list the same leftover and push nothing."""
        for kind in ("distribution-2.8", "distribution-3.1"):
            with self.subTest(registry=kind):
                with interop.start(kind, delete_enabled=False) as reg:
                    reg.push_image()
                    reports = [self.run_on(reg, "--writes", "verify") for _ in range(3)]
                    for report in reports:
                        self.assertEqual(verdicts(report), verdicts(reports[0]), kind)
                        caps = h.result_of(report, "capabilities")["details"]
                        self.assertEqual(caps["capabilities"]["delete"]["state"], "unsupported")
                        self.assertEqual(caps["capabilities"]["crossRepoMount"]["state"], "supported")
                        self.assertEqual([l["kind"] for l in caps["leftovers"]], ["mounted-blob"])
                        art = h.result_of(report, "artifacts")
                        self.assertEqual(art["status"], "info", art["message"])
                        self.assertIn("nothing pushed", art["message"])
                    self.assertEqual(reg.tags(SCRATCH), [])
                    # the one link of the first run, and no other
                    self.assertEqual([l for l in reg.links(SCRATCH)],
                                     ["_layers/sha256/%s/link" % reg_config(reg)])


def reg_config(reg):
    status, _, body = reg.call("GET", "/v2/library/alpine/manifests/latest",
                               headers={"Accept": h.OCI_MANIFEST})
    return json.loads(body)["config"]["digest"].split(":", 1)[1]


if __name__ == "__main__":
    unittest.main()
