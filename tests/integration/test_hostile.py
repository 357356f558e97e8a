"""Hostile inputs and hostile servers: the second security review.

Each test pins one finding of that review: the matrix dispatcher under a
flood of short-lived jobs on one CPU, bounds on numbers and outputs,
report files, the targets file, and server text that tries to inject
markup into reports. The servers are the scriptable registry and the fault
server on loopback; nothing here needs docker-registry.
"""

import os
import shutil
import signal
import stat
import subprocess
import threading
import time
import unittest

import harness as h
import faultserver as fs


def refused_url():
    return "http://127.0.0.1:%d" % h.free_port()


class MatrixFloodTest(h.DoctorTestCase):
    """Thousands of targets that fail at once, far more than one CPU can run:
    each job frees itself the moment it ends, so the dispatcher must never
    touch a job after starting it (a use-after-free under ASan and TSan)."""

    def test_thousands_of_refused_targets_on_one_cpu(self):
        directory = h.scratch_dir("flood-")
        path = os.path.join(directory, "targets.txt")
        # under valgrind (OCIDOCTOR_WRAPPER) a tenth is plenty and still races
        count = 300 if os.environ.get("OCIDOCTOR_WRAPPER") else 3000
        with open(path, "w") as f:
            f.write("%s\n" % refused_url() * count)
        args = ["matrix", "--no-progress", "--targets", path, "--parallel", "256",
                "--format", "json", "--check", "check.integration.oci.registry"]
        pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
        wrapper = os.environ.get("OCIDOCTOR_WRAPPER", "").split()
        home = h.scratch_dir("home-")
        proc = subprocess.run(pin + wrapper + [os.path.abspath(h.doctor_binary())] + args, cwd=home, input="",
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=h.doctor_env(None, home), timeout=600,
                              encoding="utf-8", errors="replace")
        self.assertEqual(proc.returncode, h.EXIT_FAIL, proc.stderr[-2000:])
        self.assertEqual(len(proc.stdout.splitlines()), count)
        self.assertNotIn("Sanitizer", proc.stderr)


if __name__ == "__main__":
    unittest.main()
