"""ocidoctor serve: the exporter's endpoints.

One exporter without a config and one with modules (credentials with an
allow-list, a writing module, a narrow check selection) probe a scriptable
OCI 1.1 registry, a fault server that hangs or challenges, and a port
nothing listens on. Every answer in Prometheus' formats goes through
`promtool check metrics`.
"""

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import unittest

import faultserver as fs
import harness as h
import scripted_registry as sr
import serve_harness as sh

SECRET = "s3rve-Pa55word-never-shown"
REGISTRY = h.CHECK_PREFIX + "registry"
PULL = h.CHECK_PREFIX + "pull"


def config(fault_host, extra=""):
    return """modules:
  default:
    writes: none
  creds_elsewhere:
    checks: ["*.registry", "*.credentials"]
    credentials:
      username: prober
      password_file: {pw}
    registries: ["registry.example.com", "127.0.0.2:*"]
  creds_here:
    checks: ["*.registry", "*.credentials"]
    credentials:
      username: prober
      password_file: {pw}
    registries: ["{fault}"]
  writer:
    writes: probe
    min_interval: 600
  creds_docker:
    checks: ["*.registry", "*.credentials"]
    credentials:
      docker_config: {docker}
    registries: ["{fault}"]
  creds_helper:
    checks: ["*.registry", "*.credentials"]
    credentials:
      docker_config: {helper}
    registries: ["{fault}"]
  quick:
    checks: ["*.registry"]
    timeout: 1
  slow:
    checks: ["*.registry"]
    timeout: 5
{extra}""".format(pw="{pw}", docker="{docker}", helper="{helper}", fault=fault_host,
                   extra=extra)


class ServeTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.good = cls.start_server(sr.ScriptedRegistry(referrers="index"))
        cls.hang = cls.start_server(fs.FaultServer({("*", r"^/v2/"): fs.HANG}))
        cls.challenge = cls.start_server(fs.FaultServer({("*", r"^/"): fs.CHALLENGE}))
        cls.down = "http://127.0.0.1:%d" % h.free_port()
        cls.dir = h.scratch_dir("serve-test-")
        cls.pw = os.path.join(cls.dir, "password")
        with open(cls.pw, "w") as f:
            f.write(SECRET + "\n")
        h.add_secret(SECRET)
        h.add_user_secrets("prober", SECRET)
        cls.docker = h.write_docker_config(os.path.join(cls.dir, "docker"), {"auths": {
            cls.challenge.host: {"auth": h.basic_auth_value("prober", SECRET)}}})
        cls.helper = h.write_docker_config(os.path.join(cls.dir, "helper"),
                                           {"credsStore": "nosuch"})
        cls.config_text = (config(cls.challenge.host).replace("{pw}", cls.pw)
                           .replace("{docker}", cls.docker).replace("{helper}", cls.helper))
        cls.plain = cls.start_server(sh.Exporter())
        cls.moduled = cls.start_server(sh.Exporter("--max-concurrent", "1",
                                                   config=cls.config_text))

    def secrets(self):
        return (SECRET, h.basic_auth_value("prober", SECRET))

    def assertPromtool(self, text):
        ok, out = sh.promtool_check_metrics(text)
        self.assertTrue(ok, "promtool check metrics: %s\n%s" % (out, text[:3000]))

    def assertNoSecret(self, *texts):
        self.assertNoSecrets(self.secrets(), *texts)

    # -- requests refused --

    def test_missing_target_is_400(self):
        a = self.plain.get("/probe")
        self.assertEqual(a.status, 400, a)
        self.assertIn("target", a.body)

    def test_unknown_module_is_400_and_counted(self):
        before = sh.value(self.plain.get("/metrics").body,
                          "ocidoctor_exporter_unknown_module_requests_total") or 0
        a = self.plain.probe(self.good.url, module="nosuch")
        self.assertEqual(a.status, 400, a)
        self.assertIn("nosuch", a.body)
        after = sh.value(self.plain.get("/metrics").body,
                         "ocidoctor_exporter_unknown_module_requests_total")
        self.assertEqual(after, before + 1)

    def test_invalid_target_and_repository_are_400(self):
        for target in ("ftp://127.0.0.1:1", "http://user:pw@127.0.0.1:5000", "http://a b"):
            with self.subTest(target=target):
                self.assertEqual(self.plain.probe(target).status, 400)
        self.assertEqual(self.plain.probe(self.good.url, repository="Bad..Name").status, 400)
        self.assertEqual(self.plain.probe(self.good.url, tag="bad tag!").status, 400)
        self.assertEqual(self.plain.probe(self.good.url, format="xml").status, 400)

    def test_a_password_in_a_target_is_never_repeated(self):
        for params in ({"target": "http://alice:s3cret@127.0.0.1:5000"},
                       {"target": "http://alice:s3cret/x@127.0.0.1:5000"},
                       {"target": "alice:s3cret@127.0.0.1:5000/team/app"},
                       {"target": self.good.url, "repository": "alice:s3cret@host/app"},
                       {"target": self.good.url, "tag": "alice:s3cret@host"}):
            with self.subTest(params=params):
                a = self.plain.probe(**params)
                self.assertEqual(a.status, 400, a)
                self.assertNotIn("s3cret", a.body)
                self.assertIn("<redacted>@", a.body)
        self.assertNotIn("s3cret", self.plain.stderr())

    def test_allow_target_restricts_every_module(self):
        with sh.Exporter("--allow-target", "127.0.0.2:*") as ex:
            a = ex.probe(self.good.url)
            self.assertEqual(a.status, 400, a)
            self.assertIn("allow-target", a.body)
            self.assertEqual(self.good_requests_during(lambda: ex.probe(self.good.url)), 0)
        with sh.Exporter("--allow-target", "127.0.0.1:*") as ex:
            self.assertEqual(ex.probe(self.good.url).status, 200)

    def good_requests_during(self, fn):
        before = len(self.good.requests())
        fn()
        return len(self.good.requests()) - before

    # -- probes --

    def test_probe_good_registry(self):
        a = self.plain.probe(self.good.url)
        self.assertEqual(a.status, 200, a)
        self.assertEqual(a.content_type, sh.PROM_TEXT)
        self.assertPromtool(a.body)
        self.assertEqual(sh.value(a.body, "ocidoctor_probe_success"), 1, a.body)
        self.assertEqual(sh.value(a.body, "ocidoctor_check_status", check=REGISTRY), 0)
        self.assertEqual(sh.value(a.body, "ocidoctor_check_status", check=PULL), 0)
        self.assertEqual(sh.value(a.body, "ocidoctor_capability_supported",
                                  capability="referrersApi"), 1)
        # writes: none leaves the write-probed capabilities out (no sample, not "unknown")
        caps = {dict(k[1])["capability"]: v for k, v in sh.samples(a.body).items()
                if k[0] == "ocidoctor_capability_supported"}
        self.assertIn("referrersApi", caps)
        self.assertNotIn("delete", caps)
        self.assertEqual(sh.value(a.body, "ocidoctor_capability_score"),
                         sum(1 for v in caps.values() if v == 1))
        self.assertEqual(sh.value(a.body, "ocidoctor_referrers_client_info",
                                  client="oras", list="api", attach="unknown"), 1)
        self.assertEqual(sh.value(a.body, "ocidoctor_build_info", version="0.1.0"), 1)
        self.assertEqual(sh.value(a.body, "ocidoctor_probe_timeout_seconds"), 120)
        self.assertNotIn("registry=", a.body, "Prometheus adds the target as instance")
        # writes: none is the default: nothing was uploaded
        self.assertEqual(self.good.requests(method="POST"), [])

    def test_threads_run_as_batch_work(self):
        """serve asks for SCHED_BATCH before its first thread, so every thread has it"""
        self.assertEqual(self.plain.probe(self.good.url).status, 200)
        policies = []
        for tid in os.listdir("/proc/%d/task" % self.plain.proc.pid):
            try:
                policies.append(os.sched_getscheduler(int(tid)))
            except ProcessLookupError:
                pass  # a connection's thread that ended meanwhile
        self.assertGreaterEqual(len(policies), 2, "the main thread and the listener at least")
        self.assertEqual(set(policies), {os.SCHED_BATCH})

    def test_probe_down_registry_is_200_with_success_0(self):
        a = self.plain.probe(self.down)
        self.assertEqual(a.status, 200, a)
        self.assertPromtool(a.body)
        self.assertEqual(sh.value(a.body, "ocidoctor_probe_success"), 0)
        self.assertEqual(sh.value(a.body, "ocidoctor_check_status", check=REGISTRY), 3)
        # a check that was asked for fails when there is no registry to talk to
        self.assertEqual(sh.value(a.body, "ocidoctor_check_status", check=PULL), 3)

    def test_openmetrics_when_accepted(self):
        accept = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                  "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
        a = self.plain.probe(self.good.url, headers={"Accept": accept})
        self.assertEqual(a.content_type, sh.OPENMETRICS)
        self.assertTrue(a.body.endswith("\n# EOF\n"), a.body[-200:])
        self.assertEqual(a.body.count("# EOF"), 1)
        self.assertEqual(sh.value(a.body.replace("# EOF\n", ""), "ocidoctor_probe_success"), 1)
        for refused in ("application/openmetrics-text;q=0,text/plain;version=0.0.4",
                        "text/plain", "*/*"):
            b = self.plain.probe(self.down, headers={"Accept": refused})
            self.assertEqual(b.content_type, sh.PROM_TEXT, refused)
            self.assertNotIn("# EOF", b.body)
        m = self.plain.get("/metrics", headers={"Accept": accept})
        self.assertEqual(m.content_type, sh.OPENMETRICS)
        self.assertTrue(m.body.endswith("# EOF\n"))
        self.assertIn("# TYPE ocidoctor_exporter_probes counter\n", m.body)
        self.assertRegex(m.body, r"\nocidoctor_exporter_probes_total\{module=\"default\",outcome=\"success\"\} \d+\n")

    def test_scrape_timeout_header_is_honoured(self):
        a = self.plain.probe(self.hang.url, headers={"X-Prometheus-Scrape-Timeout-Seconds": "2"},
                             timeout=30)
        self.assertEqual(a.status, 200, a)
        self.assertEqual(sh.value(a.body, "ocidoctor_probe_success"), 0)
        self.assertEqual(sh.value(a.body, "ocidoctor_probe_timeout_seconds"), 1.5)
        self.assertGreater(a.seconds, 1.2, "the probe gave up before its deadline")
        self.assertLess(a.seconds, 2.0 + 0.5 * sh.SLACK, "the probe outlived the scrape timeout")
        # the module's timeout caps the header
        b = self.moduled.probe(self.hang.url, module="quick",
                               headers={"X-Prometheus-Scrape-Timeout-Seconds": "30"}, timeout=30)
        self.assertEqual(sh.value(b.body, "ocidoctor_probe_timeout_seconds"), 1)
        self.assertLess(b.seconds, 1.0 + sh.SLACK)

    def test_over_the_concurrency_limit_is_503(self):
        first = {}

        def slow():
            first["a"] = self.moduled.probe(self.hang.url, module="slow", timeout=60)

        t = threading.Thread(target=slow)
        t.start()
        deadline = time.monotonic() + 5 * sh.SLACK
        while True:
            m = self.moduled.get("/metrics").body
            if sh.value(m, "ocidoctor_exporter_probes_in_flight") == 1:
                break
            self.assertLess(time.monotonic(), deadline, "the first probe never started")
            time.sleep(0.02)
        before = sh.value(m, "ocidoctor_exporter_probes_rejected_total")
        second = self.moduled.probe(self.good.url, module="quick")
        t.join()
        self.assertEqual(second.status, 503, second)
        self.assertEqual(first["a"].status, 200)
        after = sh.value(self.moduled.get("/metrics").body,
                         "ocidoctor_exporter_probes_rejected_total")
        self.assertEqual(after, before + 1)
        # with the slot free again, the same probe runs
        self.assertEqual(self.moduled.probe(self.good.url, module="quick").status, 200)

    def test_formats_json_and_html(self):
        a = self.plain.probe(self.good.url, format="json")
        self.assertEqual(a.status, 200)
        self.assertEqual(a.content_type, "application/json")
        report = json.loads(a.body)
        self.assertEqual(h.result_of(report, "pull")["status"], "pass")
        b = self.plain.probe(self.good.url, format="html")
        self.assertEqual(b.content_type, "text/html; charset=utf-8")
        self.assertIn("<html", b.body)

    # -- credentials --

    def test_credentials_only_go_to_allowed_registries(self):
        start = len(self.challenge.requests())
        a = self.moduled.probe(self.challenge.url, module="creds_elsewhere", debug="true")
        self.assertEqual(a.status, 200)
        seen = self.challenge.requests()[start:]
        self.assertTrue(seen, "the probe made no request")
        self.assertEqual([r for r in seen if r["authorization"]], [],
                         "credentials went to a target outside the module's registries")
        self.assertIn("Credentials withheld", a.body)
        # the control: the same credentials go to a listed registry
        start = len(self.challenge.requests())
        self.moduled.probe(self.challenge.url, module="creds_here")
        seen = self.challenge.requests()[start:]
        self.assertTrue([r for r in seen if r["auth_scheme"] == "Basic"],
                        "a listed registry got no credentials: %s" % seen)

    def test_docker_config_credentials(self):
        start = len(self.challenge.requests())
        a = self.moduled.probe(self.challenge.url, module="creds_docker", format="json")
        self.assertEqual(a.status, 200, a)
        seen = self.challenge.requests()[start:]
        self.assertTrue([r for r in seen if r["auth_scheme"] == "Basic"],
                        "the docker config's credential was not used: %s" % seen)
        report = json.loads(a.body)
        self.assertIn(os.path.join(self.docker, "config.json"),
                      json.dumps(h.result_of(report, "credentials")))
        self.assertNoSecret(a.body)

    def test_credential_helpers_are_a_probe_error(self):
        before = sh.value(self.moduled.get("/metrics").body,
                          "ocidoctor_exporter_probe_errors_total", module="creds_helper") or 0
        start = len(self.challenge.requests())
        a = self.moduled.probe(self.challenge.url, module="creds_helper", debug="true")
        self.assertEqual(a.status, 200, a)
        self.assertIn("credential helper nosuch", a.body)
        self.assertEqual(self.challenge.requests()[start:], [], "a probe without its credentials ran")
        metrics = a.body.split("\nMetrics:\n", 1)[1].split("\nModule:\n", 1)[0]
        self.assertEqual(sh.value(metrics, "ocidoctor_probe_success"), 0)
        self.assertPromtool(metrics)
        after = sh.value(self.moduled.get("/metrics").body,
                         "ocidoctor_exporter_probe_errors_total", module="creds_helper")
        self.assertEqual(after, before + 1)

    def test_debug_shows_log_metrics_and_module_but_no_secret(self):
        a = self.moduled.probe(self.challenge.url, module="creds_here", debug="true")
        self.assertEqual(a.status, 200)
        self.assertEqual(a.content_type, "text/plain; charset=utf-8")
        self.assertNoSecret(a.body, self.moduled.stderr(), self.moduled.get("/metrics").body,
                            self.moduled.probe(self.challenge.url, module="creds_here",
                                               format="json").body)
        self.assertIn("\nLog:\n", a.body)
        self.assertRegex(a.body, r"GET http://127\.0\.0\.1:\d+/v2/ -> 401")
        self.assertIn("username prober, password from " + self.pw, a.body)
        metrics = a.body.split("\nMetrics:\n", 1)[1].split("\nModule:\n", 1)[0]
        self.assertPromtool(metrics)
        # the fault server refuses every credential: the credentials check fails
        self.assertEqual(sh.value(metrics, "ocidoctor_check_status",
                                  check=h.CHECK_PREFIX + "credentials"), 3, metrics)

    def test_debug_log_takes_secrets_out_of_urls(self):
        leak = "realm-Secret-4711"
        realm_server = fs.FaultServer()
        realm_server.start()
        try:
            realm = "%s/token?access_token=%s&team=a" % (realm_server.url, leak)
            bearer = fs.FaultServer({("*", r"^/v2/"): fs.respond(
                401, [("WWW-Authenticate", 'Bearer realm="%s",service="reg"' % realm),
                      ("Content-Type", "application/json")], b"{}")})
            bearer.start()
            try:
                a = self.plain.probe(bearer.url, debug="true")
            finally:
                bearer.stop()
            self.assertTrue(realm_server.requests(path_contains="/token"),
                            "no token request was made, so nothing was redacted")
        finally:
            realm_server.stop()
        self.assertEqual(a.status, 200)
        self.assertNotIn(leak, a.body)
        # the token service is another origin: its query goes, in messages and evidence alike
        self.assertIn("/token?<redacted>", a.body)
        self.assertNotIn("team=a", a.body)

    # -- the writing module --

    def test_writing_module_is_served_from_its_cache(self):
        reg = sr.ScriptedRegistry(referrers="index")
        with reg:
            first = self.moduled.probe(reg.url, module="writer")
            self.assertEqual(first.status, 200)
            self.assertEqual(sh.value(first.body, "ocidoctor_probe_cached"), 0)
            self.assertTrue(reg.requests(method="POST"), "a writing module did not write")
            made = len(reg.requests())
            time.sleep(0.2)
            second = self.moduled.probe(reg.url, module="writer")
            self.assertEqual(len(reg.requests()), made, "a cached scrape reached the registry")
            self.assertEqual(sh.value(second.body, "ocidoctor_probe_cached"), 1)
            self.assertGreater(sh.value(second.body, "ocidoctor_probe_cache_age_seconds"), 0.1)
            self.assertEqual(sh.value(second.body, "ocidoctor_check_status", check=PULL),
                             sh.value(first.body, "ocidoctor_check_status", check=PULL))
            self.assertPromtool(second.body)
            m = self.moduled.get("/metrics").body
            self.assertGreaterEqual(sh.value(m, "ocidoctor_exporter_cache_hits_total",
                                             module="writer"), 1)

    def test_a_writing_modules_cache_is_per_registry_and_survives_a_reload(self):
        text = "modules:\n  writer:\n    writes: probe\n    min_interval: 600\n"
        reg = sr.ScriptedRegistry(referrers="index")
        with reg, sh.Exporter("--web.enable-lifecycle", config=text) as ex:
            first = ex.probe(reg.url, module="writer")
            self.assertEqual(sh.value(first.body, "ocidoctor_probe_cached"), 0, first)
            made = len(reg.requests())
            hostport = reg.url.split("://", 1)[1]
            for target, extra in ((reg.url + "/", {}), (reg.url.upper(), {}),
                                  (hostport, {}), (reg.url, {"tag": "latest"}),
                                  (reg.url, {"repository": "library/alpine"})):
                with self.subTest(target=target, extra=extra):
                    a = ex.probe(target, module="writer", **extra)
                    self.assertEqual(a.status, 200, a)
                    self.assertEqual(sh.value(a.body, "ocidoctor_probe_cached"), 1, a.body)
            self.assertEqual(len(reg.requests()), made, "another spelling reached the registry")
            # another image on the same registry: no write before min_interval is over
            b = ex.probe(reg.url, module="writer", tag="other")
            self.assertEqual(b.status, 429, b)
            self.assertGreater(int(b.headers["Retry-After"]), 590)
            self.assertEqual(len(reg.requests()), made)
            # a reload keeps the cache
            self.assertEqual(ex.post("/-/reload").status, 200)
            c = ex.probe(reg.url, module="writer")
            self.assertEqual(sh.value(c.body, "ocidoctor_probe_cached"), 1, c.body)
            self.assertEqual(len(reg.requests()), made, "the reload emptied the cache")

    def test_a_writing_module_needs_a_minimum_interval_and_a_scrape_never_writes_by_default(self):
        # writes: none (the default) with min_interval is refused; writes: probe gets 600 s
        code, out, err = h.run_doctor(["serve", "--config", self.write("bad.yaml",
            "modules:\n  m:\n    min_interval: 5\n")])
        self.assertEqual(code, h.EXIT_USAGE, err)
        self.assertIn("min_interval", err)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # -- the exporter itself --

    def test_own_metrics_pass_promtool(self):
        self.plain.probe(self.good.url)
        a = self.plain.get("/metrics")
        self.assertEqual(a.status, 200)
        self.assertEqual(a.content_type, sh.PROM_TEXT)
        self.assertPromtool(a.body)
        self.assertGreaterEqual(sh.value(a.body, "ocidoctor_exporter_probes_total",
                                         module="default", outcome="success"), 1)
        self.assertEqual(sh.value(a.body, "ocidoctor_exporter_config_last_reload_successful"), 1)
        self.assertNotIn("ocidoctor_probe_success", a.body)

    def test_run_format_prometheus_passes_promtool(self):
        code, out, err = h.run_doctor(["run", "--registry", self.good.url, "--format", "prometheus"])
        self.assertPromtool(out)
        self.assertIn('registry="%s"' % self.good.url, out)

    def test_healthy(self):
        a = self.plain.get("/-/healthy")
        self.assertEqual((a.status, a.body), (200, "Healthy\n"))

    def test_home_page_lists_recent_probes_with_reports(self):
        self.plain.probe(self.down)
        a = self.plain.get("/")
        self.assertEqual(a.content_type, "text/html; charset=utf-8")
        self.assertIn("0.1.0", a.body)
        self.assertIn("<li>default (writes none)</li>", a.body)
        self.assertIn(self.down, a.body)
        ids = re.findall(r'href="/report/(\d+)"', a.body)
        self.assertTrue(ids)
        r = self.plain.get("/report/" + ids[0])
        self.assertEqual(r.status, 200)
        self.assertIn("<html", r.body)
        self.assertEqual(self.plain.get("/report/999999").status, 404)

    def test_history_is_bounded(self):
        with sh.Exporter("--history-limit", "3") as ex:
            for _ in range(5):
                ex.probe(self.down)
            page = ex.get("/").body
            self.assertEqual(len(re.findall(r'href="/report/\d+"', page)), 3)

    def test_log_line_per_probe_in_json(self):
        with sh.Exporter("--log-format", "json") as ex:
            ex.probe(self.down)
            ex.probe(self.good.url)
            time.sleep(0.1)
            lines = [json.loads(l) for l in ex.stderr().splitlines()]
        probes = [l for l in lines if l["msg"] == "probe"]
        self.assertEqual([p["outcome"] for p in probes], ["failure", "success"])
        self.assertEqual(probes[0]["target"], self.down)
        self.assertEqual(probes[1]["module"], "default")

    # -- options --

    def test_help_and_usage_list_every_option(self):
        with open(os.path.join(h.REPO_ROOT, "src", "cli", "cmd_serve.c")) as f:
            names = re.findall(r'\.long_name = "([a-z.-]+)"', f.read())
        self.assertIn("allow-target", names)
        self.assertIn("web.enable-lifecycle", names)
        code, out, err = h.run_doctor(["serve", "--help"])
        self.assertEqual(code, h.EXIT_OK, err)
        with open(os.path.join(h.REPO_ROOT, "docs", "usage.md")) as f:
            usage = f.read().split("## EXPORTER", 1)[1].split("\n## ", 1)[0]
        for name in names:
            self.assertIn("--" + name, out)
            if name != "help":
                self.assertIn("`--" + name, usage, "docs/usage.md EXPORTER lacks --" + name)
        self.assertIn("default 127.0.0.1:10071", out)
        _, top, _ = h.run_doctor(["--help"])
        self.assertRegex(top, r"\n  serve ")

    def test_bad_options_are_usage_errors(self):
        for args, needle in ((["--log-format", "xml"], "--log-format"),
                             (["--listen", "localhost"], "ADDR:PORT"),
                             (["--listen", "example.com:80"], "IPv4"),
                             (["--max-concurrent", "5000"], "at most 1024"),
                             (["--max-concurrent", "0"], "positive whole number"),
                             (["--history-limit", "0"], "positive whole number"),
                             (["--timeout-offset", "soon"], "--timeout-offset"),
                             (["--config", "/nonexistent/serve.yaml"], "cannot read"),
                             (["extra"], "unexpected argument")):
            with self.subTest(args=args):
                code, out, err = h.run_doctor(["serve"] + args)
                self.assertEqual(code, h.EXIT_USAGE, err)
                self.assertIn(needle, err)

    def test_listens_on_ipv6_loopback(self):
        try:
            with socket.socket(socket.AF_INET6) as probe_sock:
                probe_sock.bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback here")
        port = h.free_port()
        proc = subprocess.Popen([h.doctor_binary(), "serve", "--listen", "[::1]:%d" % port],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=h.doctor_env(None, self.dir))
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    a = sh.http("GET", "http://[::1]:%d/-/healthy" % port, timeout=2)
                    break
                except OSError:
                    self.assertLess(time.monotonic(), deadline, "nothing listens on [::1]")
                    time.sleep(0.05)
            self.assertEqual(a.status, 200)
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(timeout=20), 0)
            proc.stderr.close()

    # -- reload --

    def test_reload_with_a_bad_config_keeps_the_old(self):
        good = "modules:\n  one:\n    checks: ['*.registry']\n"
        with sh.Exporter("--web.enable-lifecycle", config=good) as ex:
            self.assertEqual(ex.probe(self.good.url, module="one").status, 200)
            ex.write_config("modules:\n  two:\n    writes: sometimes\n")
            a = ex.post("/-/reload")
            self.assertEqual(a.status, 500, a)
            self.assertIn("writes", a.body)
            self.assertEqual(ex.probe(self.good.url, module="one").status, 200)
            self.assertEqual(ex.probe(self.good.url, module="two").status, 400)
            m = ex.get("/metrics").body
            self.assertEqual(sh.value(m, "ocidoctor_exporter_config_reload_failures_total"), 1)
            self.assertEqual(sh.value(m, "ocidoctor_exporter_config_last_reload_successful"), 0)
            self.assertIn("reload failed", ex.stderr())
            # SIGHUP with a good config
            ex.write_config("modules:\n  two:\n    checks: ['*.registry']\n")
            ex.signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while ex.probe(self.good.url, module="two").status != 200:
                self.assertLess(time.monotonic(), deadline, "SIGHUP did not reload")
                time.sleep(0.1)
            self.assertEqual(ex.probe(self.good.url, module="one").status, 400)
            m = ex.get("/metrics").body
            self.assertEqual(sh.value(m, "ocidoctor_exporter_config_last_reload_successful"), 1)
            self.assertEqual(ex.get("/-/reload").status, 405)

    def test_reload_needs_enable_lifecycle_and_refuses_a_browser(self):
        text = "modules:\n  one:\n    checks: ['*.registry']\n"
        with sh.Exporter(config=text) as ex:
            a = ex.post("/-/reload")
            self.assertEqual(a.status, 403, a)
            self.assertIn("--web.enable-lifecycle", a.body)
        with sh.Exporter("--web.enable-lifecycle", config=text) as ex:
            # what a plain HTML form on another site sends
            form = ex.post("/-/reload", data=b"x=1", headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": "http://evil.example"})
            self.assertEqual(form.status, 403, form)
            for headers in ({"Content-Type": "text/plain"}, {"Origin": "null"},
                            {"Content-Type": "multipart/form-data; boundary=x"}):
                with self.subTest(headers=headers):
                    self.assertEqual(ex.post("/-/reload", data=b"", headers=headers).status, 403)
            self.assertNotIn("config reloaded", ex.stderr())
            self.assertEqual(ex.post("/-/reload").status, 200)
            self.assertIn("config reloaded", ex.stderr())

    def test_disable_debug_hides_logs_reports_and_history(self):
        with sh.Exporter("--web.disable-debug", config=self.config_text) as ex:
            a = ex.probe(self.challenge.url, module="creds_here")
            self.assertEqual(a.status, 200, a)
            for params in ({"debug": "true"}, {"format": "json"}, {"format": "html"}):
                with self.subTest(params=params):
                    b = ex.probe(self.challenge.url, module="creds_here", **params)
                    self.assertEqual(b.status, 403, b)
                    self.assertNotIn(self.pw, b.body)
            self.assertEqual(ex.get("/report/1").status, 403)
            home = ex.get("/")
            self.assertEqual(home.status, 200)
            self.assertNotIn("/report/", home.body)
            self.assertNotIn(self.challenge.url, home.body)
            self.assertNotIn(self.pw, home.body)

    def test_bad_configs_are_refused_at_start(self):
        cases = {
            "modules:\n  m:\n    credentials: {username: u, password_file: %s}\n" % self.pw:
                "no registries",
            "modules:\n  m:\n    credentials: {username: u, password: x}\n": "password_file",
            "modules:\n  m:\n    checks: ['nosuch.*']\n": "no check",
            "modules:\n  m:\n    tag: 'a b'\n": "invalid tag",
            "modules: {}\n": "empty",
            "other: 1\n": "unknown key",
        }
        for text, needle in cases.items():
            with self.subTest(text=text):
                code, out, err = h.run_doctor(["serve", "--config", self.write("c.yaml", text)])
                self.assertEqual(code, h.EXIT_USAGE, err)
                self.assertIn(needle, err)
        # the smallest valid config
        with sh.Exporter(config="modules: {default: {writes: none}}\n") as ex:
            self.assertEqual(ex.probe(self.down).status, 200)


if __name__ == "__main__":
    unittest.main()
