"""Straight-line scripts: which usacloud commands bash might not run in line order."""

from __future__ import annotations

import textwrap

import pytest

from pytest_usacloud_sandbox.script.parse import ParsedScript, parse_script


def controls(src: str) -> list[tuple[int, str, int, str] | tuple[int, str]]:
    """(line, first word, construct line, construct) per command; (line, first word) when straight-line."""
    out = []
    for c in parse_script(textwrap.dedent(src)).commands:
        word = c.words[1] if len(c.words) > 1 else ""
        out.append((c.line, word) if c.control is None else (c.line, word, c.control.line, c.control.construct))
    return out


NOT_STRAIGHT = [
    # the four examples
    ("if false; then usacloud delete; fi", [(1, "delete", 1, "if")]),
    ("f() { usacloud delete; }", [(1, "delete", 1, "function f")]),
    ("exit 0\nusacloud delete", [(2, "delete", 1, "exit")]),
    ("usacloud read || usacloud create", [(1, "read"), (1, "create", 1, "||")]),
    # every construct
    (
        "if usacloud cond\nthen\n  echo\nelif x; then\n  usacloud b\nelse usacloud c; fi",
        [(1, "cond", 1, "if"), (5, "b", 1, "if"), (6, "c", 1, "if")],
    ),
    ("while true; do\n  usacloud a\ndone", [(2, "a", 1, "while")]),
    ("until usacloud a; do :; done", [(1, "a", 1, "until")]),
    ("for i in 1 2; do usacloud a; done", [(1, "a", 1, "for")]),
    ("for id in $(usacloud list -q); do :; done", [(1, "list", 1, "for")]),
    ("select x in a; do usacloud a; done", [(1, "a", 1, "select")]),
    ("case $1 in\n  a) usacloud a ;;\nesac", [(2, "a", 1, "case")]),
    ("function g {\n  usacloud a\n}\nusacloud b", [(2, "a", 1, "function g"), (4, "b")]),
    ("h() (\n  usacloud a\n)", [(2, "a", 1, "function h")]),
    ("usacloud a &\nusacloud b", [(1, "a", 1, "&"), (2, "b")]),
    ("{ usacloud a; usacloud b; } &", [(1, "a", 1, "&"), (1, "b", 1, "&")]),
    ("( usacloud a ) &", [(1, "a", 1, "&")]),
    ("echo $(usacloud a) &", [(1, "a", 1, "&")]),
    ("coproc usacloud a", [(1, "a", 1, "coproc")]),
    ("! usacloud a && usacloud b", [(1, "a", 1, "!"), (1, "b")]),
    ("usacloud a ||\n  usacloud b", [(1, "a"), (2, "b", 1, "||")]),
    ("usacloud a || { usacloud b; }", [(1, "a"), (1, "b", 1, "||")]),
    ("( usacloud a ) || usacloud b", [(1, "a"), (1, "b", 1, "||")]),
    ("x || echo $(usacloud a)", [(1, "a", 1, "||")]),
    ("usacloud a && exit 0\nusacloud b", [(1, "a"), (2, "b", 1, "exit")]),
    ("exec usacloud a\nusacloud b", [(1, "a"), (2, "b", 1, "exec")]),
    ("exec bash other.sh\nusacloud b", [(2, "b", 1, "exec")]),
    ("return\nusacloud a", [(2, "a", 1, "return")]),
    ("{ echo bye; exit 0; }\nusacloud a", [(2, "a", 1, "exit")]),
    ("( usacloud a; exit 1; usacloud b )\nusacloud c", [(1, "a"), (1, "b", 1, "exit"), (2, "c")]),
    ("if x; then\n  if y; then usacloud a; fi\nfi", [(2, "a", 1, "if")]),  # the outermost construct
    # after `&&` that follows a command commands mode does not run (hostile review): bash runs the
    # usacloud command only if that command succeeds
    ("test -f /nonexistent/ok && usacloud create", [(1, "create", 1, "&&")]),
    ("false && usacloud create", [(1, "create", 1, "&&")]),
    ('[ "$X" = yes ] &&\n  usacloud delete', [(2, "delete", 1, "&&")]),
    ("[[ -f x ]] && usacloud a", [(1, "a", 1, "&&")]),
    ("(( n > 1 )) && usacloud a", [(1, "a", 1, "&&")]),
    ("X=$(date) && usacloud a", [(1, "a", 1, "&&")]),
    ("usacloud a && grep -q x f && usacloud b", [(1, "a"), (1, "b", 1, "&&")]),
    ("if test -f x; then :; fi && usacloud a", [(1, "a", 1, "&&")]),
    ("{ cd dir; } && usacloud a", [(1, "a", 1, "&&")]),
    ("( cd dir && usacloud a )", [(1, "a", 1, "&&")]),
    # second hostile review: what ends the script before a later usacloud command
    (': "${CONFIRM:?set CONFIRM}"\nusacloud create', [(2, "create", 1, "${:?}")]),
    ("X=${CONFIRM?}\nusacloud create", [(2, "create", 1, "${:?}")]),
    ('usacloud a --name "${N:?}"\nusacloud b', [(1, "a"), (2, "b", 1, "${:?}")]),
    ("command exit 0\nusacloud create", [(2, "create", 1, "exit")]),
    ("builtin exit 0\nusacloud create", [(2, "create", 1, "exit")]),
    ("logout\nusacloud create", [(2, "create", 1, "logout")]),
    ("[ -f .done ] && exit 0\nusacloud create", [(2, "create", 1, "exit")]),
    ("< /nonexistent && usacloud create", [(1, "create", 1, "&&")]),
    # an exit inside a top-level if/case/loop, or in a function the script calls, may end the script
    (
        'if [ "${APPLY:-no}" != yes ]; then echo dry; exit 0; fi\nusacloud server create -y --name a',
        [(2, "server", 1, "exit")],
    ),
    ("if ! command -v jq; then exit 1; fi\nusacloud a", [(2, "a", 1, "exit")]),
    ('case "$1" in\n  -h) echo usage; exit 1;;\nesac\nusacloud a', [(4, "a", 2, "exit")]),
    ("for f in a b; do\n  [ -f $f ] || exit 1\ndone\nusacloud a", [(4, "a", 2, "exit")]),
    ("while read -r x; do logout; done < list\nusacloud a", [(2, "a", 1, "logout")]),
    ("if x; then\n  if y; then exit 1; fi\nfi\nusacloud a", [(4, "a", 2, "exit")]),
    (
        'confirm() {\n  read -r answer\n  [ "$answer" = y ] || exit 1\n}\nconfirm\nusacloud delete',
        [(6, "delete", 5, "call confirm")],
    ),
    ('die() { echo "$*" >&2; exit 1; }\ndie "no key"\nusacloud a', [(3, "a", 2, "call die")]),
    ('die() { exit 1; }\n[ -n "$KEY" ] && die "set"\nusacloud a', [(3, "a", 2, "call die")]),
    ('die() { exit 1; }\nif [ -z "$X" ]; then die "no X"; fi\nusacloud a', [(3, "a", 2, "call die")]),
    ("function die {\n  exit 2\n}\ndie\nusacloud a", [(5, "a", 4, "call die")]),
    ("fail() { exit 2; }\ncheck() { fail; }\ncheck\nusacloud a", [(4, "a", 3, "call check")]),
    ("check() { fail; }\nfail() { exit 2; }\ncheck\nusacloud a", [(4, "a", 3, "call check")]),
    ("stop() { set -n; }\nstop\nusacloud a", [(3, "a", 2, "call stop")]),
    # a script's own usacloud: bash would run it, not usacloud (the review toggle, an alias...)
    ('usacloud() { echo "+ usacloud $*"; }\nusacloud server delete -y web', [(2, "server", 1, "usacloud()")]),
    ("usacloud () { :; }\nusacloud a", [(2, "a", 1, "usacloud()")]),
    ('function usacloud {\n  echo "$@"\n}\nusacloud a', [(4, "a", 1, "usacloud()")]),
    ('if [ -n "$DRY" ]; then usacloud() { echo "$@"; }; fi\nusacloud a', [(2, "a", 1, "usacloud()")]),
    ("usacloud a\nusacloud() { :; }\nusacloud b", [(1, "a"), (3, "b", 2, "usacloud()")]),
    ("shopt -s expand_aliases\nalias usacloud='echo usacloud'\nusacloud a", [(3, "a", 2, "alias usacloud")]),
    ("hash -p /bin/echo usacloud\nusacloud a", [(2, "a", 1, "hash -p")]),
    ("enable -f ./usacloud.so usacloud\nusacloud a", [(2, "a", 1, "enable usacloud")]),
    # what else ends the script in bash before a later usacloud command
    ("\\exit 0\nusacloud a", [(2, "a", 1, "exit")]),
    ('"exit" 0\nusacloud a', [(2, "a", 1, "exit")]),
    ("e'xi't 0\nusacloud a", [(2, "a", 1, "exit")]),
    ("eval exit 0\nusacloud a", [(2, "a", 1, "eval")]),
    ('eval "$CLEANUP"\nusacloud a', [(2, "a", 1, "eval")]),
    ("kill $$\nusacloud a", [(2, "a", 1, "kill $$")]),
    ("kill -9 $$\nusacloud a", [(2, "a", 1, "kill $$")]),
    ('kill -s TERM "$$"\nusacloud a', [(2, "a", 1, "kill $$")]),
    ("kill -- -$$\nusacloud a", [(2, "a", 1, "kill $$")]),
    ("kill $BASHPID\nusacloud a", [(2, "a", 1, "kill $$")]),
    ("kill 0\nusacloud a", [(2, "a", 1, "kill $$")]),
    ("set -n\nusacloud a", [(2, "a", 1, "set -n")]),
    ("set -euon pipefail\nusacloud a", [(2, "a", 1, "set -n")]),
    ("set -o noexec\nusacloud a", [(2, "a", 1, "set -n")]),
    # an exit after `||` that follows a command commands mode does not run: such a guard fails as an
    # ordinary outcome (third hostile review)
    ("cd work || exit 1\nusacloud a", [(2, "a", 1, "exit")]),
    ('[ -n "$X" ] || exit 1\nusacloud a', [(2, "a", 1, "exit")]),
    (
        '[ "${CLEANUP_CONFIRMED:-no}" = yes ] || { echo "not confirmed"; exit 0; }\nusacloud switch delete -y x',
        [(2, "switch", 1, "exit")],
    ),
    ('test -z "$(ls)" || exit 0\nusacloud a', [(2, "a", 1, "exit")]),
    ("[[ $X == y ]] || exit 0\nusacloud a", [(2, "a", 1, "exit")]),
    ("grep -q '^ready$' /etc/hostname || exit 0\nusacloud a", [(2, "a", 1, "exit")]),
    ("usacloud a | grep -q x || exit 0\nusacloud b", [(1, "a"), (2, "b", 1, "exit")]),
    ("usacloud a && grep -q x f ||\n  exit 0\nusacloud b", [(1, "a"), (3, "b", 2, "exit")]),
    ("if test -f x; then :; fi || exit 0\nusacloud b", [(2, "b", 1, "exit")]),
    ("die() { exit 1; }\ncd dir || die\nusacloud a", [(3, "a", 2, "call die")]),
    ("[ -f x ] || {\n  echo no\n  { exit 3; }\n}\nusacloud a", [(5, "a", 3, "exit")]),
    # an exit after `&&` counts whatever came before it, an always-succeeding command too
    ("true && exit 0\nusacloud a", [(2, "a", 1, "exit")]),
    (": && exit 0\nusacloud a", [(2, "a", 1, "exit")]),
    ("DONE=1 && exit 0\nusacloud a", [(2, "a", 1, "exit")]),
    ("usacloud a || usacloud b && exit 0\nusacloud c", [(1, "a"), (1, "b", 1, "||"), (2, "c", 1, "exit")]),
    # an alias whose body ends the script, as a function's would
    (
        "shopt -s expand_aliases\nalias die='exit 1'\nusacloud switch list\ndie\nusacloud b",
        [(3, "switch"), (5, "b", 4, "call die")],
    ),
    ("alias bye='echo bye; logout'\nbye\nusacloud b", [(3, "b", 2, "call bye")]),
    ("stop() { exit 1; }\nalias s=stop\ns\nusacloud b", [(4, "b", 3, "call s")]),
    # noexec in every spelling bash takes; traps that can end the script or skip commands
    ("set -eo noexec\nusacloud a", [(2, "a", 1, "set -n")]),
    ("set -oe noexec\nusacloud a", [(2, "a", 1, "set -n")]),
    ("set -o pipefail -o noexec\nusacloud a", [(2, "a", 1, "set -n")]),
    ("set +o noexec -n\nusacloud a", [(2, "a", 1, "set -n")]),
    ("shopt -so noexec\nusacloud a", [(2, "a", 1, "set -n")]),
    ("shopt -s -o noexec\nusacloud a", [(2, "a", 1, "set -n")]),
    ("builtin shopt -os noexec\nusacloud a", [(2, "a", 1, "set -n")]),
    ('trap "exit" DEBUG\nusacloud a', [(2, "a", 1, "trap")]),
    ("trap -- 'echo x' debug\nusacloud a", [(2, "a", 1, "trap")]),
    ('trap "exit 0" ERR\nfalse\nusacloud a', [(3, "a", 1, "trap")]),
    ("die() { exit 1; }\ntrap die ERR\nusacloud a", [(3, "a", 2, "trap")]),
    # substitutions bash may not run: inside a parameter expansion, inside [[ ]]
    ("x=set\necho ${x:-$(usacloud a)}\nusacloud b", [(2, "a", 2, "${"), (3, "b")]),
    ('echo "${x:+$(usacloud a)}"', [(1, "a", 1, "${")]),
    (": ${x:=`usacloud a`}", [(1, "a", 1, "${")]),
    ("x=${y-$(usacloud a)}", [(1, "a", 1, "${")]),
    ("echo ${x/$(usacloud a)/}", [(1, "a", 1, "${")]),
    ('A=( "${x:-$(usacloud a)}" )', [(1, "a", 1, "${")]),
    ("[[ -n x || $(usacloud a) ]]\nusacloud b", [(1, "a", 1, "[["), (2, "b")]),
    ("[[ -z x &&\n  $(usacloud a) ]]", [(2, "a", 1, "[[")]),
    # a wrapper the reader looks through, made to mean something else; a new PATH; a local file
    ("shopt -s expand_aliases\nalias nohup='exit 0;'\nnohup usacloud a", [(3, "a", 2, "alias nohup")]),
    ('alias command="echo"\ncommand usacloud a', [(2, "a", 1, "alias command")]),
    ('alias env="echo"\nenv usacloud a', [(2, "a", 1, "alias env")]),
    ('env() { echo "$@"; }\nenv usacloud a', [(2, "a", 1, "env()")]),
    ("function command { :; }\nusacloud a", [(2, "a", 1, "command()")]),
    ("enable -n command\ncommand usacloud a", [(2, "a", 1, "enable command")]),
    ("hash -p /bin/echo env\nenv usacloud a", [(2, "a", 1, "hash -p")]),
    ("PATH=/nonexistent\nusacloud a", [(2, "a", 1, "PATH=")]),
    ('PATH="$PWD/mock:$PATH"\nusacloud a', [(2, "a", 1, "PATH=")]),
    ("export PATH=/opt/mock:$PATH\nusacloud a", [(2, "a", 1, "PATH=")]),
    ("declare -x PATH+=:/x\nusacloud a", [(2, "a", 1, "PATH=")]),
    ("unset PATH\nusacloud a", [(2, "a", 1, "PATH=")]),
    ("./usacloud switch create -y --name x", [(1, "switch", 1, "path ./usacloud")]),
    ("bin/usacloud a", [(1, "a", 1, "path bin/usacloud")]),
]


