"""Clean-up outlives the deadline.

A registry that drips its answers can keep the capabilities check's PATCH
in flight until the run's deadline (--timeout) passes, with its upload
session open. The cancel of that session must still be sent, within a short
grace period of its own (REGISTRY_CLEANUP_GRACE_MS, 3 s), and whatever is
still left must be listed in details.leftovers.
"""

import json
import time
import unittest

import harness as h
import scripted_registry as sr

CHECK = "capabilities"
# the capabilities check's session, in the scratch repository
SCRATCH_SESSION = r"ocidoctor-scratch/blobs/uploads/[^/?]"


# The run's deadline, wider under valgrind so the run gets as far as the PATCH;
# the PATCH answers only after it, and the grace period is REGISTRY_CLEANUP_GRACE_MS.
TIMEOUT = h.slack(2)
GRACE = 3
PATCH_DELAY_MS = (TIMEOUT + 4) * 1000


class DeadlineCleanupTest(sr.ScriptedTestCase):

    def run_slow(self, slow):
        reg = self.scripted(slow=slow)
        started = time.monotonic()
        code, report, err = self.run_against(reg, "--timeout", str(TIMEOUT))
        return reg, report, err, time.monotonic() - started

    def test_session_is_cancelled_after_the_deadline(self):
        reg, report, err, took = self.run_slow({("PATCH", SCRATCH_SESSION): PATCH_DELAY_MS})
        deletes = [r for r in reg.requests("DELETE") if "ocidoctor-scratch/" in r["path"]
                   and "/blobs/uploads/" in r["path"]]
        self.assertEqual(len(deletes), 1, "the session was not cancelled: %s" % reg.requests())
        self.assertEqual(deletes[0]["status"], 204)
        self.assertEqual(reg.open_sessions(), [], "an upload session was left open")
        self.assertEqual(self.details(report, CHECK).get("leftovers"), [])
        # the PATCH was cut at the deadline; the cancel did not wait for it
        self.assertStatus(report, CHECK, "fail", err)
        self.assertLess(took, TIMEOUT + GRACE + h.slack(2), "the run did not end within its grace period")

    def test_what_the_grace_period_cannot_cancel_is_a_leftover(self):
        reg, report, err, took = self.run_slow({("PATCH", SCRATCH_SESSION): PATCH_DELAY_MS,
                                                ("DELETE", SCRATCH_SESSION): 8000})
        leftovers = self.details(report, CHECK).get("leftovers") or []
        self.assertEqual([item["kind"] for item in leftovers], ["upload-session"], leftovers)
        self.assertIn("/blobs/uploads/", leftovers[0]["ref"])
        self.assertIn("no answer", leftovers[0]["why"])
        self.assertIn("curl -X DELETE", leftovers[0]["command"])
        self.assertLess(took, TIMEOUT + GRACE + h.slack(2), "the clean-up outlived its grace period")


if __name__ == "__main__":
    unittest.main()
