"""docs/monitoring.md's Kubernetes manifests and Prometheus Operator Probe.

The YAML is taken from the guide's text and read by libyaml (the tool
tests/tools/yaml2json, built with the tests: the suite needs no Python
YAML module), then checked against the fields the objects use together:
the Service selects the Deployment's pods and forwards to the port the
exporter listens on, the config file the container is told to read is the
ConfigMap's key at the volume's mount path, the ConfigMap's modules pass
`serve --check-config`, the Probe's prober URL is the Service's address
and its module exists. The exporter then runs with the Deployment's own
arguments (on loopback) and answers the readiness probe and a probe the
way the Probe asks for it.
"""

import json
import os
import re
import subprocess
import unittest

import harness as h
import scripted_registry as sr
import serve_harness as sh
from test_prometheus import guide_yaml_blocks

YAML2JSON = os.environ.get("OCIDOCTOR_YAML2JSON", "")


def load_yaml(text):
    p = subprocess.run([YAML2JSON], input=text, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       encoding="utf-8", timeout=30)
    if p.returncode != 0:
        raise AssertionError("yaml2json: %s\n%s" % (p.stderr, text))
    return json.loads(p.stdout)


def seconds(duration):
    """A Prometheus duration of one unit ("30s", "5m") in seconds."""
    m = re.fullmatch(r"(\d+)(ms|s|m|h)", duration)
    if not m:
        raise AssertionError("not a duration: %r" % duration)
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


@unittest.skipUnless(os.access(YAML2JSON, os.X_OK), "OCIDOCTOR_YAML2JSON is not set (run by ctest)")
class KubernetesDocsTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        blocks = guide_yaml_blocks("Kubernetes")
        docs = [d for b in blocks for d in load_yaml(b)]
        cls.by_kind = {}
        for d in docs:
            cls.by_kind.setdefault(d["kind"], []).append(d)
        cls.config_map = cls.by_kind["ConfigMap"][0]
        cls.deployment = cls.by_kind["Deployment"][0]
        cls.service = cls.by_kind["Service"][0]
        cls.probe = cls.by_kind["Probe"][0]
        cls.container = cls.deployment["spec"]["template"]["spec"]["containers"][0]
        cls.dir = h.scratch_dir("k8s-")

    def config_path(self):
        """The ConfigMap's file as the container sees it: --config's value."""
        args = self.container["args"]
        return args[args.index("--config") + 1]

    def write_config(self):
        name = os.path.basename(self.config_path())
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(self.config_map["data"][name])
        return path

    def test_the_objects_fit_together(self):
        self.assertEqual(sorted(self.by_kind), ["ConfigMap", "Deployment", "Probe", "Service"])
        self.assertEqual(self.deployment["apiVersion"], "apps/v1")
        self.assertEqual(self.probe["apiVersion"], "monitoring.coreos.com/v1")
        namespaces = {d["metadata"]["namespace"] for ds in self.by_kind.values() for d in ds}
        self.assertEqual(len(namespaces), 1)
        namespace = namespaces.pop()
        # the Service selects the pods, and the Deployment its own pods
        pod_labels = self.deployment["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(self.deployment["spec"]["selector"]["matchLabels"], pod_labels)
        self.assertTrue(set(self.service["spec"]["selector"].items()) <= set(pod_labels.items()))
        # the Service forwards to the port the exporter listens on
        (port,) = self.service["spec"]["ports"]
        named = {p["name"]: p["containerPort"] for p in self.container["ports"]}
        target = named.get(port["targetPort"], port["targetPort"])
        args = self.container["args"]
        self.assertEqual(args[0], "serve")
        listen = args[args.index("--listen") + 1]
        self.assertEqual(listen.rsplit(":", 1)[1], target)
        ready = self.container["readinessProbe"]["httpGet"]
        self.assertEqual(ready["path"], "/-/healthy")
        self.assertEqual(named.get(ready["port"], ready["port"]), target)
        # the config file is the ConfigMap's key, mounted where --config points
        (mount,) = self.container["volumeMounts"]
        self.assertEqual(os.path.dirname(self.config_path()), mount["mountPath"])
        volumes = {v["name"]: v for v in self.deployment["spec"]["template"]["spec"]["volumes"]}
        self.assertEqual(volumes[mount["name"]]["configMap"]["name"],
                         self.config_map["metadata"]["name"])
        self.assertIn(os.path.basename(self.config_path()), self.config_map["data"])
        # the Probe scrapes the Service
        prober = self.probe["spec"]["prober"]
        self.assertEqual(prober["url"], "%s.%s.svc:%s" % (self.service["metadata"]["name"],
                                                           namespace, port["port"]))
        self.assertEqual(prober["path"], "/probe")
        self.assertTrue(self.probe["spec"]["targets"]["staticConfig"]["static"])
        for target in self.probe["spec"]["targets"]["staticConfig"]["static"]:
            self.assertRegex(target, r"^https://[a-z0-9.-]+$")
        self.assertLessEqual(seconds(self.probe["spec"]["scrapeTimeout"]),
                             seconds(self.probe["spec"]["interval"]))

    def test_the_config_map_is_valid_and_has_the_probes_module(self):
        path = self.write_config()
        code, out, err = h.run_doctor(["serve", "--check-config", path])
        self.assertEqual(code, 0, err)
        modules = out.split(":", 2)[2].strip().split(", ")
        self.assertIn(self.probe["spec"]["module"], modules)
        # the module's timeout leaves the exporter's 0.5 s offset inside the scrape timeout
        timeouts = re.findall(r"timeout: (\S+)", self.config_map["data"][os.path.basename(path)])
        for t in timeouts:
            self.assertLess(seconds(t) + 0.5, seconds(self.probe["spec"]["scrapeTimeout"]))

    def test_the_exporter_runs_with_the_deployments_arguments(self):
        registry = self.start_server(sr.ScriptedRegistry())
        args = list(self.container["args"][1:])
        args[args.index("--config") + 1] = self.write_config()
        listen = args.index("--listen")
        del args[listen:listen + 2]    # the harness listens on loopback
        with sh.Exporter(*args) as ex:
            self.assertEqual(ex.get(self.container["readinessProbe"]["httpGet"]["path"]).status, 200)
            a = ex.get("%s?module=%s&target=%s" % (self.probe["spec"]["prober"]["path"],
                                                  self.probe["spec"]["module"], registry.url))
            self.assertEqual(a.status, 200, a)
            self.assertEqual(sh.value(a.body, "probe_success"), 1, a.body)


if __name__ == "__main__":
    unittest.main()
