"""ocidoctor against servers that break HTTP, time, or the protocol's rules.

A doctor is pointed at registries that are broken; it must never be broken
by them. Each test injects one fault and asserts that the affected check
fails (or passes) with a message naming the cause, that the run ends with
an exit status and not a signal, within its deadline, and, where the fault
is a flood, in bounded memory:

  * GET /v2/ faults (faultserver.FaultServer): a connection reset in the
    middle of the body; a request accepted and never answered; a response
    dripped one byte a second (both with --timeout 3: the run must end
    within the deadline plus a margin); a body of 64 MiB announced by
    Content-Length, a chunked body without end and a gzip bomb (the 4 MiB
    body cap: peak RSS under 64 MiB); an invalid status line; a header block
    over the 100 KiB cap.
  * Redirects: a 302 to itself on the manifest (at most 5 hops, and the
    message says so); a 302 on /v2/ (never followed); a redirect of every
    manifest request to another host (127.0.0.2, another origin) is
    followed for a pull.
  * Rate limits (ScriptedRegistry override_first / status_override): 429 and
    503-with-Retry-After on the manifest HEAD are retried at most twice,
    after the Retry-After delay, never past the deadline, and never for a
    POST; the JSON report has a top-level rateLimit and the text report a
    "rate-limiting" note. A 503 without Retry-After is not a rate limit.
  * Authentication: a malformed WWW-Authenticate; a token realm that answers
    500, never answers, answers a body without a token, or resets; a token
    realm on another loopback host (normal, must work).
  * Digests: a Docker-Content-Digest that is not a digest (the manifest is
    fetched and hashed instead), or one that does not match the manifest's
    bytes (whether the registry knows nothing by that digest or serves the
    same bytes under it): pull must not hand the wrong digest on.
  * Memory: every answer but /v2/'s a body just under the 4 MiB cap (404s,
    or 200s): the peak RSS of a --writes verify run stays under a limit
    that keeping every body whole exceeds.

Peak memory is measured for exactly the ocidoctor process: it is reaped
with os.wait4, whose rusage is that child's own (no /usr/bin/time needed,
and no other child of this test process can inflate it).

Only the Python standard library is used.
"""

import json
import os
import re
import shlex
import signal
import subprocess
import tempfile
import time
import unittest

import faultserver as fs
import harness as h
import scripted_registry as sr

WRAPPER = shlex.split(os.environ.get("OCIDOCTOR_WRAPPER", ""))
# Slack for wall-time limits: process start, report, a loaded machine; far
# more under a wrapper such as valgrind.
MARGIN = 2.5 * (10 if WRAPPER else 1)
RSS_LIMIT_KIB = 64 * 1024
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
BASE = r"^/v2/?$"
MANIFEST = r"/v2/library/alpine/manifests/latest$"
ANY_MANIFEST = r"^/v2/library/alpine/manifests/[^/]+$"
CORE = ["--check", "*.registry", "--check", "*.credentials", "--check", "*.pull"]