@pytest.mark.parametrize(("src", "expected"), NOT_STRAIGHT)
def test_not_straight_line(src, expected):
    assert controls(src) == expected
    error = parse_script(src).straight_line_error()
    assert error is not None
    assert error.line == next(e[2] for e in expected if len(e) == 4)


STRAIGHT = [
    "usacloud a; usacloud b",
    "usacloud a && usacloud b",
    "usacloud a\nusacloud b",
    "usacloud server list -o json | jq length",
    "usacloud a |\n  jq .",
    "set -e\nset -euo pipefail\nusacloud a",
    'ID=$(usacloud server create -q)\nusacloud server read "$ID"',
    "# if usacloud a; then\nusacloud b  # || usacloud c",
    "usacloud a || true",
    "usacloud a || exit 1\nusacloud b",  # exits where commands mode stops anyway
    "usacloud a || { echo failed >&2; exit 1; }\nusacloud b",
    "usacloud a && usacloud b || exit 1\nusacloud c",  # only after a usacloud command failed
    "true || exit 1\nusacloud a",  # never
    "alias ll='ls -l'\nll\nusacloud a",
    'echo "${X:-default}" "${Y:=v}"\nusacloud a',
    "exec >log 2>&1\nusacloud a",
    "( exit 1 )\nusacloud a",  # ends only the subshell
    "x=$(exit 3)\nusacloud a",
    "{ usacloud a; usacloud b; } > log",
    "true && usacloud a",
    ": && X=1 && usacloud a",
    "test -f x && echo yes\nusacloud a",  # the list ended before the usacloud command
    "if true; then echo; fi\nusacloud a",
    "f() { echo; }\nusacloud a",
    "time usacloud a",
    "usacloud a\nexit 0",
    "echo 'if' \"then\" || echo fi; usacloud a",
    "usacloud note create --content 'if x; then exit; fi'",
    "cat <<EOF\nif true; then\nEOF\nusacloud a",
    # exits that end only a function or a subshell, functions never called, calls that skip functions
    "f() { return 1; }\nf\nusacloud a",
    "f() ( exit 1 )\nf\nusacloud a",
    "f() { x=$(exit 1); }\nf\nusacloud a",
    "die() { exit 1; }\nusacloud a",
    "die() { exit 1; }\nx=$(die)\nusacloud a",
    "die() { exit 1; }\ncommand die\nusacloud a",
    "if true; then ( exit 1 ); fi\nusacloud a",
    "alias u=usacloud\nusacloud a",
    "hash usacloud\nusacloud a",
    "kill -0 $$\nusacloud a",
    "kill -l\nusacloud a",
    "kill %1\nusacloud a",
    "set -- -n\nusacloud a",
    "set +n\nusacloud a",
    "set -n +n\nusacloud a",
    "shopt -o noexec\nusacloud a",  # prints it
    "shopt -uo noexec\nusacloud a",
    "set -o noex\nusacloud a",  # not an option bash knows
    "eval\nusacloud a",
    'trap "" DEBUG\nusacloud a',
    "trap - DEBUG\nusacloud a",
    "trap -p DEBUG\nusacloud a",
    'trap "rm -f tmp" EXIT\nusacloud a',
    'trap "echo failed" ERR\nusacloud a',
    'trap "exit" USR1\nusacloud a',
    'echo "${X:-$Y}" ${#Z}\nusacloud a',
    "[[ -n x ]] && echo y\nusacloud a",
    "PATH_EXTRA=/x\nMYPATH=/y\nusacloud a",
    "export KUBE_PATH=/x\nusacloud a",
    "alias enve=echo\nusacloud a",
    "/usr/local/bin/usacloud a",
]


