"""The exporter's series that blackbox_exporter users look for, and the
ones about a probe's health: probe_success, probe_duration_seconds,
probe_http_status_code, ocidoctor_probe_failure_info{check,cause},
ocidoctor_capability_probed, the process_* series of /metrics, and
probe_success of `run --format prometheus`. Every answer goes through
`promtool check metrics`.
"""

import os
import re
import ssl
import time
import unittest

import harness as h
import scripted_registry as sr
import serve_harness as sh

SECRET = "series-Pa55word"
CAPS = ("distributionVersion", "referrersApi", "chunkedUpload", "crossRepoMount", "delete")


class SeriesTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.good = cls.start_server(sr.ScriptedRegistry(referrers="index"))
        cls.locked = cls.start_server(sr.ScriptedRegistry(auth="basic",
                                                          users={"prober": "right"}))
        cls.down = "http://127.0.0.1:%d" % h.free_port()
        cls.dir = h.scratch_dir("series-")
        pw = os.path.join(cls.dir, "password")
        with open(pw, "w") as f:
            f.write(SECRET + "\n")
        h.add_secret(SECRET)
        cls.exporter = cls.start_server(sh.Exporter(config="""modules:
  default:
    writes: none
  wrong:
    checks: ["*.registry", "*.credentials", "*.pull"]
    credentials:
      username: prober
      password_file: %s
    registries: ["%s"]
""" % (pw, cls.locked.host)))

    def scrape(self, target, **params):
        a = self.exporter.probe(target, **params)
        self.assertEqual(a.status, 200, a)
        ok, out = sh.promtool_check_metrics(a.body)
        self.assertTrue(ok, "promtool check metrics: %s\n%s" % (out, a.body[:3000]))
        return a.body

    def failures(self, text):
        return {dict(labels)["check"]: dict(labels)["cause"]
                for (name, labels), v in sh.samples(text).items()
                if name == "ocidoctor_probe_failure_info" and v == 1}

    def test_a_good_registry(self):
        text = self.scrape(self.good.url)
        self.assertEqual(sh.value(text, "probe_success"), 1)
        self.assertEqual(sh.value(text, "probe_duration_seconds"),
                         sh.value(text, "ocidoctor_probe_duration_seconds"))
        self.assertGreater(sh.value(text, "probe_duration_seconds"), 0)
        self.assertEqual(sh.value(text, "probe_http_status_code"), 200)
        self.assertEqual(self.failures(text), {})
        probed = [c for c in CAPS
                  if sh.value(text, "ocidoctor_capability_supported", capability=c) is not None]
        # a read-only module cannot tell chunked upload, mount and delete
        self.assertEqual(sh.value(text, "ocidoctor_capability_probed"), len(probed))
        self.assertEqual(len(probed), 2)
        self.assertEqual(sh.value(text, "ocidoctor_capability_score"), 2)

    def test_nothing_listening(self):
        text = self.scrape(self.down)
        self.assertEqual(sh.value(text, "probe_success"), 0)
        self.assertEqual(sh.value(text, "probe_http_status_code"), 0)
        failures = self.failures(text)
        self.assertEqual(failures[h.CHECK_PREFIX + "registry"], "refused")
        self.assertIn(h.CHECK_PREFIX + "pull", failures)

    def test_rejected_credentials_are_a_cause(self):
        text = self.scrape(self.locked.url, module="wrong")
        self.assertEqual(sh.value(text, "probe_success"), 0)
        self.assertEqual(sh.value(text, "probe_http_status_code"), 401)
        self.assertEqual(self.failures(text).get(h.CHECK_PREFIX + "credentials"), "rejected",
                         text)

    def test_process_series(self):
        self.scrape(self.good.url)
        for accept in (None, sh.OPENMETRICS):
            a = self.exporter.get("/metrics", headers={"Accept": accept} if accept else None)
            self.assertTrue(a.body.endswith("# EOF\n") == bool(accept))
            if not accept:   # promtool reads the text format only
                ok, out = sh.promtool_check_metrics(a.body)
                self.assertTrue(ok, "promtool check metrics: %s\n%s" % (out, a.body[-3000:]))
            self.assertGreater(sh.value(a.body, "process_resident_memory_bytes"), 1 << 20)
            self.assertGreater(sh.value(a.body, "process_virtual_memory_bytes"),
                               sh.value(a.body, "process_resident_memory_bytes"))
            self.assertGreaterEqual(sh.value(a.body, "process_cpu_seconds_total"), 0)
            self.assertGreater(sh.value(a.body, "process_open_fds"), 3)
            self.assertGreaterEqual(sh.value(a.body, "process_max_fds"),
                                    sh.value(a.body, "process_open_fds"))
            start = sh.value(a.body, "process_start_time_seconds")
            self.assertLess(abs(start - time.time()), 600)
        self.assertIn("# TYPE process_cpu_seconds counter", a.body)

    def test_home_page_shows_the_image_and_links_the_debug_output(self):
        self.scrape(self.good.url, repository="team/app", tag="v1.2")
        page = self.exporter.get("/").body
        row = next(line for line in page.splitlines() if "team/app" in line)
        cells = re.findall(r"<td>(.*?)</td>", row)
        self.assertEqual(cells[1:5], [self.good.url, "team/app", "v1.2", "default"], row)
        debug = re.search(r'href="(/report/\d+\?debug=true)"', row).group(1)
        before = len(self.good.requests())
        a = self.exporter.get(debug)
        self.assertEqual(a.status, 200, a)
        self.assertTrue(a.body.startswith("Probe of %s with module default (repository team/app, "
                                          "tag v1.2)" % self.good.url), a.body[:300])
        self.assertIn("\nMetrics:\n", a.body)
        self.assertEqual(len(self.good.requests()), before)   # the stored probe, not a new one
        report = re.search(r'href="(/report/\d+)"', row).group(1)
        self.assertIn("<html", self.exporter.get(report).body)

    def test_run_writes_probe_success(self):
        for target, want in ((self.good.url, 1), (self.down, 0)):
            code, out, err = h.run_doctor(["run", "--registry", target, "--format", "prometheus"])
            ok, promtool = sh.promtool_check_metrics(out)
            self.assertTrue(ok, promtool)
            self.assertEqual(sh.value(out, "probe_success", registry=target,
                                      repository="library/alpine"), want, out)