def sanitized_binary(path):
    """Whether the binary is built with a sanitizer (its RSS is not comparable)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return False
    return b"__asan_init" in data or b"__msan_init" in data or b"__tsan_init" in data


def require_address(host):
    """Skips the calling test when this machine cannot listen on host
    (127.0.0.2 is on the loopback interface on Linux, not everywhere)."""
    import socket
    try:
        with socket.socket() as s:
            s.bind((host, 0))
    except OSError as err:
        raise unittest.SkipTest("cannot listen on %s: %s" % (host, err))


class Run:
    """One finished ocidoctor process: code, stdout, stderr, wall (seconds),
    maxrss_kib (its own peak resident set, None when unknown), report
    (parsed JSON or None)."""

    def __init__(self, code, stdout, stderr, wall, maxrss_kib):
        self.code, self.stdout, self.stderr = code, stdout, stderr
        self.wall, self.maxrss_kib = wall, maxrss_kib
        self.report = None


def _vm_hwm_kib(pid):
    """VmHWM of a running process (its peak RSS so far), or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def run_measured(args, stdin="", hard_limit=60):
    """Runs ocidoctor like harness.run_doctor (clean environment, empty
    HOME) and measures its wall time and peak RSS.

    The peak RSS is taken from /usr/bin/time (-f %M): the rusage of a child
    of this test process would not do, because a child started with
    fork/vfork and exec keeps the high-water mark of the Python process it
    came from (Linux carries it over exec). Without /usr/bin/time, the
    child's VmHWM is polled from /proc (a lower bound, close to the peak).
    The process is killed after hard_limit seconds; the test then fails on
    the wall time."""
    binary = h.doctor_binary()
    home = h.scratch_dir("home-")
    out_path, err_path = os.path.join(home, ".stdout"), os.path.join(home, ".stderr")
    rss_path = os.path.join(home, ".rss")
    timer = [TIME, "-f", "%M", "-o", rss_path] if TIME and not WRAPPER else []
    if WRAPPER:
        hard_limit *= 10
    polled = None
    with open(out_path, "wb") as out, open(err_path, "wb") as err, \
            tempfile.TemporaryFile() as inp:
        inp.write(stdin.encode())
        inp.seek(0)
        start = time.monotonic()
        # Its own process group, so that a kill reaches ocidoctor under time.
        proc = subprocess.Popen(timer + WRAPPER + [binary] + list(args), cwd=home, stdin=inp,
                                stdout=out, stderr=err, env=h.doctor_env(None, home),
                                start_new_session=True)
        try:
            while proc.poll() is None and time.monotonic() - start < hard_limit:
                if not timer:
                    polled = _vm_hwm_kib(proc.pid) or polled
                time.sleep(0.005)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        wall = time.monotonic() - start
    code = proc.returncode
    maxrss = polled
    if timer:
        with open(rss_path) as f:
            lines = f.read().split()
        # GNU time writes "Command terminated by signal N" (or "exited with
        # non-zero status N") before %M; it exits 128+N for a signal.
        text = " ".join(lines)
        m = re.search(r"terminated by signal (\d+)", text)
        if m:
            code = -int(m.group(1))
        maxrss = int(lines[-1]) if lines and lines[-1].isdigit() else None
    with open(out_path, encoding="utf-8", errors="replace") as f:
        stdout = f.read()
    with open(err_path, encoding="utf-8", errors="replace") as f:
        stderr = f.read()
    return Run(code, stdout, stderr, wall, maxrss)


