"""`cmake --install BUILD --prefix P`: the binary, ocidoctor(1), completions.

The build directory is the one the binary under test was built in. The
manual page and the completions are generated from the option tables and
the knowledge base, so every option `run --help` lists and every check id
`list` prints must be in them: the page must render with `man -l` (and
groff must have nothing to warn about), bash must complete subcommands,
options, formats and check ids, and zsh must load the completion function
for `ocidoctor`.
"""

import json
import os
import pty
import re
import select
import shutil
import subprocess
import time
import unittest

import harness as h


def tool(name):
    path = shutil.which(name)
    if not path:
        raise AssertionError("%s is needed (scripts/install-deps --test)" % name)
    return path


def bash_tab(completion, typed):
    """What an interactive bash that sourced completion shows after typed
    and a TAB (its line, as readline completed it)."""
    master, slave = pty.openpty()
    home = h.scratch_dir("bash-")
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "TERM": "dumb", "PS1": "$ ",
           "INPUTRC": "/dev/null"}
    proc = subprocess.Popen([tool("bash"), "--norc", "--noprofile", "-i"], stdin=slave,
                            stdout=slave, stderr=slave, env=env, cwd=home,
                            start_new_session=True)
    os.close(slave)

    def read(until, timeout=10):
        out, end = "", time.time() + timeout
        while time.time() < end and until not in out:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    out += os.read(master, 65536).decode("utf-8", "replace")
                except OSError:
                    break
        return out

    try:
        os.write(master, ('source "%s"; echo sourced-ok\n' % completion).encode())
        read("sourced-ok\r\n$ ")
        os.write(master, typed.encode() + b"\t")
        shown = read(typed, 2)
        shown += read("\x00", 1)   # what the completion adds
        return shown
    finally:
        proc.kill()
        proc.wait()
        os.close(master)


class InstallTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        binary = h.doctor_binary()
        cls.prefix = h.scratch_dir("prefix-")
        proc = subprocess.run([tool("cmake"), "--install", os.path.dirname(binary),
                               "--prefix", cls.prefix], capture_output=True, text=True)
        if proc.returncode != 0:
            raise AssertionError("cmake --install failed: %s" % proc.stderr)
        cls.installed = os.path.join(cls.prefix, "bin", "ocidoctor")
        cls.man = os.path.join(cls.prefix, "share", "man", "man1", "ocidoctor.1")
        cls.bash = os.path.join(cls.prefix, "share", "bash-completion", "completions",
                                "ocidoctor")
        cls.zsh = os.path.join(cls.prefix, "share", "zsh", "site-functions", "_ocidoctor")
        _, out, _ = h.run_doctor(["run", "--help"])
        options, _, _ = out.partition("\nalso set by")
        cls.run_options = re.findall(r"(?m)^\s+(?:-\w, )?(--[a-z-]+)", options)
        _, out, _ = h.run_doctor(["list", "--format", "json"])
        cls.check_ids = [c["id"] for c in json.loads(out)]

    def test_binary(self):
        proc = subprocess.run([self.installed, "--version"], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0)
        self.assertRegex(proc.stdout, r"^ocidoctor \d")

    def test_man_page_renders_with_every_option_and_check(self):
        env = dict(os.environ, MANWIDTH="100", MANPAGER="cat", PAGER="cat")
        proc = subprocess.run([tool("man"), "-l", self.man], capture_output=True, text=True,
                              env=env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        page = proc.stdout
        self.assertIn("OCIDOCTOR(1)", page)
        for heading in ("NAME", "SYNOPSIS", "OPTIONS", "CHECKS", "EXIT STATUS"):
            self.assertRegex(page, r"(?m)^%s$" % heading)
        self.assertGreater(len(self.run_options), 20)
        for option in self.run_options:
            self.assertIn(option, page)
        for check in self.check_ids:
            self.assertIn(check, page)
        self.assertIn("rate-limit", page, "the causes' categories")
        proc = subprocess.run([tool("groff"), "-man", "-Tutf8", "-ww", "-z", self.man],
                              capture_output=True, text=True)
        self.assertEqual(proc.stderr, "", "groff warns")

    def complete_bash(self, *words):
        script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
                  '_ocidoctor; printf "%s\\n" "${COMPREPLY[@]}"')
        proc = subprocess.run([tool("bash"), "-c", script, "bash", self.bash, "ocidoctor"] +
                              list(words), capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout.split()

    def test_bash_completion(self):
        self.assertEqual(self.complete_bash("ma"), ["matrix"])
        self.assertIn("explain", self.complete_bash(""))
        self.assertEqual(self.complete_bash("run", "--form"), ["--format"])
        for option in self.run_options:
            self.assertIn(option, self.complete_bash("run", "--"))
        self.assertEqual(self.complete_bash("run", "--format", ""),
                         ["text", "json", "junit", "markdown", "prometheus", "html", "conformance"])
        self.assertEqual(self.complete_bash("matrix", "--format", ""),
                         ["text", "json", "csv", "html", "junit", "markdown", "prometheus"])
        self.assertEqual(self.complete_bash("run", "--platform", "k"), ["kubernetes"])
        self.assertEqual(self.complete_bash("run", "--check", ""), self.check_ids)
        self.assertEqual(self.complete_bash("explain", "check.integration.oci.pu"),
                         ["check.integration.oci.pull", "check.integration.oci.push"])

    def complete_bash_line(self, line, wordbreaks=None):
        """_ocidoctor for line as bash splits it (COMP_LINE, COMP_POINT; '='
        a word of its own when it is in COMP_WORDBREAKS, as by default)."""
        split = (lambda w: re.split(r"(=)", w)) if wordbreaks is None else (lambda w: [w])
        words = [p for w in line.split(" ") for p in split(w) if p]
        words += [""] if line.endswith(" ") else []
        script = ('source "$1"; COMP_LINE="$2"; COMP_POINT=${#COMP_LINE}; shift 2; '
                  + ('COMP_WORDBREAKS="%s"; ' % wordbreaks if wordbreaks is not None else '')
                  + 'COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
                  '_ocidoctor; printf "%s\\n" "${COMPREPLY[@]}"')
        proc = subprocess.run([tool("bash"), "-c", script, "bash", self.bash, line] + words,
                              capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout.split()

    def test_bash_completes_option_values_after_equals(self):
        # '=' splits words (bash's default): the value alone replaces what follows '='
        self.assertEqual(self.complete_bash_line("ocidoctor run --format=ju"), ["junit"])
        self.assertEqual(self.complete_bash_line("ocidoctor matrix --format="),
                         ["text", "json", "csv", "html", "junit", "markdown", "prometheus"])
        # '=' not a word break: the whole word, option and value, is replaced
        self.assertEqual(self.complete_bash_line("ocidoctor run --format=ma", wordbreaks=" "),
                         ["--format=markdown"])
        self.assertEqual(self.complete_bash_line("ocidoctor run --tags=refe"), ["referrers"])
        # and in a real interactive bash
        self.assertIn("ocidoctor run --format=junit ", bash_tab(self.bash, "ocidoctor run --format=ju"))
        self.assertIn("ocidoctor run --tags=referrers ", bash_tab(self.bash, "ocidoctor run --tags=refe"))

    def test_bash_completes_tags(self):
        _, out, _ = h.run_doctor(["list", "--format", "json"])
        tags = []
        for c in json.loads(out):
            tags += [t for t in c.get("tags", []) if t not in tags]
        self.assertGreater(len(tags), 3)
        self.assertEqual(self.complete_bash("run", "--tags", ""), tags)
        self.assertEqual(self.complete_bash("matrix", "--tags", "capa"), ["capabilities"])
        self.assertIn("ocidoctor run --tags capabilities ", bash_tab(self.bash, "ocidoctor run --tags capa"))

    def test_zsh_completion(self):
        zsh = tool("zsh")
        proc = subprocess.run([zsh, "-n", self.zsh], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        script = ('fpath=("$1" $fpath); autoload -U compinit; compinit -u -d "$2/zcompdump"; '
                  'print -r -- "$_comps[ocidoctor]"')
        proc = subprocess.run([zsh, "-f", "-c", script, "zsh", os.path.dirname(self.zsh),
                               h.scratch_dir("zsh-")], capture_output=True, text=True)
        self.assertEqual(proc.stdout.strip(), "_ocidoctor", proc.stderr)
        with open(self.zsh) as f:
            text = f.read()
        for option in self.run_options:
            # an option with a value takes it after '=' too (_arguments' --opt= form)
            self.assertRegex(text, r"'%s=?\[" % re.escape(option))
        self.assertIn("'--format=[", text)
        self.assertRegex(text, r"'--tags=\[[^']*:\(registry [^)]*capabilities")
        for check in self.check_ids:
            self.assertIn(check, text)
        self.assertIn("(text json junit markdown prometheus html conformance)", text)


if __name__ == "__main__":
    unittest.main()