class AnswerFactsTest(h.DoctorTestCase):
    """Certificates, clocks and tokens from the answers a probe gets anyway."""

    @classmethod
    def setUpClass(cls):
        cls.tls = cls.start_server(sr.ScriptedRegistry(tls=True, tls_days=1))
        cls.tokens = cls.start_server(h.TokenServer(expires_in=42))
        cls.token_reg = cls.start_server(sr.ScriptedRegistry(
            auth="token", token_realm=cls.tokens.realm, token_service=cls.tokens.service))
        cls.ahead = cls.start_server(sr.ScriptedRegistry(date_offset=3600))
        cls.exporter = cls.start_server(sh.Exporter(config="""modules:
  default:
    writes: none
  internal:
    ca_file: %s
""" % cls.tls.ca_file))

    def scrape(self, target, **params):
        a = self.exporter.probe(target, **params)
        self.assertEqual(a.status, 200, a)
        ok, out = sh.promtool_check_metrics(a.body)
        self.assertTrue(ok, "promtool check metrics: %s\n%s" % (out, a.body[:3000]))
        return a.body

    def test_certificate_expiry_and_tls_version(self):
        text = self.scrape(self.tls.url, module="internal")
        self.assertEqual(sh.value(text, "probe_success"), 1, text)
        cert = os.path.join(os.path.dirname(self.tls.ca_file), "server.pem")
        not_after = ssl.cert_time_to_seconds(ssl._ssl._test_decode_cert(cert)["notAfter"])
        got = sh.value(text, "probe_ssl_earliest_cert_expiry")
        self.assertEqual(got, not_after, text)
        self.assertLess(abs(got - (time.time() + 86400)), 3600)   # the 1-day certificate
        self.assertEqual(sh.value(text, "ocidoctor_ssl_earliest_cert_expiry",
                                  host=self.tls.host), not_after)
        versions = [dict(labels)["version"] for (name, labels), v in sh.samples(text).items()
                    if name == "probe_tls_version_info" and v == 1]
        self.assertIn(versions, (["TLS 1.3"], ["TLS 1.2"]))

    def test_plain_http_has_no_certificate_series(self):
        text = self.scrape(self.ahead.url)
        self.assertNotIn("probe_ssl_earliest_cert_expiry", text)
        self.assertNotIn("probe_tls_version_info", text)

    def test_token_lifetime(self):
        text = self.scrape(self.token_reg.url)
        self.assertEqual(sh.value(text, "probe_success"), 1, text)
        self.assertEqual(sh.value(text, "ocidoctor_token_lifetime_seconds"), 42, text)
        # the token service's clock agrees with ours
        tokens_host = "127.0.0.1:%d" % self.tokens.port
        self.assertLessEqual(abs(sh.value(text, "ocidoctor_clock_skew_seconds",
                                          host=tokens_host)), 2, text)

    def test_clock_skew(self):
        text = self.scrape(self.ahead.url)
        skew = sh.value(text, "ocidoctor_clock_skew_seconds", host=self.ahead.host)
        self.assertLessEqual(abs(skew - 3600), 2, text)
        text = self.scrape(self.token_reg.url)
        skew = sh.value(text, "ocidoctor_clock_skew_seconds", host=self.token_reg.host)
        self.assertLessEqual(abs(skew), 2, text)


class CheckConfigTest(h.DoctorTestCase):
    """`serve --check-config FILE`: the start's verdict on a config, without a server."""

    def write(self, text):
        path = os.path.join(h.scratch_dir("check-config-"), "serve.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_a_valid_config_with_prometheus_durations(self):
        path = self.write("modules:\n  default: {writes: none}\n"
                          "  quick: {timeout: 5s}\n"
                          "  writer: {writes: probe, min_interval: 1m, timeout: 1500ms}\n")
        code, out, err = h.run_doctor(["serve", "--check-config", path])
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(out, "%s: valid, 3 modules: default, quick, writer\n" % path)

    def test_an_invalid_config_gets_the_message_of_a_start(self):
        missing = os.path.join(h.scratch_dir("check-config-"), "nosuch.yaml")
        for path in (self.write("modules:\n  m: {timeout: 5x}\n"),
                     self.write("modules:\n  m:\n    registries: ['*']\n"),
                     self.write("modules:\n  m: {min_interval: 1m30s, writes: probe}\n"),
                     missing):
            with self.subTest(path=path):
                code, out, err = h.run_doctor(["serve", "--check-config", path])
                self.assertEqual((code, out), (3, ""))
                self.assertIn(path, err)
                # the server itself stops at start with the same words
                start = h.run_doctor(["serve", "--listen", "127.0.0.1:%d" % h.free_port(),
                                      "--config", path])
                self.assertEqual(start[0], 3)
                self.assertEqual(start[2], err)

if __name__ == "__main__":
    unittest.main()