class FaultTestCase(h.DoctorTestCase):
    """Starts servers per test and runs ocidoctor against them, measured."""

    def fault(self, routes=None, host="127.0.0.1"):
        h.doctor_binary()
        if host != "127.0.0.1":
            require_address(host)
        srv = fs.FaultServer(routes, host=host).start()
        self.addCleanup(srv.stop)
        return srv

    def scripted(self, **options):
        h.doctor_binary()
        reg = sr.ScriptedRegistry(**options).start()
        self.addCleanup(reg.stop)
        return reg

    def run_json(self, url, *extra, stdin=""):
        """`ocidoctor run --registry URL EXTRA... --format json`, measured."""
        run = run_measured(["run", "--registry", url] + list(extra) + ["--format", "json"],
                           stdin)
        self.assertNoSecrets(self.secrets(), run.stdout, run.stderr)
        self.assertGreaterEqual(run.code, 0, "ocidoctor died of signal %d\nstderr:\n%s"
                                % (-run.code, run.stderr[-2000:]))
        run.report = h.parse_report(run.stdout, run.code, run.stderr)
        return run

    def assertFailedWith(self, run, check, cause, pattern):
        """check failed with `cause` (details.cause, when the check sets
        one) and a message matching pattern; the run exits 2."""
        self.assertStatus(run.report, check, "fail", run.stderr)
        self.assertMessageMatches(run.report, check, pattern)
        details = h.result_of(run.report, check).get("details") or {}
        if cause is not None:
            self.assertEqual(details.get("cause"), cause, h.describe(run.report))
        self.assertExit(run.code, h.EXIT_FAIL, run.report, run.stderr)

    def assertWithin(self, run, seconds):
        self.assertLess(run.wall, seconds + MARGIN,
                        "the run took %.1fs, the limit was %.1fs + %.1fs"
                        % (run.wall, seconds, MARGIN))

    def assertBoundedMemory(self, run):
        if WRAPPER:
            return   # valgrind's RSS says nothing about ours
        # AddressSanitizer's shadow memory and quarantine add about 30 MiB.
        limit = RSS_LIMIT_KIB * (3 if sanitized_binary(h.doctor_binary()) else 1)
        self.assertIsNotNone(run.maxrss_kib, "the peak RSS could not be measured")
        self.assertGreater(run.maxrss_kib, 0)
        self.assertLess(run.maxrss_kib, limit,
                        "peak RSS %d KiB, limit %d KiB" % (run.maxrss_kib, limit))

    def assertUnreachableSkips(self, run):
        """Every check that needs the registry failed without a request of
        its own ("cannot check"), as it should after a registry failure (no
        second round of faults); the credentials check, with no credentials
        configured, has nothing to check and skips, as does the artifacts
        check without --writes verify."""
        for result in run.report["results"]:
            if result["checkId"] == h.CHECK_PREFIX + "registry":
                continue
            if result["checkId"] == h.CHECK_PREFIX + "artifacts":
                self.assertEqual(result["status"], "skip", h.describe(run.report))
                self.assertEqual(result["evidence"], [], h.describe(run.report))
                continue
            if result["checkId"] == h.CHECK_PREFIX + "credentials":
                self.assertEqual(result["status"], "skip", h.describe(run.report))
                continue
            self.assertEqual(result["status"], "fail", h.describe(run.report))
            self.assertIn("cannot check", result["message"], h.describe(run.report))
            self.assertEqual(result["evidence"], [], h.describe(run.report))


class BaseEndpointFaultTest(FaultTestCase):
    """Faults on GET /v2/: the registry check fails and names the cause."""

    def test_connection_reset_mid_body(self):
        srv = self.fault({("GET", BASE): fs.RESET})
        run = self.run_json(srv.url, "--timeout", "10")
        self.assertFailedWith(run, "registry", "protocol", r"reset")
        self.assertUnreachableSkips(run)
        self.assertWithin(run, 1)
        self.assertLessEqual(len(srv.requests("GET")), 3, "a reset is not retried for ever")

    def test_accepted_never_answered(self):
        srv = self.fault({("GET", BASE): fs.HANG})
        run = self.run_json(srv.url, "--timeout", "3")
        self.assertFailedWith(run, "registry", "timeout", r"timed out")
        self.assertUnreachableSkips(run)
        self.assertGreater(run.wall, 2.5, "the deadline is --timeout 3, not shorter")
        self.assertWithin(run, 3)

    def test_drip_one_byte_a_second(self):
        # Every byte comes well within any per-read timeout: only a deadline
        # for the whole transfer ends it.
        srv = self.fault({("GET", BASE): fs.DRIP})
        run = self.run_json(srv.url, "--timeout", "3")
        self.assertFailedWith(run, "registry", "timeout", r"timed out")
        self.assertWithin(run, 3)

    def test_body_announced_far_over_the_cap(self):
        srv = self.fault({("GET", BASE): fs.HUGE_LENGTH})
        run = self.run_json(srv.url, "--timeout", "10")
        self.assertFailedWith(run, "registry", "protocol", r"larger than|too large")
        self.assertMessageMatches(run.report, "registry", r"4194304|4 MiB")
        self.assertBoundedMemory(run)
        self.assertWithin(run, 1)
        self.assertLess(srv.streamed, fs.HUGE_SIZE // 2,
                        "ocidoctor read on although the body was announced too large")

    def test_chunked_body_without_end(self):
        srv = self.fault({("GET", BASE): fs.HUGE_CHUNKED})
        run = self.run_json(srv.url, "--timeout", "10")
        self.assertFailedWith(run, "registry", "protocol", r"larger than|too large")
        self.assertBoundedMemory(run)
        self.assertWithin(run, 2)
        self.assertGreater(srv.streamed, 4 * 1024 * 1024, "the cap, not the server, ended it")

    def test_gzip_bomb(self):
        # 64 KiB on the wire, 64 MiB once inflated: the cap counts inflated bytes.
        srv = self.fault({("GET", BASE): fs.GZIP_BOMB})
        run = self.run_json(srv.url, "--timeout", "10")
        self.assertFailedWith(run, "registry", "protocol", r"larger than|too large")
        self.assertBoundedMemory(run)
        self.assertWithin(run, 3)

    def test_invalid_status_line(self):
        srv = self.fault({("GET", BASE): fs.BAD_STATUS})
        run = self.run_json(srv.url, "--timeout", "10")
        self.assertFailedWith(run, "registry", "protocol", r"protocol")
        self.assertWithin(run, 2)

    def test_header_block_over_the_cap(self):
        srv = self.fault({("GET", BASE): fs.HUGE_HEADERS})
        run = self.run_json(srv.url, "--timeout", "10")
        self.assertFailedWith(run, "registry", "protocol", r"header")
        self.assertMessageMatches(run.report, "registry", r"larger than|too large")
        self.assertBoundedMemory(run)
        self.assertWithin(run, 2)

    def test_redirect_on_base_is_not_followed(self):
        # GET /v2/ is the registry's own answer; a redirect there is reported.
        srv = self.fault({("GET", BASE): fs.REDIRECT_LOOP})
        run = self.run_json(srv.url, "--timeout", "10")
        self.assertFailedWith(run, "registry", None, r"\b302\b")
        self.assertEqual(len(srv.requests("GET", "/v2/")), 1)

    def test_malformed_www_authenticate(self):
        reg = self.scripted(status_override={("*", BASE): (
            401, {"WWW-Authenticate": 'Bearer realm="http://127.0.0.1:1/token,service='},
            sr.error_body("UNAUTHORIZED", "authentication required"))})
        run = self.run_json(reg.url, "--timeout", "10")
        self.assertFailedWith(run, "registry", None, r"malformed")
        self.assertMessageMatches(run.report, "registry", r"WWW-Authenticate")
        self.assertUnreachableSkips(run)


