"""`cmake --install BUILD --prefix P`: the binary, ocidoctor(1), completions.

The build directory is the one the binary under test was built in. The
manual page and the completions are generated from the option tables and
the knowledge base, so every option `run --help` lists and every check id
`list` prints must be in them: the page must render with `man -l` (and
groff must have nothing to warn about), bash must complete subcommands,
options, formats and check ids, and zsh must load the completion function
for `ocidoctor`.

The page also carries what a user copies: the examples, the formats of the
config, targets and modules files, the serve module keys and the exporter's
metrics. ManPageContentTest holds those to the program: every key
serve_config.c's load_key() accepts and every series a running exporter
answers must be in the page, and every example command must parse.
"""

import json
import os
import pty
import re
import select
import shlex
import shutil
import subprocess
import time
import unittest

import harness as h
import scripted_registry as sr
import serve_harness as sh


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


def man_text(man):
    """The page as `man -l` renders it: wide, not hyphenated, not justified,
    so that a long name stays whole on one line."""
    env = dict(os.environ, MANWIDTH="200", MANPAGER="cat", PAGER="cat")
    proc = subprocess.run([tool("man"), "--nh", "--nj", "-l", man], capture_output=True,
                          text=True, env=env)
    if proc.returncode != 0:
        raise AssertionError("man -l %s: %s" % (man, proc.stderr))
    return proc.stdout


def man_section(page, title, next_title):
    """The rendered text from the heading line title to the heading next_title."""
    m = re.search(r"(?ms)^%s$(.*?)^%s$" % (re.escape(title), re.escape(next_title)), page)
    if not m:
        raise AssertionError("no section %r followed by %r in the page" % (title, next_title))
    return m.group(1)


def roff_examples(man):
    """The shell lines of the page's EXAMPLES (its .nf blocks), unescaped,
    with backslash-continued lines joined."""
    with open(man, encoding="utf-8") as f:
        roff = f.read()
    m = re.search(r"(?ms)^\.SH EXAMPLES\n(.*?)^\.SH ", roff)
    if not m:
        raise AssertionError("no EXAMPLES section in the page")
    lines = []
    for block in re.findall(r"(?ms)^\.nf\n(.*?)^\.fi$", m.group(1)):
        text = block.replace("\\&", "").replace("\\-", "-").replace("\\e", "\\")
        lines += text.replace("\\\n", " ").splitlines()
    return lines


EXAMPLE_VARS = {"REGISTRY": "registry.example.com", "REGISTRY_TOKEN": "example-token"}


def ocidoctor_commands(line):
    """The argument lists of the ocidoctor commands on a shell line (in a
    pipe, after variable assignments); $VAR from EXAMPLE_VARS."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars="|&;<>")
    lexer.whitespace_split = True
    commands, words = [], []
    for token in list(lexer) + [";"]:
        if token and set(token) <= set("|&;<>"):
            while words and re.match(r"^[A-Za-z_]\w*=", words[0]):
                words.pop(0)
            if words and words[0] == "ocidoctor":
                commands.append(words[1:])
            words = []
            continue
        for name in re.findall(r"\$(\w+)", token):
            if name not in EXAMPLE_VARS:
                raise AssertionError("example uses $%s, which the test does not know: %s"
                                     % (name, line))
            token = token.replace("$" + name, EXAMPLE_VARS[name])
        words.append(token)
    return commands


def help_options(command):
    """The options `ocidoctor COMMAND --help` lists, long and short."""
    code, out, err = h.run_doctor([command, "--help"])
    if code != 0:
        raise AssertionError("%s --help: %s" % (command, err))
    head = out.split("\nalso set by", 1)[0]
    found = set()
    for short, long in re.findall(r"(?m)^\s+(?:(-\w), )?(--[a-z][a-z0-9.-]*)", head):
        found.add(long)
        if short:
            found.add(short)
    return found


def source_of(path, function):
    """The body of a static function of a C file of the tree."""
    with open(os.path.join(h.REPO_ROOT, path), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"(?ms)^static int %s\(.*?^}$" % function, text)
    if not m:
        raise AssertionError("no function %s in %s" % (function, path))
    return m.group(0)


class ManPageContentTest(h.DoctorTestCase):
    """The sections of the page a user copies from, held to the program."""

    longMessage = False   # a failure says which name is missing, not the whole section

    @classmethod
    def setUpClass(cls):
        cls.man = os.path.join(os.path.dirname(h.doctor_binary()), "ocidoctor.1")
        cls.page = man_text(cls.man)
        cls.plain = cls.start_server(sr.ScriptedRegistry(referrers="index"))
        cls.tls = cls.start_server(sr.ScriptedRegistry(tls=True, tls_days=1))
        cls.tokens = cls.start_server(h.TokenServer(expires_in=42))
        cls.token_reg = cls.start_server(sr.ScriptedRegistry(
            auth="token", token_realm=cls.tokens.realm, token_service=cls.tokens.service))
        cls.exporter = cls.start_server(sh.Exporter(config="""modules:
  default:
    writes: none
  internal:
    ca_file: %s
  writing:
    writes: probe
    scratch_repository: ci/ocidoctor-scratch
