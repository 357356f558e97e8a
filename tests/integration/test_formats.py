"""The report formats: json, junit, markdown, prometheus, html and text.

Every format is produced by real runs against three registries and checked
against the JSON report of the same registry (the statuses of a run on a
given registry do not change from one run to the next):

  * "distribution": a seeded docker-registry (distribution 2.8). It has no
    Referrers API, so the referrers and capabilities checks warn and the
    worst status is warn;
  * "scripted": a ScriptedRegistry with referrers="index", a good OCI 1.1
    registry that scores 5/5 (only the credentials check skips: there are
    none);
  * "refused": a port nothing listens on; the registry check fails and the
    checks that need it skip.

The JSON report is validated against docs/report.schema.json with
schema_check.py (a small strict validator: there is no jsonschema package
here), the Prometheus output with a strict parser of the text exposition
format written below, JUnit with xml.etree, HTML with html.parser and, when
Debian's chromium is installed (scripts/install-deps --test), rendered for
real: the screenshot is kept as $OCIDOCTOR_ARTIFACTS/report.png (default
build/artifacts/ under the repository root).

Only the Python standard library is used.
"""

import collections
import datetime
import html
import html.parser
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import time
import unittest
import xml.etree.ElementTree as ET
import zlib

import harness as h
import schema_check
import scripted_registry as sr

SCHEMA_FILE = os.path.join(h.REPO_ROOT, "docs", "report.schema.json")
CAPABILITIES = ("distributionVersion", "referrersApi", "chunkedUpload", "crossRepoMount",
                "delete")
FORMATS = ("text", "json", "junit", "markdown", "prometheus", "html")
# The order of "worst" (docs/json-report.md): pass < skip < info < warn < fail.
STATUS_ORDER = ("pass", "skip", "info", "warn", "fail")
PROM_STATUS = {"pass": 0, "info": 1, "warn": 2, "fail": 3, "skip": -1}
PROM_STATE = {"supported": 1, "unsupported": 0, "unknown": -1}
CHECK_CAPS = h.CHECK_PREFIX + "capabilities"
CHROMIUM = "/usr/bin/chromium"
# Every run has its own empty HOME, which the credentials check names.
HOME_DIR = re.compile(r"/home-[A-Za-z0-9_]+/")
# ... and the scratch repository, ocidoctor-scratch (a run id once; kept for old outputs).
SCRATCH_REPO = re.compile(r"ocidoctor-scratch(?:-[0-9a-f]{8})?")


# only the first run on a registry creates the scratch repository and says so
CREATED = re.compile(r"; this run created the scratch repository [^,]+, which later runs use again "
                     r"\(the report says how to remove it\)")


def same_run_text(text):
    """text with the run's HOME directory and scratch repository replaced,
    and without the note that the run created the scratch repository, to
    compare two runs."""
    text = CREATED.sub("", text)
    return SCRATCH_REPO.sub("ocidoctor-scratch-*", HOME_DIR.sub("/home-*/", text))


def markdown_plain(text):
    """What a Markdown renderer shows for a cell of ocidoctor's report: its
    backslash escapes and HTML entities undone."""
    return html.unescape(re.sub(r"\\([\\\[\]!|])", r"\1", text))


CHROMIUM_TIMEOUT = 60


# --------------------------------------------------------------------------
# Prometheus text exposition format: a strict parser
# --------------------------------------------------------------------------

def attention_order(report, ids):
    """ids in the order of the HTML report's cards: fail, warn, info, skip,
    pass, each in table order."""
    rank = {"fail": 0, "warn": 1, "info": 2, "skip": 3, "pass": 4}
    status = {r["checkId"]: r["status"] for r in report["results"]}
    return sorted(ids, key=lambda i: rank[status[i]])


def unblocked_ids(report):
    """The ids of the results that have a line or card of their own."""
    return [r["checkId"] for r in report["results"] if not r.get("blockedBy")]


class ExpositionError(ValueError):
    pass


METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
# Label names may not hold a colon, unlike metric names.
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
FLOAT = re.compile(r"(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)\Z")
METRIC_TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
COMMENT = re.compile(r"#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?\Z")


class Family:
    def __init__(self, name):
        self.name = name
        self.help = None
        self.type = None
        self.samples = []    # (sample name, {label: value}, float value)

    def series(self, name=None):
        """{frozenset(labels.items()): value} of the samples called name."""
        name = name or self.name
        return {frozenset(labels.items()): value
                for sample, labels, value in self.samples if sample == name}