class HostileAnswersMemoryTest(FaultTestCase):
    """A server that answers every request with a body just under the 4 MiB
    cap: only the bodies a check reads whole (a 2xx answer to a GET) are
    kept whole; of every other answer the first 64 KiB are kept and the
    rest is dropped as it arrives, and freed bodies go back to the system.
    A run with --writes verify (its most requests) stays far under what it
    took when every body was kept (about 62-92 MiB here)."""

    SIZE = 4 * 1024 * 1024 - 1024

    def hostile_run(self, status):
        body = b"x" * self.SIZE
        srv = self.fault({("GET", BASE): fs.OPEN_BASE, ("HEAD", BASE): fs.OPEN_BASE,
                          ("*", r"."): fs.respond(status, [("Content-Type", "application/json")],
                                                  body)})
        run = self.run_json(srv.url, "--writes", "verify", "--timeout", "30")
        self.assertGreater(len(srv.requests()), 8, "the run stopped before the hostile answers")
        return run

    def assertPeakUnder(self, run, limit_kib):
        # valgrind's RSS says nothing about ours, and AddressSanitizer's
        # quarantine keeps every freed block (up to 256 MiB) resident
        if WRAPPER or sanitized_binary(h.doctor_binary()):
            return
        self.assertIsNotNone(run.maxrss_kib, "the peak RSS could not be measured")
        self.assertLess(run.maxrss_kib, limit_kib,
                        "peak RSS %d KiB, limit %d KiB" % (run.maxrss_kib, limit_kib))

    def test_error_answers_of_4_mib(self):
        run = self.hostile_run(404)
        self.assertStatus(run.report, "pull", "warn", run.stderr)
        self.assertPeakUnder(run, 32 * 1024)

    def test_every_answer_200_with_4_mib(self):
        run = self.hostile_run(200)
        self.assertStatus(run.report, "pull", "fail", run.stderr)
        self.assertPeakUnder(run, 48 * 1024)