""" % cls.tls.ca_file))

    def test_sections_render(self):
        for heading in ("FILE FORMATS", "EXPORTER", "EXAMPLES", "SEE ALSO"):
            self.assertRegex(self.page, r"(?m)^%s$" % heading)
        for sub in ("The --config file of run, matrix and config", "The targets file of matrix",
                    "The modules file of serve (its --config)", "Metrics", "Scrape config"):
            self.assertRegex(self.page, r"(?m)^   %s$" % re.escape(sub))
        formats = man_section(self.page, "FILE FORMATS", "EXPORTER")
        # the config file's keys, the targets file's forms, a modules file
        for text in ("registryUrl", "testRepository", "OCIDOCTOR_WRITES", "registry-url",
                     "- registry: https://harbor.example.com", "modules:", "min_interval"):
            self.assertIn(text, formats)
        exporter = man_section(self.page, "EXPORTER", "EXIT STATUS")
        self.assertIn("metrics_path: /probe", exporter)

    def test_every_module_key_is_described(self):
        keys = re.findall(r'strcmp\(key, "(\w+)"\)', source_of("src/serve/serve_config.c", "load_key"))
        self.assertGreater(len(keys), 10)
        credentials = re.findall(r'strcmp\(key, "(\w+)"\)\)\n\s+return get_',
                                 source_of("src/serve/serve_config.c", "load_credential_key"))
        self.assertEqual(sorted(credentials), ["docker_config", "password_file", "username"])
        modules = man_section(self.page, "   The modules file of serve (its --config)", "EXPORTER")
        for key in keys:
            # the tag of its row in the key table: "       KEY", or in a list "       a, KEY, b"
            self.assertRegex(modules, r"(?m)^ {7}(?:\w+, )*%s(?:,|\s|$)" % key,
                             "module key %s is not described in the page" % key)
        for key in credentials:
            self.assertRegex(modules, r"\b%s\b" % key)

    def scrape_names(self, answer):
        self.assertEqual(answer.status, 200, answer)
        ok, out = sh.promtool_check_metrics(answer.body)
        self.assertTrue(ok, out)
        return set(re.findall(r"(?m)^# TYPE (\w+) ", answer.body))

    def test_every_metric_the_exporter_answers_is_described(self):
        names = set()
        names |= self.scrape_names(self.exporter.probe(self.plain.url))
        names |= self.scrape_names(self.exporter.probe(self.plain.url, module="writing"))
        names |= self.scrape_names(self.exporter.probe(self.tls.url, module="internal"))
        names |= self.scrape_names(self.exporter.probe(self.token_reg.url))
        names |= self.scrape_names(self.exporter.probe("http://127.0.0.1:%d" % h.free_port()))
        names |= self.scrape_names(self.exporter.get("/metrics"))
        # what these scrapes must have answered, so that the list is not short by accident
        for name in ("probe_success", "probe_ssl_earliest_cert_expiry", "probe_tls_version_info",
                     "ocidoctor_token_lifetime_seconds", "ocidoctor_probe_failure_info",
                     "ocidoctor_capability_supported", "ocidoctor_referrers_client_info",
                     "ocidoctor_exporter_probes_total", "process_open_fds"):
            self.assertIn(name, names)
        metrics = man_section(self.page, "   Metrics", "   Scrape config")
        for name in sorted(names):
            # the tag of its row: its name, with its labels, alone or in a list
            self.assertRegex(metrics, r"(?m)^ {7}(?:[\w{},]+, )*%s(?:\{|,|\s|$)" % name,
                             "metric %s is not described in the page" % name)

    def test_every_example_parses(self):
        commands = [c for line in roff_examples(self.man) for c in ocidoctor_commands(line)]
        used = {(c[0], w) for c in commands for w in c[1:]}
        # the examples the page promises
        for command, word in (("run", "--password-stdin"), ("run", "--ca-file"), ("run", "verify"),
                              ("run", "json"), ("run", "junit"), ("matrix", "--targets"),
                              ("matrix", "--credentials-for"), ("serve", "--config"),
                              ("serve", "--check-config"), ("explain", "--format")):
            self.assertIn((command, word), used)
        self.assertIn("run", [c[0] for c in commands])
        self.assertTrue(any("/probe?target=" in line for line in roff_examples(self.man)))
        files = h.scratch_dir("examples-")
        for args in commands:
            with self.subTest(args=args):
                self.check_example(args, files)

    def check_example(self, args, files):
        command, rest = args[0], args[1:]
        options = help_options(command)
        for word in rest:
            if word.startswith("-") and word != "-":
                self.assertIn(word.split("=", 1)[0], options,
                              "ocidoctor %s has no option %s" % (command, word))
        if command in ("run", "config"):
            code, out, err = h.run_doctor(["config"] + self.config_args(rest, files),
                                          stdin="secret\n")
            self.assertEqual(code, 0, "ocidoctor config %s: %s" % (" ".join(rest), err))
        elif command == "serve":
            path = os.path.join(files, "serve.yaml")
            with open(path, "w") as f:
                f.write("modules: {default: {writes: none}}\n")
            rest = [path if prev in ("--config", "--check-config") else w
                    for prev, w in zip([None] + rest, rest)]
            code, out, err = h.run_doctor(["serve"] + rest + ["--check-config", path])
            self.assertEqual(code, 0, err)
        elif command == "explain":
            code, out, err = h.run_doctor(["explain", "--no-pager"] + rest)
            self.assertEqual(code, 0, err)
            self.assertIn(rest[-1], out)
        elif command == "matrix":
            formats = re.search(r"--format FMT .*\((text, [a-z, ]+)", h.run_doctor(["matrix", "--help"])[1])
            for prev, word in zip(rest, rest[1:]):
                if prev == "--format":
                    self.assertIn(word, re.split(r", | or ", formats.group(1)))
        else:
            self.fail("an example of a command the test does not know: %s" % command)

    def config_args(self, rest, files):
        """run's arguments for `ocidoctor config`: the files it reads made up,
        and --format (config's own is text or json) checked against run's."""
        run_help = h.run_doctor(["run", "--help"])[1]
        formats = re.split(r", | or ", re.search(r"--format FMT .*\((text, [a-z, ]+)",
                                                 run_help).group(1))
        out, i = [], 0
        while i < len(rest):
            option, value = rest[i], rest[i + 1] if i + 1 < len(rest) else None
            i += 1
            if option == "--format":
                self.assertIn(value, formats)
                i += 1
                continue
            out.append(option)
            if option in ("--ca-file", "--cert", "--key", "--password-file", "--config"):
                path = os.path.join(files, os.path.basename(value))
                with open(path, "w") as f:
                    if option == "--config":
                        f.write("oci:\n  registryUrl: https://registry.example.com\n")
                out.append(path)
                i += 1
        return out


if __name__ == "__main__":
    unittest.main()
