"""Runs do not change each other's verdicts, and leave one scratch repository.

Every run writes into the same scratch repository, NAMESPACE/ocidoctor-scratch,
so that a registry gains at most one repository from ocidoctor, however
often it runs (the registry API cannot delete a repository). That must not
make one run's verdicts depend on another: runs at the same time, a run
after one that could not remove its mounted link (deletes disabled), and a
run after one whose clean-up was refused must all give the verdicts of one
clean run on a fresh registry. A link an earlier run left is recognised by
the HEAD before the mount (the scratch repository answers 200 for the test
image's config blob): the mount is sent all the same, judged the same way,
and left alone.
"""

import concurrent.futures
import json
import unittest

import harness as h
import scripted_registry as sr

ROUNDS = 20
SCRATCH = "library/ocidoctor-scratch"


def verdicts(report):
    """What must not depend on other runs: every status, and every state."""
    out = {r["checkId"]: r["status"] for r in report["results"]}
    for result in report["results"]:
        caps = (result.get("details") or {}).get("capabilities") or {}
        for name, cap in caps.items():
            out[name] = cap.get("state")
    out["referrers"] = h.result_of(report, "referrers")["details"].get("state")
    out["worst"] = report["summary"]["worst"]
    return out


class IndependentRunsTest(sr.ScriptedTestCase):

    def one_run(self, reg, *extra):
        code, report, err = self.run_against(reg, *extra)
        self.assertIn(code, (h.EXIT_OK, h.EXIT_WARN, h.EXIT_FAIL), err)
        return report

    def catalog(self, reg):
        status, _, body = reg.call("GET", "/v2/_catalog")
        return json.loads(body)["repositories"] if status == 200 else []

    def test_concurrent_runs_and_leftovers_give_the_clean_verdicts(self):
        clean = verdicts(self.one_run(self.scripted(delete="405")))
        self.assertEqual(clean["crossRepoMount"], "supported", clean)
        reg = self.scripted(delete="405")
        # an earlier run that could not remove its link (deletes disabled)
        earlier = self.one_run(reg)
        self.assertTrue(self.details(earlier, "capabilities").get("leftovers"), "no leftover")
        self.assertEqual(verdicts(earlier), clean)
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            for round_no in range(ROUNDS):
                reports = list(pool.map(lambda _: self.one_run(reg), range(2)))
                for report in reports:
                    self.assertEqual(verdicts(report), clean,
                                     "round %d: %s" % (round_no, json.dumps(
                                         self.details(report, "capabilities"), indent=1)))
                    # the link is still there, and every run says so
                    left = self.details(report, "capabilities")["leftovers"]
                    self.assertEqual([(l["kind"], l["ref"]) for l in left],
                                     [("mounted-blob", reg.config_digest)], left)
                scratch = {self.details(r, "capabilities")["scratchRepository"] for r in reports}
                self.assertEqual(scratch, {SCRATCH})
        # one link in one repository, whatever the number of runs
        self.assertEqual(reg.mounted_links(), [[SCRATCH, reg.config_digest]])
        self.assertEqual(reg.open_sessions(), [])

    def test_run_after_a_refused_clean_up(self):
        """The first run's removal of its link is refused (a 500); the next
        run finds the link, mounts all the same and gets the same verdicts."""
        clean = verdicts(self.one_run(self.scripted()))
        link = r"^/v2/%s/blobs/sha256:" % SCRATCH
        reg = self.scripted(override_first={("DELETE", link): (1, (500, {}, b"storage error"))})
        first = self.one_run(reg)
        self.assertEqual(verdicts(first), clean)
        left = self.details(first, "capabilities")["leftovers"]
        self.assertEqual([l["kind"] for l in left], ["mounted-blob"], left)
        self.assertEqual(reg.mounted_links(), [[SCRATCH, reg.config_digest]])
        second = self.one_run(reg)
        self.assertEqual(verdicts(second), clean)
        caps = self.details(second, "capabilities")
        self.assertIn("left as it was", caps["capabilities"]["crossRepoMount"]["reason"])
        self.assertEqual(caps["leftovers"], [])   # deletes work: not a leftover of this run
        # the earlier link is never removed by a later run: it cannot tell it from an image's
        self.assertEqual(reg.mounted_links(), [[SCRATCH, reg.config_digest]])

    def test_twenty_runs_add_one_repository(self):
        for profile in ("spec", "distribution", "ggcr", "quay"):
            with self.subTest(profile=profile):
                reg = self.scripted(profile=profile)
                before = set(self.catalog(reg))
                reports = [self.one_run(reg, "--writes", "verify") for _ in range(ROUNDS)]
                first = verdicts(reports[0])
                for i, report in enumerate(reports):
                    self.assertEqual(verdicts(report), first, "run %d" % i)
                    created = [self.details(report, c).get("scratchRepositoryCreated")
                               for c in ("capabilities", "artifacts")]
                    self.assertEqual(True in created, i == 0, "run %d: %s" % (i, created))
                added = set(self.catalog(reg)) - before
                self.assertLessEqual(added, {SCRATCH})
                self.assertEqual(reg.contents(SCRATCH)["manifests"], [])
                self.assertEqual(reg.contents(SCRATCH)["tags"], [])

    def test_the_report_says_the_run_created_the_scratch_repository(self):
        reg = self.scripted()
        for fmt in ("text", "markdown", "html", "junit"):
            reg = self.scripted()
            code, out, err = self.doctor(["run", "--registry", reg.url, "--format", fmt])
            with self.subTest(fmt):
                self.assertIn(SCRATCH, out)
                self.assertIn("garbage-collect", out, "%s: no way to remove it" % fmt)
        report = self.one_run(reg)
        self.assertNotIn("created the scratch", json.dumps(report))


if __name__ == "__main__":
    unittest.main()