class RedirectTest(FaultTestCase):

    def test_redirect_loop_is_cut_after_five_hops(self):
        srv = self.fault({("HEAD", MANIFEST): fs.REDIRECT_LOOP,
                          ("GET", MANIFEST): fs.REDIRECT_LOOP})
        run = self.run_json(srv.url, "--timeout", "10", *CORE)
        heads = srv.requests("HEAD", "/manifests/latest")
        self.assertGreaterEqual(len(heads), 2, "the redirect was not followed at all")
        self.assertLessEqual(len(heads), 6, "more than 1 request + 5 redirects")
        self.assertWithin(run, 2)
        self.assertStatus(run.report, "pull", "fail", run.stderr)
        self.assertExit(run.code, h.EXIT_FAIL, run.report, run.stderr)
        # The message must say why: a redirect loop, not just "answered 302".
        self.assertMessageMatches(run.report, "pull", r"redirect")

    def test_redirect_to_another_host_is_followed(self):
        config, layer, manifest = h.build_test_image()
        digest = h.sha256_digest(manifest)
        # Every manifest request (by tag, or by digest to verify it) moves to
        # the other host, which serves the image's manifest.
        other = self.fault({("*", ANY_MANIFEST): fs.respond(
            200, {"Content-Type": h.OCI_MANIFEST, "Docker-Content-Digest": digest}, manifest)},
            host="127.0.0.2")
        srv = self.fault({("*", ANY_MANIFEST): fs.redirect_to(other.url)})
        run = self.run_json(srv.url, "--timeout", "10", *CORE)
        self.assertStatus(run.report, "pull", "pass", run.stderr)
        self.assertEqual(h.result_of(run.report, "pull")["details"].get("digest"), digest)
        self.assertTrue(other.requests("HEAD", "/manifests/latest"),
                        "the other host never saw the redirected HEAD")
        urls = [e["url"] for e in h.result_of(run.report, "pull")["evidence"]]
        self.assertTrue(any(u.startswith(other.url) for u in urls),
                        "the evidence does not show the redirect hop: %s" % urls)
        self.assertExit(run.code, h.EXIT_OK, run.report, run.stderr)


