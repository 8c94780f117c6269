"""Commands mode never runs a usacloud command bash would not run: snippets read both ways.

bash runs each snippet with a ``usacloud`` function that records its arguments; commands mode's
reading (``parse_script``) must run the same argvs in the same order, skip them (a word that needs
the shell), or refuse the script.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from pytest_usacloud_sandbox.script.parse import ScriptError, parse_script

BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="bash is not installed")
RECORD = 'usacloud() {{ printf "%s\\0" "$@" >> {log}; printf "\\036" >> {log}; }}\nexport -f usacloud\n'


def bash_runs(text: str, tmp_path) -> list[tuple[str, ...]]:
    log, script, prologue = tmp_path / "log", tmp_path / "s.usacloud", tmp_path / "prologue"
    prologue.write_text(RECORD.format(log=log))
    script.write_text(text)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "BASH_ENV": str(prologue)}
    subprocess.run([BASH, str(script)], cwd=tmp_path, env=env, capture_output=True, timeout=30, check=False)
    data = log.read_bytes().decode() if log.exists() else ""
    return [tuple(call.split("\0")[:-1]) for call in data.split("\x1e")[:-1]]


def commands_mode_runs(text: str) -> list[tuple[str, ...]] | None:
    """The argvs commands mode would run, in order; None when it refuses the script."""
    try:
        parsed = parse_script(text)
    except ScriptError:
        return None
    if parsed.straight_line_error() is not None:
        return None
    return [tuple(c.words[1:]) for c in parsed.commands if c.expansion is None]


AGREE = {
    "ansi-c backslash-newline": "usacloud switch create -y --name x --description $'line one\\\nline two'\n",
    "descriptor variable": "usacloud switch list --names {fd}>/dev/null\nusacloud zone list {out}>&2\n",
    "tilde after = in an argument": "usacloud switch create -y --name x --description note=~/x\nusacloud zone list\n",
    "tilde after : in an argument": "usacloud switch create -y --name x --description a=b:~/x\n",
    "no tilde after --x=": "usacloud switch create -y --name x --description --x=~\n",
    "here-document line continued into the terminator": (
        "cat <<EOF\na line that ends in a backslash \\\nEOF\n"
        "usacloud switch create -y --name inside-the-heredoc-for-bash\nEOF\nusacloud zone list\n"
    ),
    "here-document terminator made by a continuation": "cat <<EOF\nE\\\nOF\nusacloud zone list\n",
    "quoted here-document keeps its backslashes": "cat <<'EOF'\nx \\\nEOF\nusacloud zone list\n",
    "here-document with an escaped backslash": "cat <<EOF\nx \\\\\nEOF\nusacloud zone list\n",
    "tab-stripped here-document continued": "cat <<-EOF\n\tx \\\n\tEOF\nusacloud a\nEOF\nusacloud zone list\n",
    "usacloud or exit": "usacloud a || exit 1\nusacloud b\n",
}

REFUSED = {
    "true and exit": "usacloud switch list\ntrue && exit 0\nusacloud switch create -y --name after\n",
    "colon and exit": "usacloud switch list\n: && exit 0\nusacloud switch create -y --name after\n",
    "assignment and exit": "usacloud switch list\nDONE=1 && exit 0\nusacloud switch create -y --name after\n",
    "alias that exits": (
        "shopt -s expand_aliases\nalias die='exit 1'\nusacloud switch list\ndie\nusacloud switch create -y --name a\n"
    ),
    "test or exit": '[ "${CONFIRMED:-no}" = yes ] || exit 0\nusacloud switch delete -y old\n',
    "test or a group that exits": '[ "${X:-no}" = yes ] || { echo "not confirmed"; exit 0; }\nusacloud zone list\n',
    "grep -q or exit": "grep -q '^ready$' /nonexistent || exit 0\nusacloud zone list\n",
    "cd or exit": "cd /nonexistent || exit 1\nusacloud zone list\n",
}


@pytest.mark.parametrize("text", AGREE.values(), ids=AGREE.keys())
def test_commands_mode_runs_what_bash_runs(text, tmp_path):
    ran = bash_runs(text, tmp_path)
    mine = commands_mode_runs(text)
    assert mine is not None, "refused"
    assert mine == [argv for argv in ran if argv in mine], (mine, ran)  # the same calls, in bash's order
    assert all(argv in ran for argv in mine), (mine, ran)


@pytest.mark.parametrize("text", REFUSED.values(), ids=REFUSED.keys())
def test_commands_mode_refuses_what_bash_might_not_run(text, tmp_path):
    ran = bash_runs(text, tmp_path)
    assert commands_mode_runs(text) is None
    assert len(ran) <= 1  # bash stops before the last command (the test shows it does)


def test_the_agreement_cases_say_what_bash_does(tmp_path):
    """The harness itself: bash's argvs for the cases whose words commands mode reads literally."""
    assert bash_runs(AGREE["ansi-c backslash-newline"], tmp_path)[0][-1] == "line one\\\nline two"
    (tmp_path / "log").unlink()
    assert bash_runs(AGREE["descriptor variable"], tmp_path) == [("switch", "list", "--names"), ("zone", "list")]
    (tmp_path / "log").unlink()
    assert bash_runs(AGREE["tilde after = in an argument"], tmp_path)[0][-1] == f"note={tmp_path}/x"


