"""The API table (check.integration.oci.apis) against the OCI conformance
suite itself, on registries nobody here wrote.

For each real registry (distribution 2.8 from Debian, distribution 3.1,
olareg, go-containerregistry's registry; interop.py starts them from
$OCIDOCTOR_INTEROP_BIN, where the suite is the binary `conformance`):
  * a fresh instance with the test image is judged by the suite in its
    read-only mode (OCI_API_PUSH=false, deletes off, the test image's tag,
    manifest and blobs as its read-only data). At the pinned commit that
    mode crashes while it writes results.yaml, after it printed its
    "API conformance:" table on standard output: that table is read;
  * another fresh instance with the test image is judged by
    `ocidoctor run --check apis` (default mode, --writes probe), and once
    more with --writes none and with --format conformance.
Every API that both judged (neither said Disabled, nor the suite Unknown)
must have the same state; the suite must name exactly ocidoctor's 28 APIs;
--format conformance must hold the JSON report's states; with --writes none
every write API is Disabled and the reads are judged as in the default mode.

Without the binaries the tests are skipped, naming what is missing;
OCIDOCTOR_INTEROP_REQUIRED turns that into a failure.
"""

import os
import re
import subprocess
import unittest

import harness as h
import interop

CHECK = "apis"
NOT_JUDGED = ("Disabled", "Unknown")
WRITE_APIS = {
    "Tag delete", "Tag delete atomic", "Blob upload cancel", "Blob push", "Blob post only",
    "Blob post put", "Blob chunked", "Blob streaming", "Blob mount", "Blob anonymous mount",
    "Blob delete", "Blob delete atomic", "Manifest put by digest", "Manifest put by tag",
    "Manifest put with tag params", "Manifest put with subject", "Manifest delete",
    "Manifest delete atomic",
}
# what the suite's read-only mode must at least judge on every registry
SUITE_JUDGES = {"Ping", "Tag listing", "Blob get", "Blob head", "Manifest get by digest",
                "Manifest get by tag", "Manifest head by digest", "Manifest head by tag",
                "Referrers"}


def suite_table(stdout):
    """The suite's "API conformance:" table: {name: state}."""
    lines = stdout.splitlines()
    try:
        start = lines.index("API conformance:") + 1
    except ValueError:
        raise AssertionError("the suite printed no API table:\n%s" % stdout[-3000:]) from None
    table = {}
    for line in lines[start:]:
        m = re.match(r"^  (\S.*?)\.*: +(\S+)$", line)
        if not m:
            break
        table[m.group(1)] = m.group(2)
    return table


def parse_conformance(text):
    """ocidoctor's --format conformance, read strictly: `apis:` and
    two-space-indented `NAME: STATE` lines, nothing else."""
    lines = text.splitlines()
    if lines == ["apis: {}"]:
        return {}
    if not lines or lines[0] != "apis:":
        raise AssertionError("not the results.yaml shape:\n%s" % text)
    out = {}
    for line in lines[1:]:
        m = re.match(r"^  ([A-Za-z][A-Za-z ]*[a-z]): (Pass|Skip|Disabled|FAIL|Error)$", line)
        if not m:
            raise AssertionError("line %r is not `  NAME: STATE`" % line)
        out[m.group(1)] = m.group(2)
    if list(out) != sorted(out):
        raise AssertionError("keys not sorted: %s" % list(out))
    return out


class ApiTableCase(h.DoctorTestCase):
    KIND = None

    @classmethod
    def setUpClass(cls):
        h.doctor_binary()
        cls.suite = interop.binary("conformance")
        interop.binary(interop.REGISTRIES[cls.KIND][0])

    def fresh(self):
        reg = interop.start(self.KIND)
        self.addCleanup(reg.stop)
        manifest_digest, config_digest = reg.push_image()
        _, layer, _ = h.build_test_image()
        return reg, manifest_digest, [config_digest, h.sha256_digest(layer)]

    def run_suite(self):
        reg, manifest_digest, blobs = self.fresh()
        results = h.scratch_dir("conformance-")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": results,
            "OCI_REGISTRY": reg.host, "OCI_TLS": "disabled", "OCI_RESULTS_DIR": results,
            "OCI_LOG": "error", "OCI_REPO1": "library/alpine", "OCI_API_PUSH": "false",
            "OCI_API_TAGS_DELETE": "false", "OCI_API_MANIFESTS_DELETE": "false",
            "OCI_API_BLOBS_DELETE": "false", "OCI_RO_DATA_TAGS": "latest",
            "OCI_RO_DATA_MANIFESTS": manifest_digest, "OCI_RO_DATA_BLOBS": " ".join(blobs),
            "OCI_RO_DATA_REFERRERS": manifest_digest,
        }
        proc = subprocess.run([self.suite], env=env, cwd=results, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300,
                              encoding="utf-8", errors="replace")
        return suite_table(proc.stdout)

    def run_doctor(self, *extra):
        reg, _, _ = self.fresh()
        code, report, err = self.doctor_json(["run", "--registry", reg.url, "--check", CHECK]
                                             + list(extra))
        details = h.result_of(report, CHECK).get("details") or {}
        self.assertIn("apis", details, h.describe(report) + err)
        return {name: row["state"] for name, row in details["apis"].items()}, details, reg

    def test_states_agree_with_the_suite(self):
        suite = self.run_suite()
        ours, details, _ = self.run_doctor()
        self.assertEqual(sorted(suite), sorted(ours), "the API names differ from the suite's")
        judged = {n for n, s in suite.items() if s not in NOT_JUDGED and ours[n] not in NOT_JUDGED}
        self.assertTrue(SUITE_JUDGES <= judged, "judged by both: %s" % sorted(judged))
        differ = {n: (suite[n], ours[n], details["apis"][n]["why"]) for n in judged
                  if suite[n] != ours[n]}
        self.assertEqual(differ, {}, "(suite, ocidoctor, why) where the states differ")

    def test_writes_none_and_format_conformance(self):
        default, _, _ = self.run_doctor()
        ours, details, _ = self.run_doctor("--writes", "none")
        for name in WRITE_APIS:
            self.assertEqual(ours[name], "Disabled", name)
            self.assertIn("writes are off", details["apis"][name]["why"], name)
        for name in set(ours) - WRITE_APIS:
            self.assertEqual(ours[name], default[name], name)
        reg, _, _ = self.fresh()
        code, out, err = self.doctor(["run", "--registry", reg.url, "--check", CHECK,
                                      "--writes", "none", "--format", "conformance"])
        self.assertEqual(parse_conformance(out), ours, err)


class Distribution28(ApiTableCase):
    KIND = "distribution-2.8"


class Distribution31(ApiTableCase):
    KIND = "distribution-3.1"


class Olareg(ApiTableCase):
    KIND = "olareg"


class Ggcr(ApiTableCase):
    KIND = "ggcr"


del ApiTableCase

if __name__ == "__main__":
    unittest.main()
