"""The text report wraps to the terminal, and not when piped.

On a terminal (a pseudo-terminal here) every line of `ocidoctor run`'s
text report fits the window's width (TIOCGWINSZ, else $COLUMNS), a
wrapped line going on under the start of its text (a hanging indent);
a suggested command is broken only between words a shell reads apart,
each broken line ending in " \\", so pasted it is the same command.
Through a pipe (or -o) the lines stay whole whatever $COLUMNS says.
"""

import fcntl
import os
import pty
import re
import shlex
import struct
import subprocess
import termios

import harness as h

USER = "wrapper"
PASSWORD = "pw-wrap-7d2e"
TIMING = re.compile(r"in \d+ ms")
HOME = "/nonexistent-ocidoctor-home"   # the same paths in every run's messages


def assert_fits(test, shown, cols):
    """Every line fits cols, but one holding a single word too long for any line."""
    for line in shown.splitlines():
        if len(line) > cols:
            test.assertEqual(len(line.split()), 1, "line over %d columns:\n%s" % (cols, shown))


def run_on_pty(args, cols, env=None):
    """Runs the binary with stdout on a pseudo-terminal cols wide (0: no
    size set); returns (code, what the terminal showed)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    proc = subprocess.Popen([h.doctor_binary()] + args, stdout=slave, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=h.doctor_env(env, home=HOME))
    os.close(slave)
    out = h.read_terminal(master, 30)
    proc.stderr.read()
    proc.stderr.close()
    code = proc.wait(60)
    return code, out.decode().replace("\r\n", "\n")


def words(text):
    """The report's words in order, whatever the line breaks (a command's
    " \\" breaks joined first), without the run's timing."""
    return TIMING.sub("", re.sub(r" \\\n", " ", text)).split()


def commands(text):
    """The suggested commands, each with its broken lines joined as a shell does."""
    found = []
    for m in re.finditer(r"(?m)^ +\$ ((?:.* \\\n)*.*)$", text):
        found.append(re.sub(r"\\\n", "", m.group(1)))
    return found


class WrapTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.start_server(h.Registry(users={USER: PASSWORD}))

    def secrets(self):
        return (PASSWORD,)

    def args(self):
        # no credentials: long messages and long suggested commands
        return ["run", "--registry", self.registry.url, "--repository", "team/app",
                "--tag", "1.0", "--no-color"]

    def piped(self, env=None):
        env = dict(env or {}, HOME=HOME)
        code, out, err = self.doctor(self.args(), env=env)
        self.assertEqual(code, h.EXIT_FAIL, err)
        return out

    def test_lines_fit_the_terminal(self):
        whole = self.piped()
        self.assertTrue(any(len(line) > 100 for line in whole.splitlines()), whole)
        for cols in (72, 100):
            with self.subTest(cols=cols):
                code, shown = run_on_pty(self.args(), cols)
                self.assertEqual(code, h.EXIT_FAIL, shown)
                lines = shown.splitlines()
                assert_fits(self, shown, cols)
                self.assertEqual(words(shown), words(whole))
                # a result's message goes on under its start (column 43)
                i = next(i for i, line in enumerate(lines)
                         if line.startswith("  FAIL  check.integration.oci.credentials "))
                self.assertRegex(lines[i + 1], r"^ {43}\S", shown)
                # a fix's text under its start, a command's under its first word
                fix = next(i for i, line in enumerate(lines) if line.startswith("        fix: "))
                self.assertRegex(lines[fix + 1], r"^ {13}\S", shown)

    def test_commands_paste_as_one(self):
        whole = commands(self.piped())
        code, shown = run_on_pty(self.args(), 72)
        wrapped = commands(shown)
        self.assertTrue(any(c.endswith(" \\") for c in shown.splitlines()), shown)
        self.assertEqual(len(wrapped), len(whole))
        for a, b in zip(wrapped, whole):
            self.assertEqual(shlex.split(a), shlex.split(b))
        # the quoted '%s' and "$PASSWORD" are never cut
        self.assertIn("$ printf '%s' \"$PASSWORD\" | ", shown)

    def test_columns_when_the_terminal_has_no_size(self):
        code, shown = run_on_pty(self.args(), 0, env={"COLUMNS": "60"})
        self.assertEqual(code, h.EXIT_FAIL, shown)
        assert_fits(self, shown, 60)
        self.assertGreater(len(shown.splitlines()), len(self.piped().splitlines()))

    def test_a_pipe_or_a_file_is_not_wrapped(self):
        whole = self.piped(env={"COLUMNS": "60"})
        self.assertRegex(whole, r"(?m)^  FAIL  check\.integration\.oci\.credentials .{100,}$")
        self.assertNotRegex(whole, r" \\\n")
        path = os.path.join(h.scratch_dir("wrap-"), "report.txt")
        code, shown = run_on_pty(self.args() + ["-o", path], 60)
        with open(path) as f:
            text = f.read()
        self.assertRegex(text, r"(?m)^  FAIL  check\.integration\.oci\.credentials .{100,}$")
        self.assertEqual(words(text), words(whole))