@pytest.mark.parametrize("src", STRAIGHT)
def test_straight_line(src):
    result = parse_script(src)
    assert result.commands
    assert all(c.control is None for c in result.commands), controls(src)
    assert result.straight_line_error() is None


def test_error_message_gives_the_construct_line_and_the_advice():
    src = "usacloud zone list\n\nif usacloud server read web; then\n  usacloud server delete -y web\nfi\n"
    error = parse_script(src).straight_line_error()
    assert error.line == 3
    message = str(error)
    assert message.startswith("line 3: the usacloud command on line 3 runs inside `if` (line 3)")
    assert "mark it `usacloud_shell` or run `--usacloud-mode=shell`" in message


def test_a_script_without_commands_is_straight_line():
    assert ParsedScript((), (), ()).straight_line_error() is None


def test_messages_name_the_call_and_the_redefinition():
    error = parse_script('die() { exit 1; }\ndie "no key"\nusacloud a\n').straight_line_error()
    assert (error.line, str(error)) == (
        2,
        "line 2: the usacloud command on line 3 runs after a call of `die` (line 2), a function that can end "
        "the script; commands mode runs only straight-line scripts (bash, not the order of the lines, decides "
        "whether it runs): mark it `usacloud_shell` or run `--usacloud-mode=shell`",
    )
    error = parse_script("alias usacloud=echo\nusacloud a\n").straight_line_error()
    assert "runs after `alias usacloud` (line 1), which can make bash run something else than usacloud" in str(error)