# -- redirections: bash runs no command whose redirection it cannot open ------------------------------

REDIRECT_REFUSED = {
    "output into a missing directory": "set -e\nusacloud switch list -o json > artifacts/before.json\nusacloud b\n",
    "output into a missing directory, no set -e": "usacloud a > artifacts/x && usacloud b\n",
    "input that does not exist": "usacloud a < missing.json\n",
    "output onto a directory": "usacloud a > sub\n",
    "a descriptor nobody opened": "usacloud a >&3\n",
    "read-write in a missing directory": "usacloud a <> nowhere/x\n",
}
REDIRECT_OK = {
    "output next to the script": "usacloud a > out.json\nusacloud b >> out.json 2>&1\n",
    "into a subdirectory that exists": "usacloud a > sub/out.json\n",
    "input that exists": "usacloud a < in.json\n",
    "standard descriptors": "usacloud a 2>&1 >/dev/null <&0\nusacloud b >&2\n",
    "the null device": "usacloud a &>/dev/null\n",
}


def load_runs(text: str, tmp_path) -> list[tuple[str, ...]] | None:
    """What commands mode would run from the script at tmp_path (its redirections checked there)."""
    from pytest_usacloud_sandbox.script.load import load_script

    path = tmp_path / "s.usacloud"
    path.write_text(text)
    try:
        parsed = load_script(path)
    except ScriptError:
        return None
    return [tuple(c.words[1:]) for c in parsed.commands if c.expansion is None]