class RateLimitTest(FaultTestCase):
    """429 and 503 + Retry-After: bounded retries of idempotent requests."""

    LIMIT_HEADERS = {"RateLimit-Limit": "100;w=21600", "RateLimit-Remaining": "0",
                     "Docker-RateLimit-Source": "127.0.0.1"}

    def limited(self, status, retry_after, times=None, method="HEAD", path=MANIFEST):
        headers = dict(self.LIMIT_HEADERS)
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        answer = (status, headers, sr.error_body("TOOMANYREQUESTS", "slow down"))
        if times is None:
            return self.scripted(status_override={(method, path): answer})
        return self.scripted(override_first={(method, path): (times, answer)})

    def heads(self, reg):
        return reg.requests("HEAD", "/manifests/latest")

    def assertRateLimit(self, report, status, retry_after):
        rate = report.get("rateLimit")
        self.assertIsInstance(rate, dict, "no top-level rateLimit in the JSON report")
        self.assertEqual(rate.get("status"), status)
        self.assertRegex(rate.get("url", ""), r"/manifests/latest$")
        headers = {k.lower(): v for k, v in rate.get("headers", {}).items()}
        self.assertEqual(headers.get("retry-after"), retry_after)
        self.assertEqual(headers.get("ratelimit-remaining"), "0")
        self.assertEqual(headers.get("docker-ratelimit-source"), "127.0.0.1")
        self.assertNotIn("content-type", headers, "only rate-limit headers are kept")

    def test_429_twice_then_success(self):
        reg = self.limited(429, "0", times=2)
        run = self.run_json(reg.url, "--timeout", "10", *CORE)
        self.assertStatus(run.report, "pull", "pass", run.stderr)
        self.assertEqual([r["status"] for r in self.heads(reg)], [429, 429, 200])
        self.assertRateLimit(run.report, 429, "0")
        self.assertExit(run.code, h.EXIT_OK, run.report, run.stderr)
        # The text report says so too, with the headers (a fresh registry:
        # this one has given its two 429s).
        reg = self.limited(429, "0", times=2)
        code, out, err = self.doctor(["run", "--registry", reg.url, "--no-color"] + CORE)
        self.assertEqual(code, h.EXIT_OK, err)
        self.assertRegex(out, r"rate-limiting \(429 on http://[^)]*/manifests/latest\)")
        self.assertIn("Retry-After: 0", out)

    def test_429_for_ever_is_retried_twice_after_retry_after(self):
        reg = self.limited(429, "1")
        run = self.run_json(reg.url, "--timeout", "15", *CORE)
        heads = self.heads(reg)
        self.assertEqual([r["status"] for r in heads], [429, 429, 429],
                         "one request and two retries")
        self.assertGreaterEqual(run.wall, 1.9, "Retry-After: 1 was not waited twice")
        self.assertWithin(run, 2)
        self.assertFailedWith(run, "pull", None, r"429|rate")
        self.assertRateLimit(run.report, 429, "1")

    def test_429_on_the_base_endpoint(self):
        reg = self.limited(429, "0", method="GET", path=BASE)
        run = self.run_json(reg.url, "--timeout", "10", *CORE)
        self.assertEqual([r["status"] for r in reg.requests("GET", "/v2/")], [429, 429, 429],
                         "GET /v2/ is idempotent: one request and two retries")
        self.assertFailedWith(run, "registry", None, r"429|rate")
        self.assertEqual((run.report.get("rateLimit") or {}).get("status"), 429)

    def test_503_with_retry_after_is_retried(self):
        reg = self.limited(503, "0", times=1)
        run = self.run_json(reg.url, "--timeout", "10", *CORE)
        self.assertEqual([r["status"] for r in self.heads(reg)], [503, 200])
        self.assertStatus(run.report, "pull", "pass", run.stderr)
        self.assertRateLimit(run.report, 503, "0")

    def test_503_without_retry_after_is_not_a_rate_limit(self):
        reg = self.limited(503, None, times=1)
        run = self.run_json(reg.url, "--timeout", "10", *CORE)
        self.assertEqual([r["status"] for r in self.heads(reg)], [503])
        self.assertFailedWith(run, "pull", None, r"503")
        self.assertNotIn("rateLimit", run.report)
        code, out, err = self.doctor(["run", "--registry", reg.url, "--no-color"] + CORE)
        self.assertNotIn("rate-limiting", out)

    def test_retry_after_past_the_deadline_is_not_waited(self):
        # 4 s is within the 5 s a retry may wait, but not within --timeout 3.
        reg = self.limited(429, "4")
        run = self.run_json(reg.url, "--timeout", "3", *CORE)
        self.assertEqual([r["status"] for r in self.heads(reg)], [429])
        self.assertWithin(run, 1)
        self.assertFailedWith(run, "pull", None, r"429|rate")
        self.assertRateLimit(run.report, 429, "4")

    def test_post_is_never_retried(self):
        reg = self.limited(429, "0", method="POST", path=r"/library/alpine/blobs/uploads/$")
        run = self.run_json(reg.url, "--timeout", "10", "--check", "*.push")
        posts = reg.requests("POST", "/library/alpine/blobs/uploads")
        self.assertEqual([r["status"] for r in posts], [429], "a POST was sent again")
        self.assertFailedWith(run, "push", None, r"429|rate")
        rate = run.report.get("rateLimit") or {}
        self.assertEqual(rate.get("status"), 429, "the 429 is still reported")