def test_compound_commands_nested_deeper_than_bash_accepts_are_an_error_at_their_line():
    """bash's parser gives up at a few thousand nested compound commands; so does this one, at 1,000,
    with the line (and in linear time: `bench/parse_scaling.py`)."""
    from pytest_usacloud_sandbox.script.flow import MAX_NESTING
    from pytest_usacloud_sandbox.script.source import ScriptError

    with pytest.raises(ScriptError) as caught:
        parse_script("{\n" * (MAX_NESTING + 1) + "usacloud a\n" + "}\n" * (MAX_NESTING + 1))
    assert caught.value.line == MAX_NESTING + 1 and "nested more than 1000 deep" in str(caught.value)
    deep = parse_script("{\n" * MAX_NESTING + "usacloud a\n" + "}\n" * MAX_NESTING + "exit 0\nusacloud b\n")
    assert (deep.commands[0].line, deep.commands[0].control) == (MAX_NESTING + 1, None)
    assert deep.commands[1].control.construct == "exit"
    nested = parse_script("if x; then\n" * MAX_NESTING + "usacloud a\n" + "fi\n" * MAX_NESTING)
    assert (nested.commands[0].control.line, nested.commands[0].control.construct) == (1, "if")


TESTED_SCRIPT = """\
if ! usacloud switch read a; then usacloud switch create b; fi
usacloud switch read c || true
usacloud switch read d && echo yes
usacloud switch read e && echo yes || echo no
while ! usacloud switch read f; do sleep 1; done
until usacloud switch read g; do usacloud switch create h; done
if true; then :; elif usacloud switch read i; then :; else usacloud switch read j; fi
usacloud switch read k | jq .
if usacloud switch read l | jq -e .; then :; fi
! usacloud switch read m
f() { if ! usacloud switch read n; then usacloud switch create o; fi; }
x=$(usacloud switch read p) && echo ok
usacloud switch read q
if usacloud switch read r || usacloud switch read s; then :; fi
for n in 1 2; do if ! usacloud switch read t; then :; fi; done
if { usacloud switch read u; }; then :; fi
"""


def test_which_commands_stand_where_bash_tests_their_status():
    """A condition, `!`, left of `&&`: tested; piped on, before `||`, in a body, nested: not."""
    tested = {c.words[3] for c in parse_script(TESTED_SCRIPT).commands if c.tested}
    assert tested == {"a", "d", "f", "g", "i", "m", "n", "s", "t"}