def _help_text(text, where):
    """Unescapes a HELP docstring: only \\\\ and \\n are escapes."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            nxt = text[i + 1:i + 2]
            if nxt not in ("\\", "n"):
                raise ExpositionError("%s: bad escape \\%s in HELP" % (where, nxt))
            out.append("\n" if nxt == "n" else "\\")
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _labels(line, i, where):
    """Parses {name="value",...} starting at line[i] == "{"; returns (labels, end)."""
    labels = {}
    i += 1
    while True:
        if line[i:i + 1] == "}":
            return labels, i + 1
        m = LABEL_NAME.match(line, i)
        if not m:
            raise ExpositionError("%s: bad label name at column %d" % (where, i + 1))
        name = m.group(0)
        if name.startswith("__"):
            raise ExpositionError("%s: label name %r is reserved" % (where, name))
        if name in labels:
            raise ExpositionError("%s: label %r given twice" % (where, name))
        i = m.end()
        if line[i:i + 2] != '="':
            raise ExpositionError("%s: label %r: expected =\" at column %d" % (where, name, i + 1))
        i += 2
        value = []
        while True:
            if i >= len(line):
                raise ExpositionError("%s: label %r: unterminated value" % (where, name))
            c = line[i]
            if c == "\\":
                nxt = line[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise ExpositionError("%s: label %r: bad escape \\%s" % (where, name, nxt))
                value.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            else:
                value.append(c)
                i += 1
        labels[name] = "".join(value)
        if line[i:i + 1] == ",":
            i += 1          # the grammar allows a trailing comma before }
        elif line[i:i + 1] != "}":
            raise ExpositionError("%s: expected , or } at column %d" % (where, i + 1))


def parse_exposition(text, require_metadata=True):
    """Parses the Prometheus text format strictly. Returns {family name: Family}
    in the order the families appear. Raises ExpositionError on: a missing
    final newline; a bad metric or label name; a label value with an escape
    other than \\\\, \\" and \\n; a value that is not a float; a duplicate
    series; a family whose lines are not together; HELP or TYPE given twice
    or after the family's samples; an unknown type; and, when
    require_metadata, a family without HELP and TYPE before its samples."""
    if not text.endswith("\n"):
        raise ExpositionError("the text does not end with a newline")
    families = collections.OrderedDict()
    current = None
    seen = set()

    def enter(name, where):
        nonlocal current
        if current is not None and current.name == name:
            return current
        if name in families:
            raise ExpositionError("%s: the lines of %s are not all together" % (where, name))
        current = families[name] = Family(name)
        return current

    for lineno, line in enumerate(text[:-1].split("\n"), 1):
        where = "line %d" % lineno
        if not line.strip():
            continue
        if line.startswith("#"):
            m = COMMENT.match(line)
            if not m:
                continue    # a plain comment
            kind, name, rest = m.group(1), m.group(2), m.group(3) or ""
            if not METRIC_NAME.fullmatch(name):
                raise ExpositionError("%s: bad metric name %r" % (where, name))
            fam = enter(name, where)
            if kind == "HELP":
                if fam.help is not None:
                    raise ExpositionError("%s: second HELP for %s" % (where, name))
                fam.help = _help_text(rest, where)
            else:
                if fam.type is not None:
                    raise ExpositionError("%s: second TYPE for %s" % (where, name))
                if fam.samples:
                    raise ExpositionError("%s: TYPE of %s after its samples" % (where, name))
                if rest not in METRIC_TYPES:
                    raise ExpositionError("%s: unknown type %r" % (where, rest))
                fam.type = rest
            continue
        m = METRIC_NAME.match(line)
        if not m:
            raise ExpositionError("%s: a sample must start with a metric name" % where)
        name, i = m.group(0), m.end()
        labels = {}
        if line[i:i + 1] == "{":
            labels, i = _labels(line, i, where)
        rest = re.fullmatch(r"[ \t]+(\S+)(?:[ \t]+(-?\d+))?", line[i:])
        if not rest:
            raise ExpositionError("%s: expected a value after the labels" % where)
        if not FLOAT.match(rest.group(1)):
            raise ExpositionError("%s: %r is not a float" % (where, rest.group(1)))
        family = name
        if current is not None and current.type in ("histogram", "summary"):
            for suffix in ("_bucket", "_sum", "_count"):
                if name == current.name + suffix:
                    family = current.name
        fam = enter(family, where)
        if require_metadata and (fam.help is None or fam.type is None):
            raise ExpositionError("%s: sample of %s before its HELP and TYPE" % (where, family))
        key = (name, frozenset(labels.items()))
        if key in seen:
            raise ExpositionError("%s: duplicate series %s%s" % (where, name, labels))
        seen.add(key)
        fam.samples.append((name, labels, float(rest.group(1))))
    return families


# --------------------------------------------------------------------------
# HTML and PNG
# --------------------------------------------------------------------------

VOID_ELEMENTS = frozenset(("area", "base", "br", "col", "embed", "hr", "img", "input",
                           "link", "meta", "source", "track", "wbr"))
URL_ATTRIBUTES = frozenset(("src", "href", "action", "formaction", "poster", "srcset",
                            "data", "background", "cite", "manifest", "ping"))


class PageScan(html.parser.HTMLParser):
    """Collects a page's elements and text and checks that every element is
    closed in order (ocidoctor writes no implicit closes)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.problems = []
        self.elements = []       # (tag, {attr: value})
        self.text = []
        self.style = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag not in VOID_ELEMENTS:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append("</%s> closes %s" % (tag, self.stack[-1:] or "nothing"))
            return
        self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "style":
            self.style.append(data)
        else:
            self.text.append(data)

    def finish(self):
        self.close()
        if self.stack:
            self.problems.append("never closed: %s" % self.stack)
        return self


def scan_page(text):
    scan = PageScan()
    scan.feed(text)
    return scan.finish()


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunks(data):
    """[(type, body)] of a PNG file; asserts the signature and every CRC."""
    if data[:8] != PNG_SIGNATURE:
        raise ValueError("not a PNG: bad signature %r" % data[:8])
    chunks, pos = [], 8
    while pos < len(data):
        if pos + 12 > len(data):
            raise ValueError("truncated chunk at byte %d" % pos)
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc, = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if len(body) != length or zlib.crc32(kind + body) != crc:
            raise ValueError("chunk %r at byte %d has a bad length or CRC" % (kind, pos))
        chunks.append((kind.decode("latin-1"), body))
        pos += 12 + length
    if not chunks or chunks[0][0] != "IHDR" or chunks[-1][0] != "IEND":
        raise ValueError("a PNG starts with IHDR and ends with IEND")
    return chunks


