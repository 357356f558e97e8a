"""The HTML pages as a person sees them: headless Chromium at 1280 px.

The run report leads with what needs attention: its banner names the
checks that failed or warned, the first card under it is one of them
(above the fold of a 1280x800 window, before the capability matrix and
the passes), and no command is clipped (commands wrap). The matrix page
sizes its columns for their content: no heading broken inside a word, and
a long reason takes a few lines, not eight.
"""

import json
import os
import re
import shutil
import signal
import subprocess

import harness as h
import scripted_registry as sr

CHROMIUM = "/usr/bin/chromium"
USER = "layout"
PASSWORD = "pw-layout-51a9"

# Writes what the page looks like into its title, as JSON, for --dump-dom.
PROBE = """<script>
(function () {
  var out = {width: document.documentElement.scrollWidth, fold: window.innerHeight};
  var cards = document.querySelectorAll('section.check');
  out.cards = [];
  for (var i = 0; i < cards.length; i++)
    out.cards.push({id: cards[i].id, status: cards[i].querySelector('.badge').textContent,
                    top: cards[i].getBoundingClientRect().top + window.scrollY});
  var caps = document.evaluate("//h2[text()='Capabilities']", document, null, 9, null).singleNodeValue;
  out.capabilities = caps ? caps.getBoundingClientRect().top + window.scrollY : -1;
  out.clipped = 0;
  var pres = document.querySelectorAll('pre, code');
  for (var j = 0; j < pres.length; j++)
    if (pres[j].scrollWidth > pres[j].clientWidth + 1 ||
        pres[j].getBoundingClientRect().right > document.documentElement.clientWidth)
      out.clipped++;
  var v = document.querySelector('.verdict');
  out.verdict = v ? v.textContent : '';
  out.headings = [];
  var ths = document.querySelectorAll('th');
  for (var k = 0; k < ths.length; k++) {
    var lh = parseFloat(getComputedStyle(ths[k]).lineHeight) || 16;
    out.headings.push({text: ths[k].textContent,
                       lines: Math.round((ths[k].clientHeight - 8) / lh)});
  }
  out.reasons = [];
  var rs = document.querySelectorAll('td.reason');
  for (var m = 0; m < rs.length; m++) {
    var rl = parseFloat(getComputedStyle(rs[m]).lineHeight) || 16;
    var range = document.createRange();
    range.selectNodeContents(rs[m]);
    out.reasons.push({text: rs[m].textContent, width: rs[m].clientWidth,
                      lines: Math.round(range.getBoundingClientRect().height / rl)});
  }
  out.names = [];
  var rows = document.querySelectorAll('tr');
  for (var n = 1; n < rows.length; n++) {
    for (var q = 0; q < 2 && q < rows[n].cells.length; q++) {
      var cell = rows[n].cells[q], r2 = document.createRange();
      r2.selectNodeContents(cell);
      var nl = parseFloat(getComputedStyle(cell).lineHeight) || 16;
      out.names.push({text: cell.textContent, lines: Math.round(r2.getBoundingClientRect().height / nl)});
    }
  }
  document.title = 'probe=' + JSON.stringify(out);
})();
</script></body>"""


def render(test, page):
    """The probe's findings for page in a 1280x800 Chromium window."""
    if not os.access(CHROMIUM, os.X_OK):
        h.missing_program("%s is not installed (scripts/install-deps --test installs "
                          "Debian's chromium); the page was not rendered" % CHROMIUM)
    work = h.scratch_dir("html-layout-")
    test.addCleanup(shutil.rmtree, work, True)
    path = os.path.join(work, "page.html")
    with open(path, "w") as f:
        f.write(page.replace("</body>", PROBE))
    proc = subprocess.Popen([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                             "--no-first-run", "--disable-background-networking",
                             "--user-data-dir=" + os.path.join(work, "profile"),
                             "--window-size=1280,800", "--dump-dom", "file://" + path],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=True, cwd=work,
                            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                 "HOME": work, "DBUS_SESSION_BUS_ADDRESS": "disabled:"})
    try:
        dom, _ = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    m = re.search(r"<title>probe=(.*?)</title>", dom.decode("utf-8", "replace"), re.S)
    test.assertTrue(m, dom[:500])
    import html
    return json.loads(html.unescape(m.group(1)))


class RunPageTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(users={USER: PASSWORD}))

    def secrets(self):
        return (PASSWORD,)

    def test_attention_first_and_named(self):
        code, page, err = self.doctor(["run", "--registry", self.registry.url, "--repository",
                                       "team/app", "--tag", "1.0", "--format", "html"])
        self.assertEqual(code, h.EXIT_FAIL, err)
        shown = render(self, page)
        self.assertLessEqual(shown["width"], 1280, "the page scrolls sideways")
        statuses = [c["status"] for c in shown["cards"]]
        # fail, then warn, then the rest; passes last
        order = {"fail": 0, "warn": 1, "info": 2, "skip": 3, "pass": 4}
        self.assertEqual(statuses, sorted(statuses, key=order.get), shown["cards"])
        first = shown["cards"][0]
        self.assertEqual(first["status"], "fail")
        self.assertLess(first["top"], shown["fold"], "the first failing check is below the fold")
        self.assertLess(first["top"], shown["capabilities"])
        # the banner names every check that failed or warned
        for card in shown["cards"]:
            if card["status"] in ("fail", "warn"):
                self.assertIn(card["id"].rsplit(".", 1)[1], shown["verdict"])
        self.assertRegex(shown["verdict"], r"\d+ checks failed: .*; \d+ warned: ")
        self.assertIn('<a href="#check.integration.oci.credentials">credentials</a>', page)
        # long commands wrap instead of being clipped
        self.assertIn("--password-stdin --repository team/app --tag 1.0</pre>", page)
        self.assertEqual(shown["clipped"], 0)


class MatrixPageTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.basic = cls.start_server(h.Registry(users={USER: PASSWORD}))
        cls.poor = cls.start_server(sr.ScriptedRegistry(referrers="404-plain"))
        cls.dir = h.scratch_dir("matrix-layout-")
        cls.targets = os.path.join(cls.dir, "targets.txt")
        with open(cls.targets, "w") as f:
            for url in (cls.basic.url, cls.poor.url, "http://127.0.0.1:%d" % h.free_port()):
                f.write("%s library/alpine:latest\n" % url)

    def secrets(self):
        return (PASSWORD,)

    def test_columns_sized_for_content(self):
        code, page, err = self.doctor(["matrix", "--no-progress", "--targets", self.targets,
                                       "--format", "html"])
        self.assertEqual(code, h.EXIT_FAIL, err)
        shown = render(self, page)
        self.assertLessEqual(shown["width"], 1280, "the table scrolls sideways")
        self.assertTrue(shown["headings"])
        for th in shown["headings"]:
            self.assertEqual(th["lines"], 1, "heading %r is broken over lines" % th["text"])
        # registries and images read whole, on one line
        self.assertEqual(len(shown["names"]), 6)
        for name in shown["names"]:
            self.assertEqual(name["lines"], 1, name)
        # the reason takes what is left: wide, so a long one needs a few lines
        self.assertEqual(len(shown["reasons"]), 3)
        for reason in shown["reasons"]:
            self.assertGreaterEqual(reason["width"], 380, reason)
            self.assertLessEqual(reason["lines"], max(3, len(reason["text"]) // 40), reason)
        self.assertTrue(any(len(r["text"]) > 150 for r in shown["reasons"]), shown["reasons"])
