"""ocidoctor serve over a few thousand probes: memory does not grow.

The exporter probes a seeded docker-registry (distribution 2.8) a few
thousand times from several clients at once. Its resident set is read from
/proc after a warm-up that fills the history, and again at the end: every
probe frees what it took, so the two must stay close. A probe of a port
nothing listens on is mixed in, so failing probes are freed too. Under a
sanitizer or valgrind the RSS bound means nothing (AddressSanitizer keeps
freed memory in quarantine, ThreadSanitizer a history of accesses), so there the probes are fewer and the leak checker at
exit does the asserting (serve_harness.Exporter.stop).
"""

import concurrent.futures
import os
import sys
import unittest

import harness as h
import serve_harness as sh

CLIENTS = 8


def instrumented(binary):
    """Built with AddressSanitizer or ThreadSanitizer, which keep memory of their own."""
    with open(binary, "rb") as f:
        data = f.read()
    return b"__asan_init" in data or b"__tsan_init" in data


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


class ServeSoakTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(seed=[("library/alpine", "latest")]))
        cls.down = "http://127.0.0.1:%d" % h.free_port()
        cls.exporter = cls.start_server(sh.Exporter("--max-concurrent", str(CLIENTS),
                                                    "--history-limit", "50"))

    def probes(self, n):
        def one(i):
            target = self.down if i % 10 == 0 else self.registry.url
            a = self.exporter.probe(target, timeout=60 * sh.SLACK)
            return a.status, sh.value(a.body, "ocidoctor_probe_success")

        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(one, range(n)))
        self.assertEqual({s for s, _ in results}, {200})
        self.assertEqual(sum(1 for _, v in results if v == 0), len(range(0, n, 10)))
        return results

    def test_memory_does_not_grow_with_probes(self):
        checked = not sh.WRAPPED and not instrumented(h.doctor_binary())
        warm, total = (300, 3000) if checked else (30, 200)
        self.probes(warm)
        before = rss_kib(self.exporter.proc.pid)
        self.probes(total - warm)
        after = rss_kib(self.exporter.proc.pid)
        m = self.exporter.get("/metrics").body
        done = (sh.value(m, "ocidoctor_exporter_probes_total", module="default", outcome="success")
                + sh.value(m, "ocidoctor_exporter_probes_total", module="default",
                           outcome="failure"))
        self.assertEqual(done, total)
        self.assertEqual(sh.value(m, "ocidoctor_exporter_probes_in_flight"), 0)
        print("\nRSS %d KiB after %d probes, %d KiB after %d" % (before, warm, after, total),
              file=sys.stderr)
        if not checked:
            return
        # A leak of even 1 KiB a probe would add 2.6 MiB here.
        self.assertLess(after - before, 2048,
                        "RSS grew from %d KiB to %d KiB over %d probes"
                        % (before, after, total - warm))


if __name__ == "__main__":
    unittest.main()
