"""`ocidoctor explain`: a page rendered for a terminal, or as written.

Without --format the page is rendered: no Markdown markup left (no "## "
headings, no code fences), headings underlined, and every line that is not
a command within the width ($COLUMNS when standard output is not a
terminal). `--format markdown` gives the page as written (test_selection.py
compares it with docs/checks). On a terminal (a pseudo-terminal here) the
page goes through $PAGER; --no-pager and PAGER=cat write it directly.
"""

import os
import pty
import subprocess
import unittest

import harness as h

PULL = "check.integration.oci.pull"


def run_on_pty(args, env):
    """Runs the binary with stdout on a pseudo-terminal; returns (code, output)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([h.doctor_binary()] + args, stdout=slave, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=h.doctor_env(env))
    os.close(slave)
    out = h.read_terminal(master, 10)
    code = proc.wait(10)
    proc.stderr.close()
    return code, out.decode("utf-8", "replace")


class ExplainTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        h.doctor_binary()

    def test_rendered_for_a_terminal(self):
        for check in h.check_ids():
            with self.subTest(check=check):
                code, out, err = self.doctor(["explain", check], env={"COLUMNS": "70"})
                self.assertEqual(code, h.EXIT_OK, err)
                self.assertTrue(out.startswith(check + "\n" + "=" * len(check) + "\n"), out[:200])
                self.assertIn("\nRemediation\n-----------\n", out)
                self.assertNotIn("```", out)
                self.assertNotRegex(out, r"(?m)^#+ ")
                self.assertNotIn("**", out)
                for line in out.splitlines():
                    if not line.startswith("    ") and " " in line.strip():
                        self.assertLessEqual(len(line), 70, line)

    def test_markdown_is_the_page(self):
        code, out, err = self.doctor(["explain", "--format", "markdown", PULL])
        self.assertEqual(code, h.EXIT_OK, err)
        self.assertTrue(out.startswith("# " + PULL + "\n"))
        self.assertIn("```sh\n", out)
        code, out, err = self.doctor(["explain", "--format", "yaml", PULL])
        self.assertEqual(code, h.EXIT_USAGE)

    def test_pager_on_a_terminal(self):
        paged = os.path.join(h.scratch_dir("pager-"), "paged.txt")
        code, shown = run_on_pty(["explain", PULL], {"PAGER": "cat > '%s'" % paged})
        self.assertEqual(code, h.EXIT_OK)
        with open(paged) as f:
            page = f.read()
        self.assertTrue(page.startswith(PULL + "\n==="), page[:100])
        self.assertNotIn("What it checks", shown, "the page went to the terminal, not the pager")
        code, shown = run_on_pty(["explain", "--no-pager", PULL], {"PAGER": "false"})
        self.assertEqual(code, h.EXIT_OK)
        self.assertIn("What it checks", shown)
        code, shown = run_on_pty(["explain", PULL], {"PAGER": "cat"})
        self.assertIn("What it checks", shown)


if __name__ == "__main__":
    unittest.main()