@pytest.fixture
def beside(tmp_path):
    """A script's directory holding `sub/` and `in.json`."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "in.json").write_text("{}")
    return tmp_path


@pytest.mark.parametrize("text", REDIRECT_REFUSED.values(), ids=REDIRECT_REFUSED.keys())
def test_a_redirection_bash_cannot_open_refuses_the_script(text, beside):
    mine = load_runs(text, beside)
    ran = bash_runs(text, beside)
    assert mine is None
    assert ran in ([], [("b",)]) and ran[:1] != [("a",)]  # bash did not run the redirected command


def test_a_descriptor_the_shell_opened_is_refused_too(beside):
    """Commands mode skips the `exec 3>log` that opens it: bash would run the command, commands mode
    cannot give it that descriptor (a script that needs it belongs in shell mode)."""
    assert load_runs("exec 3>log\nusacloud a >&3\n", beside) is None


@pytest.mark.parametrize("text", REDIRECT_OK.values(), ids=REDIRECT_OK.keys())
def test_redirections_bash_can_open_run(text, beside):
    mine = load_runs(text, beside)
    assert mine is not None and mine == bash_runs(text, beside)


# -- what bash would not run: conditional expansions, [[ ]], wrappers and PATH redefined, noexec, traps ------

LOGGER = '#!/bin/sh\nprintf "%s\\0" "$@" >> {log}\nprintf "\\036" >> {log}\n'
NOT_RUN_BY_BASH = {
    "default expansion of a set variable": "x=set\necho ${x:-$(usacloud server list)}\nusacloud zone list\n",
    "alternate expansion of an unset variable": "echo ${x:+$(usacloud server list)}\nusacloud zone list\n",
    "assign-default of a set variable": "x=1\n: ${x:=$(usacloud server list)}\nusacloud zone list\n",
    "quoted default expansion": 'x=1\necho "${x:-$(usacloud server list)}"\n',
    "default without colon": "y=\nx=${y-$(usacloud server list)}\n",
    "pattern substitution of an unset variable": "echo ${x/$(usacloud server list)/}\n",
    "[[ || ]] short-circuit": "[[ -n x || $(usacloud server list) ]]\nusacloud zone list\n",
    "[[ && ]] short-circuit": "[[ -z x && $(usacloud server list) ]]\nusacloud zone list\n",
    "nohup aliased to exit": "shopt -s expand_aliases\nalias nohup='exit 0;'\nnohup usacloud zone list\n",
    "command aliased": 'shopt -s expand_aliases\nalias command="echo"\ncommand usacloud zone list\n',
    "env aliased": 'shopt -s expand_aliases\nalias env="echo"\nenv usacloud zone list\n',
    "env as a function": 'env() { echo "$@"; }\nenv usacloud zone list\n',
    "set -eo noexec": "set -eo noexec\nusacloud zone list\n",
    "shopt -so noexec": "shopt -so noexec\nusacloud zone list\n",
    "a DEBUG trap that exits": 'trap "exit" DEBUG\nusacloud server list\n',
    "an ERR trap that exits": 'trap "exit 0" ERR\nfalse\nusacloud zone list\n',
    "PATH emptied": "PATH=/nonexistent\nusacloud zone list\n",
    "PATH to a wrapper": 'PATH="$PWD/mock:$PATH"\nusacloud switch create -y --name from-wrapper\n',
    "a local usacloud": "./usacloud switch create -y --name from-wrapper\n",
}


def bash_runs_on_path(text: str, tmp_path) -> list[tuple[str, ...]]:
    """What bash runs of the usacloud on PATH (a logging program, no function), with a `usacloud` in the
    script's directory and in `mock/` that only prints."""
    log, script, bin_dir = tmp_path / "log", tmp_path / "s.usacloud", tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "mock").mkdir()
    for path, body in ((bin_dir, LOGGER.format(log=log)), (tmp_path, 'echo "dry: usacloud $*"\n')):
        (path / "usacloud").write_text(body if body.startswith("#!") else "#!/bin/sh\n" + body)
        (path / "usacloud").chmod(0o755)
    (tmp_path / "mock" / "usacloud").write_bytes((tmp_path / "usacloud").read_bytes())
    (tmp_path / "mock" / "usacloud").chmod(0o755)
    script.write_text(text)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    subprocess.run([BASH, str(script)], cwd=tmp_path, env=env, capture_output=True, timeout=30, check=False)
    data = log.read_bytes().decode() if log.exists() else ""
    return [tuple(call.split("\0")[:-1]) for call in data.split("\x1e")[:-1]]


@pytest.mark.parametrize("text", NOT_RUN_BY_BASH.values(), ids=NOT_RUN_BY_BASH.keys())
def test_commands_mode_refuses_a_script_whose_usacloud_commands_bash_might_not_run(text, tmp_path):
    """Each script has a usacloud command that bash does not run (the harness shows it); reading the
    script line by line would run it: commands mode refuses the script, and so does the lint."""
    ran = bash_runs_on_path(text, tmp_path)
    read = [tuple(c.words[1:]) for c in parse_script(text).commands if c.expansion is None]
    assert [argv for argv in read if argv not in ran], (read, ran)
    assert commands_mode_runs(text) is None
    assert load_runs(text, tmp_path) is None
