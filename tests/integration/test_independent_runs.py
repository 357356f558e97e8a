"""Runs do not change each other's verdicts.

Two runs at the same time on one registry (two matrix targets, two CI jobs)
and a link that an earlier run could not remove (deletes disabled) must give
the same verdicts as one clean run on a fresh registry. With one shared
scratch repository they did not: one run saw the other's mount, or the
earlier run's link, and reported crossRepoMount unknown at random.

Repeated 20 times, so that a race has its chances.
"""

import concurrent.futures
import json
import unittest

import harness as h
import scripted_registry as sr

ROUNDS = 20


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

    def one_run(self, reg):
        code, report, err = self.run_against(reg)
        self.assertIn(code, (h.EXIT_OK, h.EXIT_WARN, h.EXIT_FAIL), err)
        return report

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
                scratch = {self.details(r, "capabilities")["scratchRepository"] for r in reports}
                self.assertEqual(len(scratch), 2, "two runs shared a scratch repository")
        # every run left exactly its own link, and nothing else
        links = reg.mounted_links()
        self.assertEqual(len(links), 1 + 2 * ROUNDS, links)
        self.assertEqual({digest for _, digest in links}, {reg.config_digest})
        self.assertEqual(reg.open_sessions(), [])


if __name__ == "__main__":
    unittest.main()
