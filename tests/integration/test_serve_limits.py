"""ocidoctor serve under clients that try to hold it.

A slowloris client (many connections from one address, each sending a
byte of an endless header every few hundred milliseconds), a flood of
scrapes of a target that accepts and never answers (with the longest
scrape timeout a header can ask for, on a writing module whose scrapes
wait for each other), a scrape whose client leaves while its probe
runs, and SIGTERM in the middle of both. Meanwhile a
well-behaved client on another loopback address (127.0.0.2, as
Prometheus would be) must get `/-/healthy` and `/metrics` within a second,
and SIGTERM must end the exporter within two seconds.

Every loop is bounded, everything listens on loopback, and every socket
and server is closed or stopped by the test.
"""

import os
import select
import signal
import socket
import threading
import time
import unittest

import faultserver as fs
import harness as h
import scripted_registry as sr
import serve_harness as sh

OTHER_CLIENT = "127.0.0.2"
# --max-concurrent 4: 4*4 + 64 = 80 connections, at most 2*4 + 16 = 24 from one address
CONCURRENT = 4
ATTACK = 100
HEADER_TIMEOUT = 5.0    # SERVE_HEADER_TIMEOUT_MS

CONFIG = """modules:
  default:
    writes: none
  writer:
    writes: probe
    min_interval: 600
"""


def other_address_usable():
    try:
        with socket.socket() as s:
            s.bind((OTHER_CLIENT, 0))
        return True
    except OSError:
        return False


class Crowd:
    """Sockets from 127.0.0.1 to the exporter, each started with `opening`
    and kept alive with one byte of `drip` every `every` seconds (none when
    drip is empty); a closed one is opened again. Runs in a thread until
    stop()."""

    def __init__(self, port, n, opening, drip=b"", every=0.3):
        self.port, self.n, self.opening, self.drip, self.every = port, n, opening, drip, every
        self.socks = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.opened = 0

    def open_one(self):
        s = socket.socket()
        s.settimeout(1)
        try:
            s.connect(("127.0.0.1", self.port))
            s.sendall(self.opening)
        except OSError:
            s.close()
            return None
        self.opened += 1
        return s

    def run(self):
        deadline = time.monotonic() + 120   # bounded even if stop() never comes
        while not self.done.is_set() and time.monotonic() < deadline:
            while len(self.socks) < self.n and not self.done.is_set():
                s = self.open_one()
                if s is None:
                    break
                self.socks.append(s)
            alive = []
            for s in self.socks:
                try:
                    if self.drip:
                        s.sendall(self.drip)
                    alive.append(s)
                except OSError:
                    s.close()
            self.socks = alive
            self.done.wait(self.every)

    def __enter__(self):
        self.thread.start()
        return self

    def stop(self):
        self.done.set()
        self.thread.join(10)
        for s in self.socks:
            s.close()
        self.socks = []

    def __exit__(self, *exc):
        self.stop()


class ServeLimitsTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        if not other_address_usable():
            raise unittest.SkipTest("cannot bind %s on loopback" % OTHER_CLIENT)
        cls.hang = cls.start_server(fs.FaultServer({("*", r"^/v2/"): fs.HANG}))

    def exporter(self, *args):
        ex = sh.Exporter("--max-concurrent", str(CONCURRENT), *args, config=CONFIG)
        ex.start()
        self.addCleanup(ex.stop)
        return ex

    def in_flight(self, ex):
        m = sh.get_from(OTHER_CLIENT, "127.0.0.1", ex.port, "/metrics", 5 * sh.SLACK)[1]
        return sh.value(m, "ocidoctor_exporter_probes_in_flight") or 0

    def assertAnswersQuickly(self, ex, rounds=5):
        """/-/healthy and /metrics from the other address, each within a second."""
        for _ in range(rounds):
            for path in ("/-/healthy", "/metrics"):
                try:
                    status, body, seconds = sh.get_from(OTHER_CLIENT, "127.0.0.1", ex.port, path,
                                                        timeout=5 * sh.SLACK)
                except OSError as e:
                    self.fail("%s from %s failed: %r" % (path, OTHER_CLIENT, e))
                self.assertEqual(status, 200, body)
                self.assertLess(seconds, 1.0 * sh.SLACK, "%s took %.2f s" % (path, seconds))
            time.sleep(0.2)

    def wait_for(self, what, fn, seconds):
        deadline = time.monotonic() + seconds * sh.SLACK
        while not fn():
            self.assertLess(time.monotonic(), deadline, what)
            time.sleep(0.05)

    def probe_request(self, ex, module, timeout_header="86399"):
        return ("GET /probe?target=%s&module=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                "X-Prometheus-Scrape-Timeout-Seconds: %s\r\n\r\n"
                % (self.hang.url, module, ex.port, timeout_header)).encode()

    # -- slowloris --

    def test_a_dripped_header_is_cut_off_at_its_deadline(self):
        ex = self.exporter()
        s = socket.create_connection(("127.0.0.1", ex.port))
        try:
            s.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            start = time.monotonic()
            closed_after = None
            while time.monotonic() - start < HEADER_TIMEOUT + 3 * sh.SLACK:
                try:
                    s.sendall(b"a")
                except OSError:
                    closed_after = time.monotonic() - start
                    break
                ready, _, _ = select.select([s], [], [], 0.3)
                if ready:
                    try:
                        data = s.recv(4096)
                    except OSError:
                        data = b""
                    if not data:
                        closed_after = time.monotonic() - start
                        break
            self.assertIsNotNone(closed_after, "a connection dripping its header was never closed")
            self.assertGreater(closed_after, HEADER_TIMEOUT - 1.0)
            self.assertLess(closed_after, HEADER_TIMEOUT + 1.5 * sh.SLACK)
        finally:
            s.close()

    def test_healthy_answers_under_slowloris(self):
        ex = self.exporter()
        opening = b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nX-Slow: "
        with Crowd(ex.port, ATTACK, opening, drip=b"a") as crowd:
            self.wait_for("the crowd opened no connections", lambda: crowd.opened >= 24, 10)
            time.sleep(1)
            self.assertAnswersQuickly(ex)
            # still, once the first connections were cut off at their deadline
            time.sleep(HEADER_TIMEOUT)
            self.assertAnswersQuickly(ex, rounds=2)
            self.assertGreater(crowd.opened, ATTACK, "no connection of the crowd was ever closed")

    # -- hanging probes --

    def test_healthy_answers_under_a_flood_of_hanging_probes_and_sigterm_ends_them(self):
        ex = self.exporter()
        # 12 scrapes of a writing module: one probe runs, the others wait for it
        with Crowd(ex.port, 12, self.probe_request(ex, "writer"), every=0.2) as writers:
            self.wait_for("no writing probe started", lambda: self.in_flight(ex) >= 1, 10)
            # then a flood of read-only scrapes: 3 run, the others are answered 503 and stay
            with Crowd(ex.port, ATTACK, self.probe_request(ex, "default"), every=0.2):
                self.wait_for("the probes did not fill the slots",
                              lambda: self.in_flight(ex) == CONCURRENT, 10)
                time.sleep(1)
                self.assertAnswersQuickly(ex)
                self.assertEqual(writers.opened, 12)
                start = time.monotonic()
                ex.signal(signal.SIGTERM)
                try:
                    ex.proc.wait(timeout=2 * sh.SLACK)
                except Exception:
                    self.fail("SIGTERM with %d probes running: still running after %.1f s"
                              % (CONCURRENT, time.monotonic() - start))
                self.assertLess(time.monotonic() - start, 2 * sh.SLACK)
        ex.stop()   # exit status 0, no sanitizer report

    def test_the_scrape_timeout_header_is_capped_by_max_timeout(self):
        ex = self.exporter("--max-timeout", "2")
        a = ex.probe(self.hang.url, headers={"X-Prometheus-Scrape-Timeout-Seconds": "86399"},
                     timeout=30 * sh.SLACK)
        self.assertEqual(a.status, 200, a)
        self.assertEqual(sh.value(a.body, "ocidoctor_probe_timeout_seconds"), 2)
        self.assertLess(a.seconds, 2 + sh.SLACK)
        # without the header, too
        b = ex.probe(self.hang.url, timeout=30 * sh.SLACK)
        self.assertEqual(sh.value(b.body, "ocidoctor_probe_timeout_seconds"), 2)
        code, out, err = h.run_doctor(["serve", "--max-timeout", "0"])
        self.assertEqual(code, h.EXIT_USAGE, err)
        self.assertIn("--max-timeout", err)

    def test_a_wait_for_another_scrapes_probe_ends_with_the_scrapes_deadline(self):
        ex = self.exporter()
        first = {}
        t = threading.Thread(target=lambda: first.update(a=ex.probe(
            self.hang.url, module="writer", timeout=60 * sh.SLACK,
            headers={"X-Prometheus-Scrape-Timeout-Seconds": "8"})))
        t.start()
        try:
            self.wait_for("the first probe never started",
                          lambda: sh.value(ex.get("/metrics").body,
                                           "ocidoctor_exporter_probes_in_flight") == 1, 5)
            b = ex.probe(self.hang.url, module="writer", timeout=6 * sh.SLACK,
                         headers={"X-Prometheus-Scrape-Timeout-Seconds": "2"})
            self.assertEqual(b.status, 503, b)
            self.assertIn("deadline", b.body)
            self.assertLess(b.seconds, 2 + sh.SLACK)
        finally:
            t.join(30 * sh.SLACK)
        self.assertEqual(first["a"].status, 200)

    def test_a_closed_connection_ends_its_wait(self):
        ex = self.exporter()
        first = {}
        t = threading.Thread(target=lambda: first.update(a=ex.probe(
            self.hang.url, module="writer", timeout=60 * sh.SLACK,
            headers={"X-Prometheus-Scrape-Timeout-Seconds": "6"})))
        t.start()
        try:
            self.wait_for("the first probe never started",
                          lambda: sh.value(ex.get("/metrics").body,
                                           "ocidoctor_exporter_probes_in_flight") == 1, 5)
            s = socket.create_connection(("127.0.0.1", ex.port))
            s.sendall(self.probe_request(ex, "writer", "5"))
            time.sleep(0.3)
            s.close()
            gone = time.monotonic()
            self.wait_for("a scrape whose client left kept waiting",
                          lambda: "gave up waiting: its client closed" in ex.stderr(), 1.5)
            self.assertLess(time.monotonic() - gone, 1.5 * sh.SLACK)
        finally:
            t.join(30 * sh.SLACK)
        self.assertEqual(first["a"].status, 200)

    # -- a scrape whose client leaves --

    def test_a_probe_whose_client_left_is_abandoned_and_another_goes_on(self):
        """--max-concurrent 2: a scrape (timeout 86399 s, capped at 120) of a
        registry that never answers, and a scrape of a slow registry (every
        answer 0.6 s late) on the same module, hence the same engine. The
        first scrape's client leaves after 0.5 s: within 1.5 s the exporter
        has closed its connection without an answer and ended its request to
        the registry, and its slot takes a third scrape; the slow probe goes
        on and succeeds."""
        hang = fs.FaultServer({("*", r"^/v2/"): fs.HANG}).start()
        self.addCleanup(hang.stop)
        slow = sr.ScriptedRegistry(referrers="index", delay_ms=600).start()
        self.addCleanup(slow.stop)
        ex = sh.Exporter("--max-concurrent", "2", config=CONFIG)
        ex.start()
        self.addCleanup(ex.stop)

        s = socket.create_connection(("127.0.0.1", ex.port))
        self.addCleanup(s.close)
        s.sendall(("GET /probe?target=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   "X-Prometheus-Scrape-Timeout-Seconds: 86399\r\n\r\n"
                   % (hang.url, ex.port)).encode())
        self.wait_for("the exporter never reached the registry",
                      lambda: hang.open_connections() == 1, 5)
        other = {}
        t = threading.Thread(target=lambda: other.update(a=ex.probe(
            slow.url, timeout=60 * sh.SLACK,
            headers={"X-Prometheus-Scrape-Timeout-Seconds": "60"})))
        t.start()
        self.addCleanup(t.join, 60 * sh.SLACK)
        self.wait_for("the second probe never started", lambda: self.in_flight(ex) == 2, 5)
        time.sleep(0.5)

        s.shutdown(socket.SHUT_WR)   # the client is done: it only reads what comes
        left = time.monotonic()
        s.settimeout(5 * sh.SLACK)
        try:
            answer = s.recv(4096)
        except socket.timeout:
            self.fail("the exporter kept the connection of a client that left")
        self.assertEqual(answer, b"", "the exporter answered a client that had left")
        self.wait_for("the exporter kept its request to the registry after the client left",
                      lambda: hang.open_connections() == 0, 1.5)
        self.assertLess(time.monotonic() - left, 1.5 * sh.SLACK)
        s.close()

        # the slot is free: a third scrape runs (1 s) instead of a 503
        self.assertTrue(t.is_alive(), "the slow probe ended too soon to show it went on")
        third = ex.probe(hang.url, timeout=10 * sh.SLACK,
                         headers={"X-Prometheus-Scrape-Timeout-Seconds": "1"})
        self.assertEqual(third.status, 200, third)
        self.assertEqual(sh.value(third.body, "ocidoctor_probe_success"), 0)

        t.join(60 * sh.SLACK)
        self.assertEqual(other["a"].status, 200, other["a"])
        self.assertEqual(sh.value(other["a"].body, "ocidoctor_probe_success"), 1,
                         other["a"].body)
        metrics = ex.get("/metrics").body
        self.assertEqual(sh.value(metrics, "ocidoctor_exporter_probes_abandoned_total",
                                  module="default"), 1, metrics)
        self.assertIn("was abandoned", ex.stderr())

    def test_an_abandoned_writing_probe_keeps_its_min_interval(self):
        """A writing module's probe abandoned by its client may have written:
        a scrape of the same registry within min_interval gets 429 with
        Retry-After (no result to serve), not a new probe."""
        hang = fs.FaultServer({("*", r"^/v2/"): fs.HANG}).start()
        self.addCleanup(hang.stop)
        ex = self.exporter()
        s = socket.create_connection(("127.0.0.1", ex.port))
        self.addCleanup(s.close)
        s.sendall(("GET /probe?target=%s&module=writer HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   "X-Prometheus-Scrape-Timeout-Seconds: 86399\r\n\r\n"
                   % (hang.url, ex.port)).encode())
        self.wait_for("the exporter never reached the registry",
                      lambda: hang.open_connections() == 1, 5)
        s.close()
        self.wait_for("the writing probe was not abandoned",
                      lambda: hang.open_connections() == 0 and self.in_flight(ex) == 0, 1.5)
        a = ex.probe(hang.url, module="writer", timeout=10 * sh.SLACK,
                     headers={"X-Prometheus-Scrape-Timeout-Seconds": "3"})
        self.assertEqual(a.status, 429, a)
        self.assertIn("abandoned", a.body)
        self.assertGreater(int(a.headers.get("Retry-After")), 500)
        self.assertLess(a.seconds, 1 * sh.SLACK)
        self.assertEqual(len(hang.requests()), 1)   # nothing sent again


if __name__ == "__main__":
    unittest.main()
