"""A real Prometheus scrapes `ocidoctor serve`.

Debian's prometheus runs on loopback with the blackbox-style relabeling of
docs/monitoring.md: three targets (Debian's docker-registry, the scriptable
OCI 1.1 registry and a port nothing listens on) are handed to the exporter
as ?target=, the target becomes the instance label. The test waits for
scrapes and asks Prometheus' own query API what it stored: the probe's
success, a capability and a check status per target. Prometheus asks for
OpenMetrics first, so this also proves that answer parses.

The alerting rules of docs/ocidoctor-alerts.yml go through
`promtool check rules` and `promtool test rules`.
"""

import glob
import json
import os
import re
import signal
import subprocess
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import harness as h
import scripted_registry as sr
import serve_harness as sh

PROMETHEUS = "/usr/bin/prometheus"
RULES = os.path.join(h.REPO_ROOT, "docs", "ocidoctor-alerts.yml")
RULES_TEST = os.path.join(h.HERE, "ocidoctor-alerts.test.yml")

SCRAPE_CONFIG = """global:
  scrape_interval: {interval}s
  scrape_timeout: {interval}s
  evaluation_interval: 1s
rule_files:
  - {rules}
scrape_configs:
  - job_name: ocidoctor
    metrics_path: /probe
    static_configs:
      - targets: [{targets}]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - source_labels: [__param_module]
        regex: ""
        target_label: __param_module
        replacement: default
      - source_labels: [__param_module]
        target_label: module
      - target_label: __address__
        replacement: 127.0.0.1:{serve}
  - job_name: ocidoctor-exporter
    static_configs:
      - targets: ["127.0.0.1:{serve}"]
"""


class Prometheus(h.Service):
    def __init__(self, config_text):
        self.dir = h.scratch_dir("prometheus-")
        self.config = os.path.join(self.dir, "prometheus.yml")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.port = None
        self.proc = None

    def start(self):
        self.port = h.free_port()
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + self.config,
             "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, cwd=self.dir,
            env=h.doctor_env(None, self.dir), start_new_session=True)
        h._track(self)
        h.wait_port(self.port, timeout=60, alive=lambda: self.proc.poll() is None)
        return self

    def stop(self):
        h._untrack(self)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.log.close()
        self.proc = None

    def query(self, expr):
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (self.port,
                                                       urllib.parse.urlencode({"query": expr}))
        with urllib.request.urlopen(url, timeout=10) as r:
            doc = json.load(r)
        if doc.get("status") != "success":
            raise AssertionError("query %s: %s" % (expr, doc))
        return {s["metric"].get("instance"): float(s["value"][1]) for s in doc["data"]["result"]}

    def series(self, expr):
        """{(instance, module): value} of a query's result."""
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (self.port,
                                                       urllib.parse.urlencode({"query": expr}))
        with urllib.request.urlopen(url, timeout=10) as r:
            doc = json.load(r)
        if doc.get("status") != "success":
            raise AssertionError("query %s: %s" % (expr, doc))
        return {(s["metric"].get("instance"), s["metric"].get("module")): float(s["value"][1])
                for s in doc["data"]["result"]}

    def log_tail(self):
        with open(os.path.join(self.dir, "prometheus.log")) as f:
            return f.read()[-3000:]


@unittest.skipUnless(os.access(PROMETHEUS, os.X_OK), "prometheus is not installed "
                     "(scripts/install-deps --test)")
class PrometheusScrapeTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.distribution = cls.start_server(h.Registry(seed=[("library/alpine", "latest")]))
        cls.scripted = cls.start_server(sr.ScriptedRegistry(referrers="index"))
        cls.down = "http://127.0.0.1:%d" % h.free_port()
        cls.exporter = cls.start_server(sh.Exporter())
        cls.targets = [cls.distribution.url, cls.scripted.url, cls.down]
        # one scrape a second; under valgrind a probe needs far more than 0.5 s
        text = SCRAPE_CONFIG.format(rules=RULES, serve=cls.exporter.port, interval=sh.SLACK,
                                    targets=", ".join('"%s"' % t for t in cls.targets))
        cls.prometheus = cls.start_server(Prometheus(text))

    def wait_for(self, expr, count, timeout=60):
        timeout *= sh.SLACK
        deadline = time.monotonic() + timeout
        while True:
            got = self.prometheus.query(expr)
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                self.fail("after %ds, %s has %s\nprometheus log:\n%s\nexporter log:\n%s"
                          % (timeout, expr, got, self.prometheus.log_tail(),
                             self.exporter.stderr()[-3000:]))
            time.sleep(0.5)

    def test_prometheus_sees_the_right_values(self):
        up = self.wait_for('up{job="ocidoctor"} == 1', 3)
        self.assertEqual(sorted(up), sorted(self.targets))
        success = self.wait_for("ocidoctor_probe_success", 3)
        self.assertEqual(success, {self.distribution.url: 1.0, self.scripted.url: 1.0,
                                   self.down: 0.0})
        # blackbox_exporter's names, with the same values
        self.assertEqual(self.prometheus.query("probe_success"), success)
        self.assertEqual(self.prometheus.query("probe_http_status_code"),
                         {self.distribution.url: 200.0, self.scripted.url: 200.0,
                          self.down: 0.0})
        self.assertEqual(self.prometheus.query(
            'ocidoctor_probe_failure_info{check="check.integration.oci.registry"}'),
            {self.down: 1.0})
        self.assertEqual(self.prometheus.query("ocidoctor_capability_probed"),
                         {self.distribution.url: 2.0, self.scripted.url: 2.0})
        registry = self.prometheus.query(
            'ocidoctor_check_status{check="check.integration.oci.registry"}')
        self.assertEqual(registry, {self.distribution.url: 0.0, self.scripted.url: 0.0,
                                    self.down: 3.0})
        referrers = self.prometheus.query(
            'ocidoctor_check_status{check="check.integration.oci.referrers"}')
        # distribution 2.8 has no Referrers API: warn; the scripted registry has it;
        # nothing to talk to is a failure
        self.assertEqual(referrers, {self.distribution.url: 2.0, self.scripted.url: 0.0,
                                     self.down: 3.0})
        caps = self.prometheus.query('ocidoctor_capability_supported{capability="referrersApi"}')
        self.assertEqual(caps, {self.distribution.url: 0.0, self.scripted.url: 1.0})
        # the _info series parse too (Prometheus asked for OpenMetrics)
        clients = self.prometheus.query('ocidoctor_referrers_client_info{client="oras"}')
        self.assertEqual(clients, {self.distribution.url: 1.0, self.scripted.url: 1.0})
        api = self.prometheus.query('ocidoctor_referrers_client_info{client="oras",list="api"}')
        self.assertEqual(list(api), [self.scripted.url])
        build = self.prometheus.query('ocidoctor_build_info{job="ocidoctor"}')
        self.assertEqual(len(build), 3)
        modules = self.prometheus.query('count by (instance) (ocidoctor_probe_success{module="default"})')
        self.assertEqual(len(modules), 3)
        # the exporter's own metrics, scraped as a plain job
        # (the exporter's own scrape may come before the probes it counts)
        self.wait_for('sum(ocidoctor_exporter_probes_total{job="ocidoctor-exporter"}) >= 3', 1)
        self.wait_for('ocidoctor_exporter_probes_total{job="ocidoctor-exporter",'
                      'outcome="failure"} >= 1', 1)
        # the exporter's process_* series, scraped in OpenMetrics
        self.wait_for('process_open_fds{job="ocidoctor-exporter"} > 0', 1)
        self.wait_for('process_cpu_seconds_total{job="ocidoctor-exporter"} >= 0', 1)
        rules = self.prometheus.query('ALERTS{alertname="RegistryDown"}')
        self.assertNotIn(self.distribution.url, rules)

    def test_alerting_rules_pass_promtool(self):
        p = subprocess.run([sh.PROMTOOL, "check", "rules", RULES], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, encoding="utf-8", timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("SUCCESS: 12 rules found", p.stdout)
        p = subprocess.run([sh.PROMTOOL, "test", "rules", os.path.basename(RULES_TEST)],
                           cwd=h.HERE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           encoding="utf-8", timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("SUCCESS", p.stdout)


GUIDE = os.path.join(h.REPO_ROOT, "docs", "monitoring.md")


def guide_yaml_blocks(section):
    """The ```yaml blocks of a "## " section of docs/monitoring.md, as written."""
    with open(GUIDE) as f:
        text = f.read()
    start = text.index("\n## %s\n" % section)
    end = text.find("\n## ", start + 1)
    return re.findall(r"```yaml\n(.*?)```", text[start:end if end > 0 else None], re.S)


def substitute(text, replacements):
    """text with each (old, new) replaced; every old must be in it, so that a
    change of the guide shows here instead of being silently skipped."""
    for old, new in replacements:
        if old not in text:
            raise AssertionError("the guide no longer has %r:\n%s" % (old, text))
        text = text.replace(old, new)
    return text


# The exporter's modules for the guide's fleet: the names the fleet uses,
# each selecting different checks so that its series show which ran.
GUIDE_MODULES = """modules:
  default:
    writes: none
  team-a:
    checks: ["check.integration.oci.registry"]
  release-path:
    checks: ["check.integration.oci.registry", "check.integration.oci.pull"]
"""


@unittest.skipUnless(os.access(PROMETHEUS, os.X_OK), "prometheus is not installed "
                     "(scripts/install-deps --test)")
class GuideScrapeConfigTest(h.DoctorTestCase):
    """docs/monitoring.md's scrape config and fleet file, taken from the
    guide's text with only addresses, paths and the interval replaced, in
    the real Prometheus: every target is probed with its own module (the
    default one when it names none), and the repository it names."""

    @classmethod
    def setUpClass(cls):
        cls.shared = cls.start_server(sr.ScriptedRegistry())      # registry.example.com
        cls.harbor = cls.start_server(sr.ScriptedRegistry())      # harbor.example.com
        cls.team_a = cls.start_server(sr.ScriptedRegistry())      # registry.team-a.example
        cls.exporter = cls.start_server(sh.Exporter(config=GUIDE_MODULES))
        cls.dir = h.scratch_dir("guide-")
        blocks = guide_yaml_blocks("Scrape config")
        scrape = next(b for b in blocks if "scrape_configs:" in b)
        fleet = next(b for b in blocks if "scrape_configs:" not in b and "- targets:" in b)
        sd_dir = os.path.join(cls.dir, "registries")
        os.mkdir(sd_dir)
        interval = "%ds" % sh.SLACK
        scrape = substitute(scrape, [
            ("/etc/prometheus/registries/*.yml", os.path.join(sd_dir, "*.yml")),
            ("127.0.0.1:10071", "127.0.0.1:%d" % cls.exporter.port),
            ("scrape_interval: 5m", "scrape_interval: " + interval),
            ("scrape_timeout: 30s", "scrape_timeout: " + interval)])
        fleet = substitute(fleet, [
            ("https://registry.example.com", cls.shared.url),
            ("https://harbor.example.com", cls.harbor.url),
            ("https://registry.team-a.example", cls.team_a.url)])
        with open(os.path.join(sd_dir, "fleet.yml"), "w") as f:
            f.write(fleet)
        cls.prometheus = cls.start_server(Prometheus(scrape))

    def wait_for(self, expr, count, timeout=60):
        deadline = time.monotonic() + timeout * sh.SLACK
        while True:
            try:
                got = self.prometheus.series(expr)
            except urllib.error.HTTPError as e:   # 503 until its storage is ready
                if e.code != 503:
                    raise
                got = {}
            if len(got) >= count or time.monotonic() > deadline:
                return got
            time.sleep(0.5)

    def test_each_target_is_probed_with_its_module(self):
        expected = {(self.shared.url, "default"), (self.harbor.url, "default"),
                    (self.team_a.url, "team-a"), (self.shared.url, "release-path")}
        success = self.wait_for("ocidoctor_probe_success", len(expected))
        self.assertEqual(set(success), expected,
                         "prometheus log:\n%s\nexporter log:\n%s"
                         % (self.prometheus.log_tail(), self.exporter.stderr()[-3000:]))
        # the module's checks ran: team-a has the registry check only,
        # release-path no referrers check, default every check
        referrers = self.prometheus.series(
            'ocidoctor_check_status{check="check.integration.oci.referrers"}')
        self.assertEqual(set(referrers), {(self.shared.url, "default"),
                                          (self.harbor.url, "default")})
        pull = self.prometheus.series('ocidoctor_check_status{check="check.integration.oci.pull"}')
        self.assertEqual(set(pull), expected - {(self.team_a.url, "team-a")})
        # the guide's ci/release-base reached the exporter as &repository=
        # for release-path, and only there
        self.assertTrue(self.shared.requests(path_contains="/v2/ci/release-base/"))
        self.assertFalse(self.harbor.requests(path_contains="/v2/ci/release-base/"))
        self.assertFalse(self.team_a.requests(path_contains="/v2/ci/release-base/"))

if __name__ == "__main__":
    unittest.main()