class TokenRealmFaultTest(FaultTestCase):
    """Token realms that fail, hang, lie, or live elsewhere."""

    USER, PASSWORD = "realmuser", "realm-pw-" + os.urandom(6).hex()

    def secrets(self):
        return [self.PASSWORD, h.basic_auth_value(self.USER, self.PASSWORD)]

    def with_realm(self, behaviour, timeout="10"):
        realm = self.fault({("*", r"^/token"): behaviour})
        reg = self.scripted(auth="token", token_realm=realm.url + "/token",
                            token_service="scripted")
        run = self.run_json(reg.url, "--timeout", timeout, "--username", self.USER,
                            "--password-stdin", *CORE, stdin=self.PASSWORD + "\n")
        self.assertTrue(realm.requests(method=None, path_contains="/token"),
                        "the token realm was never asked")
        self.assertStatus(run.report, "registry", "pass", run.stderr)
        return run

    def test_realm_answers_500(self):
        run = self.with_realm(fs.respond(500, {"Content-Type": "text/plain"}, "boom\n"))
        self.assertFailedWith(run, "credentials", None, r"\b500\b")
        self.assertStatus(run.report, "pull", "fail", run.stderr)

    def test_realm_never_answers(self):
        run = self.with_realm(fs.HANG, timeout="3")
        self.assertFailedWith(run, "credentials", None, r"timed out")
        self.assertStatus(run.report, "pull", "fail", run.stderr)
        self.assertWithin(run, 3)

    def test_realm_answers_a_malformed_body(self):
        run = self.with_realm(fs.respond(200, {"Content-Type": "application/json"},
                                         '{"token": [not json'))
        self.assertFailedWith(run, "credentials", None, r"usable token|malformed|not JSON")

    def test_realm_resets(self):
        run = self.with_realm(fs.RESET)
        self.assertFailedWith(run, "credentials", None, r"reset")

    def test_realm_on_another_host_works(self):
        require_address(OtherHostTokenServer.HOST)
        tokens = OtherHostTokenServer(users={self.USER: self.PASSWORD}).start()
        self.addCleanup(tokens.stop)
        reg = self.scripted(auth="token", token_realm=tokens.realm,
                            token_service=tokens.service)
        run = self.run_json(reg.url, "--timeout", "10", "--username", self.USER,
                            "--password-stdin", *CORE, "--check", "*.push",
                            stdin=self.PASSWORD + "\n")
        for check in ("registry", "credentials", "pull", "push"):
            self.assertStatus(run.report, check, "pass", run.stderr)
        self.assertExit(run.code, h.EXIT_OK, run.report, run.stderr)
        self.assertTrue(any(r["user"] == self.USER for r in tokens.requests),
                        "the realm on 127.0.0.2 issued no token to the user")
        self.assertNoSecrets(tokens.issued_tokens, run.stdout, run.stderr)


class OtherHostTokenServer(h.TokenServer):
    """harness.TokenServer listening on 127.0.0.2: a realm on another host."""

    HOST = "127.0.0.2"

    def start(self):
        import base64
        import http.server
        import ssl
        import threading
        self.tmpdir = h.scratch_dir("token-")
        self.cert_file, self.key_file = h.make_rsa_signing_cert(self.tmpdir)
        with open(self.cert_file) as f:
            der = ssl.PEM_cert_to_DER_cert(f.read())
        self._x5c = base64.b64encode(der).decode("ascii")
        self._httpd = http.server.ThreadingHTTPServer((self.HOST, 0), self._handler_class())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        name="token-server-other-host", daemon=True)
        self._thread.start()
        h._track(self)
        return self

    @property
    def url(self):
        return "http://%s:%d" % (self.HOST, self.port)