def png_pixels(data):
    """(width, height, Counter of (r, g, b) over a sample of the pixels) of an
    8-bit RGB or RGBA, non-interlaced PNG."""
    chunks = png_chunks(data)
    width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("unexpected PNG layout: depth %d, colour type %d, interlace %d"
                         % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == "IDAT"))
    if len(raw) != height * (stride + 1):
        raise ValueError("image data is %d bytes, not %d" % (len(raw), height * (stride + 1)))
    colours = collections.Counter()
    prev = bytearray(stride)
    for y in range(height):
        off = y * (stride + 1)
        kind, line = raw[off], bytearray(raw[off + 1:off + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        elif kind != 0:
            raise ValueError("row %d has filter type %d" % (y, kind))
        prev = line
        if y % 2 == 0:
            colours.update(bytes(line[i:i + 3]) for i in range(0, stride, 2 * bpp))
    return width, height, colours


def artifacts_dir():
    path = os.environ.get("OCIDOCTOR_ARTIFACTS") or os.path.join(h.REPO_ROOT, "build",
                                                                 "artifacts")
    os.makedirs(path, exist_ok=True)
    return path


def run_chromium(args, timeout=CHROMIUM_TIMEOUT):
    """Runs chromium in its own process group; kills the group on timeout.
    Returns (exit code, stdout, stderr)."""
    home = h.scratch_dir("chromium-home-")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
           "LANG": "C.UTF-8", "DBUS_SESSION_BUS_ADDRESS": "disabled:"}
    proc = subprocess.Popen([CHROMIUM] + list(args), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=home, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError("chromium did not finish in %d s (killed)" % timeout) from None
    finally:
        try:    # helpers it may have left behind in its group
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        shutil.rmtree(home, ignore_errors=True)
    return (proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


# --------------------------------------------------------------------------
# Self-tests of the two checkers (no registry needed)
# --------------------------------------------------------------------------

class SchemaCheckSelfTest(unittest.TestCase):

    def test_json_types_are_kept_apart(self):
        self.assertTrue(schema_check.validate(True, {"type": "integer"}))
        self.assertTrue(schema_check.validate(1, {"const": True}))
        self.assertTrue(schema_check.validate(1.5, {"type": "integer"}))
        self.assertEqual(schema_check.validate(2, {"type": "number"}), [])
        self.assertEqual(schema_check.validate([1, True], {"uniqueItems": True}), [])
        self.assertTrue(schema_check.validate([1, 1.0], {"uniqueItems": True}))

    def test_unknown_keyword_is_refused(self):
        with self.assertRaises(schema_check.SchemaError):
            schema_check.validate(1, {"type": "integer", "exclusiveMinimum": 0})
        with self.assertRaises(schema_check.SchemaError):
            schema_check.validate(1, {"$ref": "#/$defs/missing"})

    def test_combinators(self):
        schema = {"$defs": {"s": {"type": "string"}},
                  "if": {"required": ["a"], "properties": {"a": {"const": 1}}},
                  "then": {"required": ["b"]}, "else": {"not": {"required": ["b"]}},
                  "dependentRequired": {"c": ["d"]},
                  "properties": {"e": {"oneOf": [{"$ref": "#/$defs/s"}, {"const": "x"}]},
                                 "f": {"anyOf": [{"type": "null"}, {"minimum": 3}]}}}
        ok = [{"a": 1, "b": 0}, {"a": 2}, {"c": 0, "d": 0}, {"e": "y"}, {"f": None},
              {"f": 4}]
        bad = [{"a": 1}, {"a": 2, "b": 0}, {"c": 0}, {"e": "x"}, {"f": 2}]
        for doc in ok:
            self.assertEqual(schema_check.validate(doc, schema), [], doc)
        for doc in bad:
            self.assertTrue(schema_check.validate(doc, schema), doc)


class ExpositionParserSelfTest(unittest.TestCase):

    GOOD = ('# HELP m_total A counter, with \\\\ and \\n.\n# TYPE m_total counter\n'
            'm_total{a="x\\"y\\\\z\\n",b="",} 1.5e3\nm_total{a="2"} -Inf\n'
            '# a plain comment\n# HELP g G.\n# TYPE g gauge\ng NaN 1700000000000\n')

    def test_accepts_valid_text(self):
        fams = parse_exposition(self.GOOD)
        self.assertEqual(list(fams), ["m_total", "g"])
        self.assertEqual(fams["m_total"].help, "A counter, with \\ and \n.")
        self.assertEqual(fams["m_total"].samples[0][1], {"a": 'x"y\\z\n', "b": ""})
        self.assertEqual(fams["m_total"].samples[0][2], 1500.0)

    def test_rejects_broken_text(self):
        cases = {
            "no final newline": "# HELP g G.\n# TYPE g gauge\ng 1",
            "bad escape": '# HELP g G.\n# TYPE g gauge\ng{a="\\t"} 1\n',
            "unquoted value": "# HELP g G.\n# TYPE g gauge\ng{a=b} 1\n",
            "colon in label": '# HELP g G.\n# TYPE g gauge\ng{a:b="1"} 1\n',
            "bad metric name": "# HELP 1g G.\n# TYPE 1g gauge\n1g 1\n",
            "not a float": "# HELP g G.\n# TYPE g gauge\ng 1_000\n",
            "duplicate series": '# HELP g G.\n# TYPE g gauge\ng{a="1"} 1\ng{a="1"} 2\n',
            "duplicate label": '# HELP g G.\n# TYPE g gauge\ng{a="1",a="2"} 1\n',
            "sample before TYPE": "# HELP g G.\ng 1\n# TYPE g gauge\n",
            "no metadata": "g 1\n",
            "unknown type": "# HELP g G.\n# TYPE g meter\ng 1\n",
            "split family": ("# HELP g G.\n# TYPE g gauge\ng 1\n# HELP h H.\n# TYPE h gauge\n"
                             "h 1\ng{a=\"1\"} 2\n"),
            "two HELPs": "# HELP g G.\n# HELP g G.\n# TYPE g gauge\ng 1\n",
            "unterminated": '# HELP g G.\n# TYPE g gauge\ng{a="1} 1\n',
            "no value": '# HELP g G.\n# TYPE g gauge\ng{a="1"}\n',
        }
        for name, text in cases.items():
            with self.subTest(case=name):
                with self.assertRaises(ExpositionError):
                    parse_exposition(text)


# --------------------------------------------------------------------------
# The formats, from real runs
# --------------------------------------------------------------------------

class FormatsTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(seed=[("library/alpine", "latest")]))
        h.doctor_binary()
        cls.scripted = sr.ScriptedRegistry(referrers="index").start()
        cls.addClassCleanup(cls.scripted.stop)
        cls.urls = {"distribution": cls.registry.url, "scripted": cls.scripted.url,
                    "refused": "http://127.0.0.1:%d" % h.free_port()}
        cls.schema = schema_check.load_schema(SCHEMA_FILE)
        cls._runs = {}

    # -- running --

    def produce(self, target, fmt, *extra):
        """(exit code, stdout, stderr) of `run --registry URL --format FMT EXTRA...`
        on a target; each distinct run is made once per class."""
        key = (target, fmt) + extra
        if key not in self._runs:
            args = ["run", "--registry", self.urls[target], "--format", fmt] + list(extra)
            self._runs[key] = self.doctor(args)
        return self._runs[key]

    def report(self, target, *extra):
        code, out, err = self.produce(target, "json", *extra)
        return h.parse_report(out, code, err)

    def statuses(self, target, *extra):
        return collections.OrderedDict((r["checkId"], r["status"])
                                       for r in self.report(target, *extra)["results"])

    def capabilities(self, target, *extra):
        details = h.result_of(self.report(target, *extra), CHECK_CAPS)["details"]
        return details

    def assertSchemaValid(self, report, label):
        errors = schema_check.validate(report, self.schema)
        if errors:
            self.fail("%s: the report breaks docs/report.schema.json:\n  %s"
                      % (label, "\n  ".join(errors[:20])))

    # -- sanity of the runs every format is compared with --

    def test_targets_give_the_expected_runs(self):
        self.assertEqual(self.report("distribution")["summary"]["worst"], "warn")
        self.assertEqual(self.statuses("distribution")[h.CHECK_PREFIX + "referrers"], "warn")
        caps = self.capabilities("scripted")
        self.assertEqual(caps.get("score"), 5, caps)
        self.assertEqual(self.report("refused")["summary"]["worst"], "fail")
        for target in self.urls:
            self.assertEqual(list(self.statuses(target)), h.check_ids(), target)

    # -- json --

    def test_json_reports_match_the_schema(self):
        runs = [("distribution",), ("scripted",), ("refused",),
                ("scripted", "--no-writes"),
                ("distribution", "--check", "check.integration.oci.p*"),
                ("scripted", "--tags", "oci-1.1")]
        for target, *extra in runs:
            with self.subTest(run=" ".join([target] + extra)):
                self.assertSchemaValid(self.report(target, *extra), target)

    def test_json_summary_counts_the_results(self):
        for target in self.urls:
            report = self.report(target)
            counts = collections.Counter(r["status"] for r in report["results"])
            summary = report["summary"]
            for status in STATUS_ORDER:
                self.assertEqual(summary[status], counts[status], (target, status))
            # a skipped result does not count against the registry
            ran = [status for status in counts if status != "skip"]
            worst = max(ran, key=STATUS_ORDER.index) if ran else "skip"
            self.assertEqual(summary["worst"], worst, target)
            self.assertEqual(report["registry"], self.urls[target])

    def test_schema_check_rejects_broken_reports(self):
        good = self.report("scripted")
        self.assertSchemaValid(good, "scripted (unchanged)")
        warn = self.report("distribution")
        remediation = h.result_of(warn, "referrers")["remediation"]

        def result(doc, name):
            return h.result_of(doc, name)

        breakages = {
            'a result with status "ok"': lambda d: result(d, "pull").update(status="ok"),
            "a missing summary key": lambda d: d["summary"].pop("worst"),
            'a capability state "maybe"': lambda d: result(d, "capabilities")["details"]
            ["capabilities"]["delete"].update(state="maybe"),
            "an unknown top-level key": lambda d: d.update(extra=1),
            "a boolean request count": lambda d: d.update(requests=True),
            "a negative duration": lambda d: d.update(durationMs=-1),
            "a remediation on a pass": lambda d: result(d, "pull").update(
                remediation=remediation),
            "an unknown check id": lambda d: d["results"][0].update(checkId="check.nope"),
            "a tag given twice": lambda d: d["results"][0].update(tags=["oci", "oci"]),
            "a malformed startedAt": lambda d: d.update(startedAt="yesterday"),
            "an evidence method FETCH": lambda d: result(d, "registry")["evidence"][0]
            .update(method="FETCH"),
            "referrers details without clients": lambda d: result(d, "referrers")
            ["details"].pop("clients"),
            "schemaVersion 2": lambda d: d.update(schemaVersion=2),
            "a string severity of the wrong kind": lambda d: result(d, "pull").update(
                severity="warn"),
            "a score of 6": lambda d: result(d, "capabilities")["details"].update(score=6),
        }
        for name, breakage in breakages.items():
            with self.subTest(breakage=name):
                doc = json.loads(json.dumps(good))
                breakage(doc)
                self.assertTrue(schema_check.validate(doc, self.schema),
                                "the validator accepted %s" % name)

    # -- junit --

    def junit(self, target, *extra):
        code, out, err = self.produce(target, "junit", *extra)
        try:
            root = ET.fromstring(out)
        except ET.ParseError as e:
            self.fail("junit output is not XML (%s):\n%s" % (e, out[:2000]))
        return code, root

    def check_junit(self, target, warn_fails, *extra):
        code, root = self.junit(target, *extra)
        report = self.report(target)
        statuses = self.statuses(target)
        self.assertEqual(root.tag, "testsuites")
        suites = root.findall("testsuite")
        self.assertEqual(len(suites), 1)
        suite = suites[0]
        cases = suite.findall("testcase")
        self.assertEqual([c.get("name") for c in cases], h.check_ids())
        failing = {"fail", "warn"} if warn_fails else {"fail"}
        for case in cases:
            check, status = case.get("name"), statuses[case.get("name")]
            with self.subTest(check=check, status=status):
                self.assertEqual(case.get("classname"), "ocidoctor." + check)
                self.assertGreaterEqual(float(case.get("time")), 0.0)
                self.assertTrue(case.find("system-out").text.startswith(status + ": "),
                                case.find("system-out").text)
                failures, skipped = case.findall("failure"), case.findall("skipped")
                self.assertEqual(len(skipped), 1 if status == "skip" else 0)
                self.assertEqual(len(failures), 1 if status in failing else 0)
                if failures:
                    self.assertEqual(failures[0].get("type"), status)
                    self.assertTrue(failures[0].get("message"))
                    # a blocked check points at its cause, whose fix is the fix
                    cause = h.result_of(report, check).get("blockedBy")
                    self.assertIn("ocidoctor explain " + (cause or check), failures[0].text)
        counts = collections.Counter(statuses.values())
        expected = {"tests": len(cases), "errors": 0, "skipped": counts["skip"],
                    "failures": sum(counts[s] for s in failing)}
        for name, value in expected.items():
            self.assertEqual(int(suite.get(name)), value, "testsuite %s" % name)
            if name != "errors":
                self.assertEqual(int(root.get(name)), value, "testsuites %s" % name)
        self.assertEqual(suite.get("name"), "ocidoctor " + self.urls[target])
        self.assertGreaterEqual(float(suite.get("time")), 0.0)
        return code

    def test_junit_warn_is_a_failure_by_default(self):
        # the default --fail-on warn makes a warning fail the run (exit 1), so
        # the JUnit file shows it as a failure: the two never disagree
        self.assertEqual(self.check_junit("distribution", True), h.EXIT_WARN)

    def test_junit_warn_is_a_failure_with_fail_on_warn(self):
        self.assertEqual(self.check_junit("distribution", True, "--fail-on", "warn"),
                         h.EXIT_WARN)

    def test_junit_warn_is_no_failure_with_fail_on_fail_or_never(self):
        self.assertEqual(self.check_junit("distribution", False, "--fail-on", "fail"), h.EXIT_OK)
        self.assertEqual(self.check_junit("distribution", False, "--fail-on", "never"),
                         h.EXIT_OK)

    def test_junit_validates_against_the_jenkins_schema(self):
        xmllint = shutil.which("xmllint")
        self.assertTrue(xmllint, "xmllint is needed (libxml2-utils; scripts/install-deps --test)")
        xsd = os.path.join(h.REPO_ROOT, "tests", "junit-jenkins.xsd")
        work = h.scratch_dir("junit-")
        for target in self.urls:
            for extra in ((), ("--fail-on", "fail")):
                with self.subTest(target=target, extra=extra):
                    _, out, _ = self.produce(target, "junit", *extra)
                    path = os.path.join(work, "%s%s.xml" % (target, len(extra)))
                    with open(path, "w") as f:
                        f.write(out)
                    proc = subprocess.run([xmllint, "--noout", "--schema", xsd, path],
                                          capture_output=True, text=True)
                    self.assertEqual(proc.returncode, 0, proc.stderr)
        # the schema is not vacuous: a test case without a name is refused
        _, out, _ = self.produce("refused", "junit")
        broken = os.path.join(work, "broken.xml")
        with open(broken, "w") as f:
            f.write(re.sub(r' name="check\.[^"]*"', "", out, count=1))
        proc = subprocess.run([xmllint, "--noout", "--schema", xsd, broken],
                              capture_output=True, text=True)
        self.assertNotEqual(proc.returncode, 0, "the schema accepted a testcase without a name")

    def test_junit_failing_run(self):
        self.assertEqual(self.check_junit("refused", False), h.EXIT_FAIL)
        # --fail-on never: exit 0, and the file has no failure either
        code, root = self.junit("refused", "--fail-on", "never")
        self.assertEqual(code, h.EXIT_OK)
        self.assertEqual(root.findall(".//failure"), [])
        self.assertEqual(root.get("failures"), "0")
        self.assertEqual(self.check_junit("scripted", False), h.EXIT_OK)

    # -- markdown --

    ROW = re.compile(r"^\| (?P<status>[^|]+) \| (?P<under>↳ )?`(?P<id>[^`]+)` \| "
                     r"(?P<message>.*) \|$")
    CAP_ROW = re.compile(r"^\| (?P<name>[A-Za-z]+) \| (?P<state>[a-z]+) \| (?P<reason>.*) \|$")
    FIX = re.compile(r"^- \*\*`(?P<id>[^`]+)`\*\*: (?P<text>.+) \(`ocidoctor explain "
                     r"(?P<explain>[^`]+)`\)$")

    def markdown(self, target, *extra):
        code, out, err = self.produce(target, "markdown", *extra)
        self.assertTrue(out.startswith("## ocidoctor: `%s`\n" % self.urls[target]), out[:200])
        return out.split("\n")

    def test_markdown_has_a_row_per_check(self):
        for target in self.urls:
            with self.subTest(target=target):
                lines = self.markdown(target)
                report = self.report(target)
                rows = [self.ROW.match(line) for line in lines]
                rows = [m for m in rows if m]
                self.assertEqual(sorted(m.group("id") for m in rows), sorted(h.check_ids()))
                for m in rows:
                    result = h.result_of(report, m.group("id"))
                    self.assertEqual(m.group("status").split()[-1], result["status"])
                    if result.get("blockedBy"):
                        # a row under its cause's
                        self.assertTrue(m.group("under"))
                        self.assertEqual(m.group("message"), "blocked by `%s`" % result["blockedBy"])
                        continue
                    self.assertFalse(m.group("under"))
                    self.assertEqual(same_run_text(markdown_plain(m.group("message"))),
                                     same_run_text(result["message"]))
                s = report["summary"]
                self.assertIn("worst status **%s** · %d pass, %d info, %d warn, %d fail, %d skip"
                              % (s["worst"], s["pass"], s["info"], s["warn"], s["fail"],
                                 s["skip"]), "\n".join(lines))

    def test_markdown_capabilities_table(self):
        for target in ("distribution", "scripted"):
            with self.subTest(target=target):
                lines = self.markdown(target)
                start = lines.index("### Capabilities")
                self.assertEqual(lines[start + 2], "| Capability | State | Reason |")
                rows = [self.CAP_ROW.match(line) for line in lines[start + 4:start + 9]]
                self.assertTrue(all(rows), lines[start:start + 9])
                caps = self.capabilities(target)["capabilities"]
                self.assertEqual([m.group("name") for m in rows], list(CAPABILITIES))
                for m in rows:
                    self.assertEqual(m.group("state"), caps[m.group("name")]["state"])
        self.assertNotIn("### Capabilities",
                         self.markdown("distribution", "--check", "*.pull"))

    def test_markdown_how_to_fix(self):
        for target in self.urls:
            with self.subTest(target=target):
                lines = self.markdown(target)
                report = self.report(target)
                wanted = [r["checkId"] for r in report["results"]
                          if r["status"] not in ("pass", "skip") and not r.get("blockedBy")]
                if not wanted:
                    self.assertNotIn("### How to fix", lines)
                    continue
                start = lines.index("### How to fix")
                # each item may be followed by its commands, indented as code
                items = [self.FIX.match(line) for line in lines[start + 2:]
                         if line and not line.startswith("  `")]
                self.assertTrue(all(items), lines[start:])
                self.assertEqual([m.group("id") for m in items], wanted)
                for m in items:
                    self.assertEqual(m.group("explain"), m.group("id"))
                    remediation = h.result_of(report, m.group("id")).get("remediation")
                    if remediation:
                        text = m.group("text")
                        self.assertEqual(html.unescape(text), remediation["fix"]["text"])
                        # outside code spans no '<' that GitHub would take for a tag
                        # and drop (sha256-<hex>)
                        self.assertNotRegex(re.sub(r"`[^`]*`", "", text), r"<[A-Za-z/!?]")

    # -- prometheus --

    def prometheus(self, target, *extra):
        code, out, err = self.produce(target, "prometheus", *extra)
        try:
            return parse_exposition(out)
        except ExpositionError as e:
            self.fail("%s: not a valid exposition: %s\n%s" % (target, e, out))

    def test_prometheus_check_status(self):
        for target in self.urls:
            with self.subTest(target=target):
                fams = self.prometheus(target)
                fam = fams["ocidoctor_check_status"]
                self.assertEqual(fam.type, "gauge")
                series = {dict(k)["check"]: v for k, v in fam.series().items()}
                self.assertEqual(len(fam.samples), len(h.check_ids()))
                self.assertEqual(sorted(series), sorted(h.check_ids()))
                for _, labels, _ in fam.samples:
                    self.assertEqual(set(labels), {"check", "registry", "repository"})
                    self.assertEqual(labels["registry"], self.urls[target])
                    self.assertEqual(labels["repository"], "library/alpine")
                for check, status in self.statuses(target).items():
                    self.assertIn(series[check], (-1, 0, 1, 2, 3))
                    self.assertEqual(series[check], PROM_STATUS[status], check)

    def test_prometheus_capabilities(self):
        for target in ("distribution", "scripted"):
            with self.subTest(target=target):
                fams = self.prometheus(target)
                details = self.capabilities(target)
                fam = fams["ocidoctor_capability_supported"]
                self.assertEqual(fam.type, "gauge")
                series = {dict(k)["capability"]: v for k, v in fam.series().items()}
                self.assertEqual(sorted(series), sorted(CAPABILITIES))
                for name in CAPABILITIES:
                    self.assertEqual(series[name],
                                     PROM_STATE[details["capabilities"][name]["state"]], name)
                score = fams["ocidoctor_capability_score"]
                self.assertEqual(score.type, "gauge")
                self.assertEqual(len(score.samples), 1)
                self.assertEqual(score.samples[0][1], {"registry": self.urls[target],
                                                       "repository": "library/alpine"})
                self.assertEqual(score.samples[0][2], details["score"])
                self.assertEqual(score.samples[0][2], sum(1 for v in series.values() if v == 1))
        self.assertEqual(self.prometheus("scripted")["ocidoctor_capability_score"]
                         .samples[0][2], 5)
        # No capability matrix (the check did not run, or learnt nothing): no series.
        for target, extra in (("distribution", ("--check", "*.pull")), ("refused", ())):
            fams = self.prometheus(target, *extra)
            self.assertNotIn("ocidoctor_capability_supported", fams)
            self.assertNotIn("ocidoctor_capability_score", fams)

    def test_prometheus_run_duration(self):
        for target in self.urls:
            fams = self.prometheus(target)
            fam = fams["ocidoctor_run_duration_seconds"]
            self.assertEqual(fam.type, "gauge")
            self.assertEqual(len(fam.samples), 1)
            self.assertEqual(fam.samples[0][1], {"registry": self.urls[target],
                                                 "repository": "library/alpine"})
            self.assertGreaterEqual(fam.samples[0][2], 0.0)
            self.assertLess(fam.samples[0][2], 60.0)

    def test_prometheus_run_timestamp(self):
        # a textfile collector's user tells stale data by this
        for target in self.urls:
            fam = self.prometheus(target)["ocidoctor_run_timestamp_seconds"]
            self.assertEqual(fam.type, "gauge")
            self.assertEqual(len(fam.samples), 1)
            # the JSON report is another run of the same target, made nearby in time
            started = datetime.datetime.strptime(self.report(target)["startedAt"],
                                                 "%Y-%m-%dT%H:%M:%SZ")
            started = started.replace(tzinfo=datetime.timezone.utc).timestamp()
            self.assertEqual(fam.samples[0][2], int(fam.samples[0][2]))
            self.assertLess(abs(fam.samples[0][2] - started), 300)
            self.assertLess(abs(time.time() - fam.samples[0][2]), 900)

    def test_prometheus_repository_label_tells_runs_apart(self):
        a = self.prometheus("distribution")["ocidoctor_check_status"].samples
        code, out, err = self.doctor(["run", "--registry", self.urls["distribution"],
                                      "--repository", "team/other", "--format", "prometheus"])
        b = parse_exposition(out)["ocidoctor_check_status"].samples
        self.assertEqual({s[1]["repository"] for s in b}, {"team/other"})
        self.assertFalse({tuple(sorted(s[1].items())) for s in a} &
                         {tuple(sorted(s[1].items())) for s in b},
                         "two repositories on one registry give the same series")

    # -- html --

    def html(self, target, *extra):
        code, out, err = self.produce(target, "html", *extra)
        scan = scan_page(out)
        self.assertEqual(scan.problems, [], "%s: the page is not well nested" % target)
        return out, scan

    def test_html_is_self_contained(self):
        for target in self.urls:
            with self.subTest(target=target):
                page, scan = self.html(target)
                tags = [tag for tag, _ in scan.elements]
                self.assertNotIn("script", tags)
                self.assertNotIn("iframe", tags)
                self.assertNotIn("object", tags)
                for tag, attrs in scan.elements:
                    if tag == "link":
                        self.assertNotIn("stylesheet", (attrs.get("rel") or "").lower())
                    for name, value in attrs.items():
                        if name in URL_ATTRIBUTES and value:
                            self.assertFalse(re.match(r"\s*(https?:)?//", value, re.I),
                                             "<%s %s=%r> loads from elsewhere"
                                             % (tag, name, value))
                style = "".join(scan.style)
                self.assertTrue(style, "no inline style")
                self.assertNotIn("@import", style)
                self.assertNotIn("url(", style)
                self.assertEqual(tags[:1], ["html"])

    def test_html_has_every_check_and_capability(self):
        for target in self.urls:
            with self.subTest(target=target):
                page, scan = self.html(target)
                report = self.report(target)
                text = same_run_text(html.unescape("".join(scan.text)))
                ids = [attrs.get("id") for tag, attrs in scan.elements if tag == "section"]
                # a result blocked by another is listed in its cause's card;
                # what needs attention comes first: fail, warn, info, skip, pass
                self.assertEqual(ids, attention_order(report, unblocked_ids(report)))
                for result in report["results"]:
                    self.assertIn(result["checkId"], text)
                    if not result.get("blockedBy"):
                        self.assertIn(same_run_text(result["message"]), text)
                badges = [a.get("class").split()[1] for t, a in scan.elements
                          if t == "span" and "badge" in (a.get("class") or "")]
                status = {r["checkId"]: r["status"] for r in report["results"]}
                self.assertEqual(badges, [status[i] for i in ids])
                if target != "refused":
                    caps = self.capabilities(target)["capabilities"]
                    for name in CAPABILITIES:
                        self.assertIn(name, text)
                        state = caps[name]["state"]
                        self.assertIn('<tr><td>%s</td><td class="%s">%s</td>'
                                      % (name, state, state), page)

    def test_html_worst_first_and_cards_in_summary_order(self):
        for target in self.urls:
            with self.subTest(target=target):
                page, scan = self.html(target)
                worst = self.report(target)["summary"]["worst"]
                body = [(t, a) for t, a in scan.elements if t not in ("html", "head", "meta",
                                                                     "title", "style", "body")]
                # the heading, then the verdict, before anything else
                self.assertEqual(body[0][0], "h1")
                self.assertEqual((body[1][0], body[1][1].get("class")), ("div", "verdict " + worst))
                self.assertRegex(page, r'<div class="verdict %s"><b>%s</b>' % (worst, worst))
                cards = [a["class"].split()[1] for t, a in scan.elements
                         if t == "div" and (a.get("class") or "").startswith("card ")]
                self.assertEqual(cards, ["pass", "info", "warn", "fail", "skip"])

    def test_html_renders_in_chromium(self):
        if not os.access(CHROMIUM, os.X_OK):
            h.missing_program("%s is not installed (scripts/install-deps --test installs "
                              "Debian's chromium); the page was not rendered" % CHROMIUM)
        page, _ = self.html("distribution")
        work = h.scratch_dir("html-")
        page_file = os.path.join(work, "report.html")
        with open(page_file, "w", encoding="utf-8") as f:
            f.write(page)
        url = "file://" + page_file

        code, dom, err = run_chromium(CHROMIUM_FLAGS + [
            "--user-data-dir=" + os.path.join(work, "profile-dom"), "--dump-dom", url])
        self.assertEqual(code, 0, "chromium --dump-dom exited %d:\n%s" % (code, err[-2000:]))
        for check in h.check_ids():
            self.assertIn('id="%s"' % check, dom, "the DOM chromium loaded lacks %s" % check)
        for name in CAPABILITIES:
            self.assertIn(name, dom)

        png = os.path.join(work, "report.png")
        code, _, err = run_chromium(CHROMIUM_FLAGS + [
            "--user-data-dir=" + os.path.join(work, "profile-shot"), "--screenshot=" + png,
            "--window-size=1280,2000", url])
        self.assertEqual(code, 0, "chromium --screenshot exited %d:\n%s" % (code, err[-2000:]))
        self.assertTrue(os.path.isfile(png), "no screenshot written")
        shutil.copyfile(png, os.path.join(artifacts_dir(), "report.png"))
        with open(png, "rb") as f:
            data = f.read()
        self.assertGreater(len(data), 8 * 1024, "the screenshot is suspiciously small")
        width, height, colours = png_pixels(data)
        self.assertEqual((width, height), (1280, 2000))
        # The status cards are drawn with the page's inline CSS; finding
        # their exact background colours shows the style was applied.
        cards = {"pass": (0xda, 0xfb, 0xe1), "skip": (0xea, 0xee, 0xf2),
                 "info": (0xdd, 0xf4, 0xff), "warn": (0xff, 0xf8, 0xc5),
                 "fail": (0xff, 0xeb, 0xe9)}
        for status, rgb in cards.items():
            self.assertGreater(colours.get(bytes(rgb), 0), 100,
                               "the %s card colour #%02x%02x%02x is not in the screenshot"
                               % ((status,) + rgb))
        self.assertLess(colours.most_common(1)[0][1], sum(colours.values()) * 0.95,
                        "the screenshot is almost one colour")

    # -- --fail-on --

    def test_fail_on(self):
        expected = {
            # level: (warn-only run, failing run)
            None: (h.EXIT_WARN, h.EXIT_FAIL),
            "warn": (h.EXIT_WARN, h.EXIT_FAIL),
            "fail": (h.EXIT_OK, h.EXIT_FAIL),
            "never": (h.EXIT_OK, h.EXIT_OK),
        }
        self.assertEqual(self.report("distribution")["summary"]["worst"], "warn")
        self.assertEqual(self.report("refused")["summary"]["worst"], "fail")
        for level, codes in expected.items():
            extra = ("--fail-on", level) if level else ()
            for target, wanted in zip(("distribution", "refused"), codes):
                with self.subTest(fail_on=level, target=target):
                    code, out, err = self.produce(target, "json", *extra)
                    self.assertEqual(code, wanted, err)
                    # The report is the same whatever the exit status.
                    self.assertEqual(json.loads(out)["summary"]["worst"],
                                     self.report(target)["summary"]["worst"])

    def test_fail_on_from_environment_and_bad_values(self):
        url = self.urls["refused"]
        code, _, err = self.doctor(["run", "--registry", url], env={"OCIDOCTOR_FAIL_ON": "never"})
        self.assertEqual(code, h.EXIT_OK, err)
        code, _, err = self.doctor(["run", "--registry", url, "--fail-on", "warn"],
                                   env={"OCIDOCTOR_FAIL_ON": "never"})
        self.assertEqual(code, h.EXIT_FAIL, "a flag must win over the environment")
        code, out, err = self.doctor(["run", "--registry", url, "--fail-on", "sometimes"])
        self.assertEqual(code, h.EXIT_USAGE)
        self.assertEqual(out, "")
        self.assertIn("sometimes", err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)

    # -- text --

    LINE = re.compile(r"^  (PASS|SKIP|INFO|WARN|FAIL)  (check\.\S+)\s+(.*)$")
    SUMMARY = re.compile(r"^(?:Summary: |        )(\d+) pass, (\d+) info, (\d+) warn, (\d+) fail, (\d+) skip; "
                         r"worst: (PASS|SKIP|INFO|WARN|FAIL) \((\d+) requests? in (\d+) ms\)$")

    def text(self, target, *extra):
        code, out, err = self.produce(target, "text", *extra)
        self.assertNotIn("\033[", out, "colours although stdout is not a terminal")
        return out.split("\n")

    def test_text_check_lines_and_summary(self):
        for target in self.urls:
            with self.subTest(target=target):
                lines = self.text(target)
                report = self.report(target)
                self.assertTrue(lines[0].startswith("ocidoctor "), lines[0])
                self.assertIn(": %s (test image library/alpine:latest)" % self.urls[target],
                              lines[0])
                checks = [self.LINE.match(line) for line in lines]
                checks = [m for m in checks if m]
                self.assertEqual([m.group(2) for m in checks], unblocked_ids(report))
                for m in checks:
                    result = h.result_of(report, m.group(2))
                    self.assertEqual(m.group(1).lower(), result["status"])
                    self.assertEqual(same_run_text(m.group(3)), same_run_text(result["message"]))
                summaries = [self.SUMMARY.match(line) for line in lines]
                summaries = [m for m in summaries if m]
                self.assertEqual(len(summaries), 1, "\n".join(lines))
                m = summaries[0]
                counts = collections.Counter(r["status"] for r in report["results"])
                self.assertEqual([int(m.group(i)) for i in range(1, 6)],
                                 [counts[s] for s in ("pass", "info", "warn", "fail", "skip")])
                self.assertEqual(m.group(6).lower(), report["summary"]["worst"])

    def test_text_capability_table(self):
        for target in ("distribution", "scripted"):
            with self.subTest(target=target):
                lines = self.text(target)
                caps = self.capabilities(target)["capabilities"]
                at = [i for i, line in enumerate(lines) if CHECK_CAPS in line
                      and self.LINE.match(line)]
                self.assertEqual(len(at), 1)
                table = lines[at[0] + 1:at[0] + 6]
                for line, name in zip(table, CAPABILITIES):
                    m = re.match(r"^ {8}(\S+)\s+(supported|unsupported|unknown)\s+(.*)$", line)
                    self.assertTrue(m, "not a capability line: %r" % line)
                    self.assertEqual(m.group(1), name)
                    self.assertEqual(m.group(2), caps[name]["state"])
                    self.assertEqual(same_run_text(m.group(3)),
                                     same_run_text(caps[name].get("reason", "")))
                self.assertEqual(len(table), 5)
        # Without the capabilities check there is no table.
        lines = self.text("distribution", "--check", "*.pull")
        self.assertFalse([line for line in lines if line.strip().startswith("referrersApi")])

    def test_text_fix_lines(self):
        lines = self.text("distribution")
        report = self.report("distribution")
        for result in report["results"]:
            check = result["checkId"]
            see = "        see: ocidoctor explain " + check
            if result["status"] in ("pass", "skip"):
                self.assertNotIn(see, lines, check)
            else:
                self.assertIn(see, lines, check)
                fix = result["remediation"]["fix"]
                self.assertIn("        fix: " + fix["text"], lines)
                for command in fix["commands"]:
                    self.assertIn("             $ " + command, lines)

    # -- -o FILE --

    def test_output_file_for_every_format(self):
        work = h.scratch_dir("out-")
        for fmt in FORMATS:
            with self.subTest(format=fmt):
                path = os.path.join(work, "report." + fmt)
                code, out, err = self.doctor(["run", "--registry", self.urls["distribution"],
                                              "--format", fmt, "-o", path])
                self.assertEqual(code, h.EXIT_WARN, err)
                self.assertEqual(out, "", "-o still printed on stdout")
                with open(path, encoding="utf-8") as f:
                    content = f.read()
                self.assertTrue(content.endswith("\n"))
                self.assertNotIn("\033[", content)
                if fmt == "json":
                    self.assertSchemaValid(json.loads(content), "-o json")
                elif fmt == "junit":
                    names = [c.get("name") for c in ET.fromstring(content).iter("testcase")]
                    self.assertEqual(names, h.check_ids())
                elif fmt == "prometheus":
                    self.assertIn("ocidoctor_check_status", parse_exposition(content))
                elif fmt == "html":
                    self.assertTrue(content.startswith("<!DOCTYPE html>"))
                    self.assertEqual(scan_page(content).problems, [])
                elif fmt == "markdown":
                    self.assertTrue(content.startswith("## ocidoctor: "))
                else:
                    self.assertTrue(content.startswith("ocidoctor "))
                    self.assertIn("Summary: ", content)

    def test_output_file_that_cannot_be_written(self):
        path = os.path.join(h.scratch_dir("out-"), "missing-dir", "report.json")
        code, out, err = self.doctor(["run", "--registry", self.urls["refused"], "--format",
                                      "json", "-o", path])
        self.assertEqual(code, h.EXIT_USAGE, err)
        self.assertEqual(out, "")
        self.assertIn(path, err)
        self.assertFalse(os.path.exists(path))


if __name__ == "__main__":
    unittest.main()