class DigestFaultTest(FaultTestCase):
    """A Docker-Content-Digest that is not a digest, or not this manifest's."""

    def manifest_with_digest(self, header, also_at=None):
        """A registry whose manifest (by tag, and by the path also_at when
        given) is the test image's, with Docker-Content-Digest: header."""
        config, layer, manifest = h.build_test_image()
        answer = (200, {"Content-Type": h.OCI_MANIFEST, "Docker-Content-Digest": header},
                  manifest)
        overrides = {("*", MANIFEST): answer}
        if also_at:
            overrides[("*", also_at)] = answer
        reg = self.scripted(status_override=overrides)
        return reg, h.sha256_digest(manifest)

    def test_invalid_digest_header_falls_back_to_hashing(self):
        reg, real = self.manifest_with_digest("sha256:NOT-A-DIGEST")
        run = self.run_json(reg.url, "--timeout", "10", *CORE)
        self.assertStatus(run.report, "pull", "pass", run.stderr)
        details = h.result_of(run.report, "pull")["details"]
        self.assertEqual(details.get("digestHeader"), "invalid")
        self.assertEqual(details.get("digest"), real, "the digest of the manifest's bytes")
        self.assertTrue(reg.requests("GET", "/manifests/latest"), "the manifest was not fetched")
        self.assertNotIn("NOT-A-DIGEST", h.result_of(run.report, "pull")["message"])

    def test_digest_header_that_does_not_match_the_manifest(self):
        # The header is well-formed but names other bytes. Reporting it as the
        # image's digest would send every later check (referrers, the
        # fallback tag) after the wrong manifest: the doctor must either use
        # the digest of the bytes or say the header is wrong.
        claimed = h.sha256_digest(b"some other manifest")
        # The registry either knows nothing by that digest, or serves the
        # same bytes under it (it lies consistently).
        for case, also_at in (("unknown-by-digest", None),
                              ("served-by-digest", "/manifests/" + claimed + "$")):
            with self.subTest(case=case):
                reg, real = self.manifest_with_digest(claimed, also_at)
                run = self.run_json(reg.url, "--timeout", "10", *CORE)
                pull = h.result_of(run.report, "pull")
                if pull["status"] == "pass":
                    self.assertEqual(pull["details"].get("digest"), real,
                                     "pull passes with digest %s for a manifest whose bytes "
                                     "hash to %s: %s"
                                     % (pull["details"].get("digest"), real, pull["message"]))
                    continue
                self.assertIn(pull["status"], ("warn", "fail"), h.describe(run.report))
                self.assertTrue(claimed in pull["message"] or
                                re.search(r"match|differ|hash", pull["message"], re.I),
                                "the message does not say which digest is wrong: %s"
                                % pull["message"])
                self.assertNotEqual(pull["details"].get("digest"), claimed,
                                    "the wrong digest is still handed on as the image's")


class FaultServerSelfTest(unittest.TestCase):
    """The fault server itself (no binary needed)."""

    def start(self, routes=None, host="127.0.0.1"):
        srv = fs.FaultServer(routes, host=host).start()
        self.addCleanup(srv.stop)
        return srv

    def test_defaults_and_recording(self):
        import http.client
        srv = self.start()
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        self.addCleanup(conn.close)
        conn.request("GET", "/v2/", headers={"Authorization": "Basic c2VjcmV0"})
        resp = conn.getresponse()
        self.assertEqual((resp.status, resp.read()), (200, b"{}"))
        conn.request("GET", "/v2/x/manifests/y")      # the same connection
        resp = conn.getresponse()
        self.assertEqual(resp.status, 404)
        resp.read()
        log = srv.requests()
        self.assertEqual([(r["method"], r["path"], r["authorization"], r["auth_scheme"])
                          for r in log],
                         [("GET", "/v2/", True, "Basic"), ("GET", "/v2/x/manifests/y", False, None)])
        self.assertNotIn("c2VjcmV0", json.dumps(log), "the credential value is not kept")

    def test_reset_is_a_reset(self):
        # A reset, not an orderly end of stream (recv returning b"").
        import socket
        srv = self.start({("GET", BASE): fs.RESET})
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
            s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
            with self.assertRaises(ConnectionResetError):
                while s.recv(65536):
                    pass

    def test_other_host(self):
        import socket
        srv = self.start(host="127.0.0.2")
        self.assertTrue(srv.url.startswith("http://127.0.0.2:"))
        with socket.create_connection(("127.0.0.2", srv.port), timeout=5) as s:
            s.sendall(b"HEAD /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 200"))

    def test_stop_wakes_hanging_handlers(self):
        import socket
        srv = fs.FaultServer({("GET", BASE): fs.HANG}).start()
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        self.addCleanup(s.close)
        s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
        deadline = time.monotonic() + 5
        while not srv.requests() and time.monotonic() < deadline:
            time.sleep(0.01)
        start = time.monotonic()
        srv.stop()
        self.assertEqual(s.recv(10), b"", "the hanging connection was closed")
        self.assertLess(time.monotonic() - start, 2)


if __name__ == "__main__":
    unittest.main()
