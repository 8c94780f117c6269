"""Tests for pytest_usacloud_sandbox.script.parse: from script text to usacloud commands, no shell."""

from __future__ import annotations

import dataclasses
import os
import textwrap

import pytest

from pytest_usacloud_sandbox.script.parse import (
    MAX_SCRIPT_BYTES_DEFAULT,
    Command,
    MarkerSpec,
    ParsedScript,
    ScriptError,
    SkippedLine,
    parse_markers,
    parse_script,
    read_script_text,
)


def words(src: str) -> list[tuple[str, ...]]:
    return [c.words for c in parse_script(src).commands]


def only(src: str) -> Command:
    commands = parse_script(src).commands
    assert len(commands) == 1, commands
    return commands[0]


def skipped(src: str) -> list[tuple[int, str, str]]:
    return [(s.line, s.text, s.reason) for s in parse_script(src).skipped]


def script_error(src: str) -> ScriptError:
    with pytest.raises(ScriptError) as info:
        parse_script(src)
    return info.value


# --- quotes and escapes ----------------------------------------------------------------------
# Every row was checked against bash: the words after "usacloud" are what bash passes as argv.
QUOTING = [
    (r"usacloud server list", ("server", "list")),
    (r"usacloud a\ b 'c d' \"e\"", ("a b", "c d", '"e"')),
    (r"""usacloud g"h"i 'j'"k" x''""y""", ("ghi", "jk", "xy")),
    (r"""usacloud '' "" ''""''""" + "", ("", "", "")),
    (r'usacloud "a\"b" "a\\b" "a\$b" "a\`b"', ('a"b', "a\\b", "a$b", "a`b")),
    (r'usacloud "a\nb" "\q" ' + r"'a\nb' \q a\\b a\'b", ("a\\nb", "\\q", "a\\nb", "q", "a\\b", "a'b")),
    (r"""usacloud "it's" 'say "hi"'""", ("it's", 'say "hi"')),
    (r"""usacloud "$" "a$" \$x""", ("$", "a$", "$x")),
    ("usacloud \"multi\nline\" 'two\nlines'", ("multi\nline", "two\nlines")),
    (r"usacloud $'a\tb\x41\101\u00e9\'q' $'\c[' $'\0gone' $'\n'", ("a\tbAAé'q", "\x1b", "", "\n")),
    (r'usacloud $"locale string"', ("locale string",)),
    (r"usacloud a#b 'c#d' \#e", ("a#b", "c#d", "#e")),
    (r"usacloud {} { } x=1 -- --name=foo", ("{}", "{", "}", "x=1", "--", "--name=foo")),
    (r"usacloud ]x [ ] a~b", ("]x", "[", "]", "a~b")),
    ("usacloud 日本語 \"サーバー\" 'テスト\u3000全角'", ("日本語", "サーバー", "テスト\u3000全角")),
    ("usacloud\ttab\t'sep'", ("tab", "sep")),
    ('usacloud --parameters \'{"Name": "a b", "Tags": ["x"]}\'', ("--parameters", '{"Name": "a b", "Tags": ["x"]}')),
]


@pytest.mark.parametrize(("src", "expected"), QUOTING, ids=[row[0][:40] for row in QUOTING])
def test_quoting(src, expected):
    command = only(src)
    assert command.words == ("usacloud", *expected)
    assert command.expansion is None
    assert command.nested is False


# --- comments ----------------------------------------------------------------------------------
COMMENTS = [
    ("usacloud server list # usacloud-update: converted from v0", [("usacloud", "server", "list")]),
    ("usacloud server list -o json #comment; usacloud no", [("usacloud", "server", "list", "-o", "json")]),
    ("# usacloud server list\n  # indented usacloud x", []),
    ("usacloud a;# usacloud b", [("usacloud", "a")]),
    ("usacloud a 'b # c' \"# d\" e\\ #f", [("usacloud", "a", "b # c", "# d", "e #f")]),
    ('usacloud x # it\'s a note with "quotes" and $(parens', [("usacloud", "x")]),
    ("echo $(usacloud a # comment inside\n)", [("usacloud", "a")]),
]


@pytest.mark.parametrize(("src", "expected"), COMMENTS)
def test_comments(src, expected):
    assert words(src) == expected


def test_comment_is_part_of_the_displayed_text_but_not_of_the_words():
    command = only("usacloud server list  # usacloud-update: converted from v0  \n")
    assert command.text == "usacloud server list  # usacloud-update: converted from v0"
    assert command.words == ("usacloud", "server", "list")


# --- continuations and line numbers ------------------------------------------------------------
LINES = [
    ("usacloud a\nusacloud b\n\n\nusacloud c", [(1, 1, "usacloud a"), (2, 2, "usacloud b"), (5, 5, "usacloud c")]),
    (
        "\n# c\nusacloud server create \\\n  --name x \\\n  --zone=tk1v\nusacloud after",
        [(3, 5, "usacloud server create   --name x   --zone=tk1v"), (6, 6, "usacloud after")],
    ),
    ("echo one; \\\nusacloud two\nusacloud three", [(2, 2, "echo one; usacloud two"), (3, 3, "usacloud three")]),
    (
        "usacloud a --desc 'x\ny' \\\n  --z 1\nusacloud b",
        [(1, 3, "usacloud a --desc 'x\ny'   --z 1"), (4, 4, "usacloud b")],
    ),
    (
        "usacloud a \\\n| jq . && \\\nusacloud b",
        [(1, 1, "usacloud a | jq . && usacloud b"), (3, 3, "usacloud a | jq . && usacloud b")],
    ),
    ("usacloud 'a\\\nb'\nusacloud c", [(1, 2, "usacloud 'a\\\nb'"), (3, 3, "usacloud c")]),
    ("if true; then\n  usacloud inner\nfi", [(2, 2, "usacloud inner")]),
]


@pytest.mark.parametrize(("src", "expected"), LINES)
def test_lines_and_text(src, expected):
    assert [(c.line, c.end_line, c.text) for c in parse_script(src).commands] == expected


CONTINUATION_WORDS = [
    ("usacloud server \\\n  list", ("usacloud", "server", "list")),
    ("usacloud ser\\\nver list", ("usacloud", "server", "list")),
    ('usacloud "a\\\nb"', ("usacloud", "ab")),
    ("usacloud 'a\\\nb'", ("usacloud", "a\\\nb")),
    ("usa\\\ncloud x", ("usacloud", "x")),
    ("usacloud a\\\n", ("usacloud", "a")),
]


@pytest.mark.parametrize(("src", "expected"), CONTINUATION_WORDS)
def test_continuation_words(src, expected):
    assert only(src).words == expected


@pytest.mark.parametrize(
    ("src", "word", "expansion"),
    [
        ("usacloud $\\\nHOME", "$HOME", "$HOME"),
        ("usacloud a$\\\n$", "a$$", "$$"),
        ("usacloud $\\\n\\\n{X}", "${X}", "${X}"),
        ("usacloud $\\\n'\\t'", "\t", None),
        ('usacloud "$\\\nX"', "$X", "$X"),
    ],
)
def test_continuation_after_dollar(src, word, expansion):
    command = only(src)
    assert (command.words[1], command.expansion) == (word, expansion)


# --- splitting into simple commands ------------------------------------------------------------
SPLITTING = [
    ("usacloud a; usacloud b", ["a", "b"]),
    ("usacloud a && usacloud b || usacloud c", ["a", "b", "c"]),
    ("usacloud a | usacloud b |& usacloud c", ["a", "b", "c"]),
    ("usacloud a & usacloud b &", ["a", "b"]),
    ("usacloud a;usacloud b&&usacloud c||usacloud d|usacloud e", ["a", "b", "c", "d", "e"]),
    ("(usacloud a; usacloud b) && { usacloud c; }", ["a", "b", "c"]),
    ("(cd /tmp && usacloud a)", ["a"]),
    ("usacloud 'a;b' \"c&&d\" e\\|f", ["a;b"]),
]


@pytest.mark.parametrize(("src", "expected"), SPLITTING)
def test_splitting(src, expected):
    assert [w[1] for w in words(src)] == expected


def test_quoted_operators_stay_in_words():
    assert only("usacloud 'a;b' \"c&&d\" e\\|f").words == ("usacloud", "a;b", "c&&d", "e|f")


PIPES = [
    ("usacloud server list -o json | jq -r '.[].ID'", [("usacloud", "server", "list", "-o", "json")]),
    ("usacloud server list -q | xargs -n1 usacloud server delete -y", [("usacloud", "server", "list", "-q")]),
    ("jq -n '{}' | usacloud server create --parameters -", [("usacloud", "server", "create", "--parameters", "-")]),
    ("usacloud a | jq '.[] | select(.Name == \"x;y\")' | tee out", [("usacloud", "a")]),
]


@pytest.mark.parametrize(("src", "expected"), PIPES)
def test_pipes(src, expected):
    assert words(src) == expected


# --- command substitution ----------------------------------------------------------------------
NESTED = [
    ("ID=$(usacloud server create --name x -q)", [(("usacloud", "server", "create", "--name", "x", "-q"), True)]),
    ('echo "$(usacloud zone list)"', [(("usacloud", "zone", "list"), True)]),
    ("echo `usacloud region list`", [(("usacloud", "region", "list"), True)]),
    ('echo "$(echo "$(usacloud deep "x y")")"', [(("usacloud", "deep", "x y"), True)]),
    ("X=`usacloud a \\`usacloud b\\``", [(("usacloud", "a", "`usacloud b`"), True), (("usacloud", "b"), True)]),
    (
        "usacloud server read $(usacloud server list -q)",
        [
            (("usacloud", "server", "read", "$(usacloud server list -q)"), False),
            (("usacloud", "server", "list", "-q"), True),
        ],
    ),
    (
        "A=$(usacloud a) usacloud b $(usacloud c)",
        [(("usacloud", "a"), True), (("usacloud", "b", "$(usacloud c)"), False), (("usacloud", "c"), True)],
    ),
    ('echo "${X:-$(usacloud default)}"', [(("usacloud", "default"), True)]),
    ("diff <(usacloud a) <(usacloud b)", [(("usacloud", "a"), True), (("usacloud", "b"), True)]),
    ("echo $( (usacloud sub) )", [(("usacloud", "sub"), True)]),
    ("echo $(echo ')' \"(\" \\) ; usacloud q)", [(("usacloud", "q"), True)]),
    ("X=$(case $1 in a) usacloud in_case;; esac)", [(("usacloud", "in_case"), True)]),
    ('ARR=(one "$(usacloud arr)")', [(("usacloud", "arr"), True)]),
    ("CMD=(usacloud server list)", []),
    (
        'while read -r id; do usacloud server delete -y "$id"; done < <(usacloud server list -q)',
        [(("usacloud", "server", "delete", "-y", "$id"), False), (("usacloud", "server", "list", "-q"), True)],
    ),
    ('if [ "$(usacloud server list -q | wc -l)" -gt 0 ]; then', [(("usacloud", "server", "list", "-q"), True)]),
    ('usacloud server list | while read -r x; do echo "$x"; done', [(("usacloud", "server", "list"), False)]),
    ("trap 'usacloud server delete -y \"$ID\"' EXIT", []),
    ("bash -c 'usacloud zone list'", []),
    ("echo $((1 + 2)) $(( (3) ))", []),
    ("echo $(echo usacloud)", []),
]


@pytest.mark.parametrize(("src", "expected"), NESTED)
def test_nested(src, expected):
    assert [(c.words, c.nested) for c in parse_script(src).commands] == expected


def test_nested_multiline_substitution_lines():
    src = 'echo start\nID=$(\n  usacloud server create \\\n    --name x -q\n)\nusacloud server read "$ID"\n'
    commands = parse_script(src).commands
    assert [(c.line, c.end_line, c.nested) for c in commands] == [(3, 4, True), (6, 6, False)]
    assert commands[0].text == "usacloud server create     --name x -q"
    assert commands[1].expansion == "$ID"


# --- prefixes, wrappers, redirections -----------------------------------------------------------
PREFIXES = [
    ("A=1 usacloud x", ("usacloud", "x")),
    ('A=1 B="2 3" C= usacloud x', ("usacloud", "x")),
    ("SAKURACLOUD_ZONE=tk1v usacloud server list", ("usacloud", "server", "list")),
    ("A[1]=x B+=y usacloud x", ("usacloud", "x")),
    ("usacloud x A=1", ("usacloud", "x", "A=1")),
    ("env A=1 usacloud x", ("usacloud", "x")),
    ("env usacloud x", ("usacloud", "x")),
    ("command usacloud x", ("usacloud", "x")),
    ("command -- usacloud x", ("usacloud", "x")),
    ("exec usacloud x", ("usacloud", "x")),
    ("nohup usacloud x", ("usacloud", "x")),
    ("A=1 env B=2 command usacloud x", ("usacloud", "x")),
    ("/usr/local/bin/usacloud x", ("/usr/local/bin/usacloud", "x")),
    ("./usacloud x", ("./usacloud", "x")),
    ('"usacloud" x', ("usacloud", "x")),
    ("\\usacloud x", ("usacloud", "x")),
]


@pytest.mark.parametrize(("src", "expected"), PREFIXES)
def test_prefixes_and_wrappers(src, expected):
    command = only(src)
    assert command.words == expected
    assert command.text == src


@pytest.mark.parametrize(
    ("src", "assignments"),
    [
        ("A=1 usacloud x", (("A", "1"),)),
        ('A=1 B="2 3" C= usacloud x', (("A", "1"), ("B", "2 3"), ("C", ""))),
        ("A[1]=x B+=y usacloud x", (("A[1]", "x"), ("B+", "y"))),
        ("env A=1 usacloud x", (("A", "1"),)),
        ("A=1 env B='x y' command usacloud x", (("A", "1"), ("B", "x y"))),
        ("SAKURACLOUD_ARGUMENT_MATCH_MODE=exact usacloud x", (("SAKURACLOUD_ARGUMENT_MATCH_MODE", "exact"),)),
        ("usacloud x A=1", ()),
        ("command usacloud x", ()),
    ],
)
def test_prefixes_are_kept(src, assignments):
    assert only(src).assignments == assignments


NOT_USACLOUD = [
    ("command -v usacloud", "not a usacloud command: command"),
    ("env -i usacloud x", "not a usacloud command: env"),
    ("sudo usacloud x", "not a usacloud command: sudo"),
    ("timeout 10 usacloud x", "not a usacloud command: timeout"),
    ("which usacloud", "not a usacloud command: which"),
    ("usacloud-foo x", "not a usacloud command: usacloud-foo"),
    ("echo usacloud server list", "not a usacloud command: echo"),
    ('"$USACLOUD" server list', "command name needs shell expansion: $USACLOUD"),
    ("exec 3>&1", "not a usacloud command: exec"),
    ("exec > log 2>&1", "not a usacloud command: exec"),
    ("trap 'usacloud server delete -y' EXIT", "not a usacloud command: trap"),
    ('eval "usacloud $ARGS"', "not a usacloud command: eval"),
    ("command", "not a usacloud command: command"),
]


@pytest.mark.parametrize(("src", "reason"), NOT_USACLOUD)
def test_not_usacloud(src, reason):
    result = parse_script(src)
    assert result.commands == ()
    assert result.skipped == (SkippedLine(1, src, reason),)


REDIRECTIONS = [
    ("usacloud a 2>&1", ("usacloud", "a")),
    ("usacloud a >/dev/null", ("usacloud", "a")),
    ("usacloud a > out.json", ("usacloud", "a")),
    ("usacloud a >>log 2>>err", ("usacloud", "a")),
    ("usacloud a < in.json", ("usacloud", "a")),
    ("usacloud a &>all.log", ("usacloud", "a")),
    ("usacloud a &>> all.log", ("usacloud", "a")),
    ("usacloud a >|forced", ("usacloud", "a")),
    ("usacloud a <<<'here string'", ("usacloud", "a")),
    ("usacloud a 3>&- 2>&1 >&2 <&0", ("usacloud", "a")),
    ("usacloud a <>rw", ("usacloud", "a")),
    (">x usacloud a", ("usacloud", "a")),
    ("2>/dev/null usacloud a b", ("usacloud", "a", "b")),
    ('usacloud a <<<"$X"', ("usacloud", "a")),  # a here-string opens no file
    ("usacloud a 2 >x", ("usacloud", "a", "2")),
    ("usacloud a x2>y", ("usacloud", "a", "x2")),
    ("usacloud a -o json 2>&1 >out.json | jq .", ("usacloud", "a", "-o", "json")),
]


@pytest.mark.parametrize(("src", "expected"), REDIRECTIONS)
def test_redirections_dropped(src, expected):
    command = only(src)
    assert command.words == expected
    assert command.expansion is None


# --- expansions --------------------------------------------------------------------------------
EXPANSIONS = [
    ("usacloud server read $SERVER_ID", "$SERVER_ID", ("server", "read", "$SERVER_ID")),
    ("usacloud server read ${SERVER_ID}", "${SERVER_ID}", ("server", "read", "${SERVER_ID}")),
    ('usacloud server read "$SERVER_ID"', "$SERVER_ID", ("server", "read", "$SERVER_ID")),
    ('usacloud x "id-${N:-1}-x"', "${N:-1}", ("x", "id-${N:-1}-x")),
    ("usacloud x '$SERVER_ID'", None, ("x", "$SERVER_ID")),
    ("usacloud x \\$SERVER_ID", None, ("x", "$SERVER_ID")),
    ('usacloud x "\\$SERVER_ID"', None, ("x", "$SERVER_ID")),
    ("usacloud x $1 $@ $# $?", "$1", ("x", "$1", "$@", "$#", "$?")),
    ("usacloud x $(cat id.txt)", "$(cat id.txt)", ("x", "$(cat id.txt)")),
    ("usacloud x `cat id.txt`", "`cat id.txt`", ("x", "`cat id.txt`")),
    ("usacloud x $((1 + 2))", "$((1 + 2))", ("x", "$((1 + 2))")),
    ("usacloud x *.json", "*", ("x", "*.json")),
    ("usacloud x a?", "?", ("x", "a?")),
    ("usacloud x [ab]", "[", ("x", "[ab]")),
    ("usacloud x a[0]b", "[", ("x", "a[0]b")),
    ("usacloud x '*.json' \"a?\" \\[ab]", None, ("x", "*.json", "a?", "[ab]")),
    ("usacloud x ~/.usacloud", "~", ("x", "~/.usacloud")),
    ("usacloud x ~", "~", ("x", "~")),
    ("usacloud x '~' \"~\" \\~ a~b", None, ("x", "~", "~", "~", "a~b")),
    ("usacloud x {a,b}", "{a,b}", ("x", "{a,b}")),
    ("usacloud x {1..3}", "{1..3}", ("x", "{1..3}")),
    ("usacloud x {a} [ ]", None, ("x", "{a}", "[", "]")),
    ("usacloud x $'$X'", None, ("x", "$X")),
    ("usacloud x <(echo)", "<(echo)", ("x", "<(echo)")),
    ("usacloud $a${b}", "$a", ("$a${b}",)),
    ("usacloud x a*$B", "*", ("x", "a*$B")),
    ("usacloud x $B*", "$B", ("x", "$B*")),
    ("usacloud x $", None, ("x", "$")),
    ("usacloud x 100$ $/", None, ("x", "100$", "$/")),
    ("usacloud x $日本", None, ("x", "$日本")),
]


@pytest.mark.parametrize(("src", "expansion", "argv"), EXPANSIONS)
def test_expansion(src, expansion, argv):
    command = only(src)
    assert command.expansion == expansion
    assert command.words == ("usacloud", *argv)


def test_expansion_is_the_first_one_in_the_argv():
    assert only('usacloud server read --zone "$ZONE" ${ID} *').expansion == "$ZONE"


def test_an_expansion_in_a_redirections_file_counts():
    """Whether bash can open `> "$OUT"` needs the shell: the command is skipped, never run."""
    command = only('usacloud server list > "$OUT" 2>${ERR}')
    assert command.words == ("usacloud", "server", "list")
    assert command.expansion == "$OUT"
    assert command.redirections == ((">", "$OUT"), (">", "${ERR}"))
    assert only("usacloud zone list <<$END\nbody\n$END\n").expansion is None  # a here-document opens none


def test_expansions_in_prefixes_count():
    # a VAR=value prefix reaches usacloud's environment: its value must be known
    command = only('ZONE=$X usacloud server list > "$OUT"')
    assert command.words == ("usacloud", "server", "list")
    assert command.assignments == (("ZONE", "$X"),)
    assert command.expansion == "$X"


def test_expansion_in_command_word():
    command = only("$HOME/bin/usacloud server list")
    assert command.words == ("$HOME/bin/usacloud", "server", "list")
    assert command.expansion == "$HOME"


# --- keywords ----------------------------------------------------------------------------------
KEYWORD_SCRIPT = textwrap.dedent(
    """\
    if usacloud a; then
      usacloud b
    elif ! usacloud c; then
      echo x
    else
      usacloud d
    fi
    while usacloud e; do usacloud f; done
    until false; do :; done
    for id in $(usacloud server list -q); do
      usacloud server read "$id"
    done
    for x in a b; do usacloud server read "$x"; done
    time usacloud t
    time -p usacloud tp
    { usacloud g; } > log
    [[ -n $(usacloud h) ]] && usacloud i
    select x in a b; do usacloud j; done
    function fn { usacloud k; }
    fn2() {
      usacloud l
    }
    for ((i = 0; i < 3; i++)); do usacloud m "$i"; done
    (( n > 1 )) && usacloud n
    case "$1" in
      (a|b) usacloud ab ;;
      c)
        usacloud c
        ;;
      *) echo none ;;
    esac
    """
)


def test_keywords_commands():
    assert [(c.line, c.words[1:], c.expansion, c.nested) for c in parse_script(KEYWORD_SCRIPT).commands] == [
        (1, ("a",), None, False),
        (2, ("b",), None, False),
        (3, ("c",), None, False),
        (6, ("d",), None, False),
        (8, ("e",), None, False),
        (8, ("f",), None, False),
        (10, ("server", "list", "-q"), None, True),
        (11, ("server", "read", "$id"), "$id", False),
        (13, ("server", "read", "$x"), "$x", False),
        (14, ("t",), None, False),
        (15, ("tp",), None, False),
        (16, ("g",), None, False),
        (17, ("h",), None, True),
        (17, ("i",), None, False),
        (18, ("j",), None, False),
        (19, ("k",), None, False),
        (21, ("l",), None, False),
        (23, ("m", "$i"), "$i", False),
        (24, ("n",), None, False),
        (26, ("ab",), None, False),
        (28, ("c",), None, False),
    ]


def test_keywords_skipped():
    assert skipped(KEYWORD_SCRIPT) == [
        (4, "echo x", "not a usacloud command: echo"),
        (5, "else", "shell keyword: else"),
        (7, "fi", "shell keyword: fi"),
        (9, "until false; do :; done", "shell keyword: until"),
        (12, "done", "shell keyword: done"),
        (20, "fn2() {", "function definition: fn2"),
        (22, "}", "shell keyword: }"),
        (25, 'case "$1" in', "shell keyword: case"),
        (27, "c)", "case pattern: c"),
        (29, ";;", "shell syntax: ;;"),
        (30, "*) echo none ;;", "case pattern: *"),
        (31, "esac", "shell keyword: esac"),
    ]


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("echo if then fi", []),
        ("usacloud if then fi done", [("usacloud", "if", "then", "fi", "done")]),
        ("'if' usacloud x", []),
        ("! usacloud x", [("usacloud", "x")]),
        ("do usacloud x", [("usacloud", "x")]),
        ("for usacloud in a; do :; done", []),
        ("case usacloud in usacloud) usacloud x;; esac", [("usacloud", "x")]),
        ("[[ -n x\nusacloud after_a_broken_test", [("usacloud", "after_a_broken_test")]),
        ("[[ $a == usacloud ]] || usacloud x", [("usacloud", "x")]),
        ("[[ -n a && ( -n b || -z c ) ]] && usacloud x", [("usacloud", "x")]),
    ],
)
def test_keyword_positions(src, expected):
    assert words(src) == expected


# --- here-documents ----------------------------------------------------------------------------
HEREDOC_SCRIPT = textwrap.dedent(
    """\
    cat <<EOF
    usacloud x
    EOF
    cat <<-'EOF'
    \tusacloud y
    \tEOF
    cat <<"END" | usacloud z
    usacloud w
    END
    usacloud after
    cat << EOF; usacloud same_line
    body
    EOF
    cat <<A <<B
    usacloud in_a
    A
    usacloud in_b
    B
    usacloud --parameters - <<JSON
    {"Name": "usacloud not a command"}
    JSON
    echo $(cat <<EOF
    usacloud not_this
    EOF
    ) ; usacloud last
    """
)


def test_heredocs():
    result = parse_script(HEREDOC_SCRIPT)
    assert [(c.line, c.words) for c in result.commands] == [
        (7, ("usacloud", "z")),
        (10, ("usacloud", "after")),
        (11, ("usacloud", "same_line")),
        (19, ("usacloud", "--parameters", "-")),
        (25, ("usacloud", "last")),
    ]
    assert [(s.line, s.text) for s in result.skipped] == [(1, "cat <<EOF"), (4, "cat <<-'EOF'"), (14, "cat <<A <<B")]


@pytest.mark.parametrize(
    ("src", "line", "message"),
    [
        ("cat <<EOF\nusacloud x\n", 1, "unterminated here-document starting at line 1: no line 'EOF' closes it"),
        ("echo\ncat <<EOF", 2, "unterminated here-document starting at line 2: no line 'EOF' closes it"),
        ("cat <<-X\nbody\n  X\n", 1, "unterminated here-document starting at line 1: no line 'X' closes it"),
        ("cat <<\n", 1, "here-document operator << without a delimiter word at line 1"),
        ("cat << ;", 1, "here-document operator << without a delimiter word at line 1"),
    ],
)
def test_heredoc_errors(src, line, message):
    error = script_error(src)
    assert (error.line, error.message) == (line, message)


# --- skipped lines -----------------------------------------------------------------------------
SKIPPED = [
    ("set -euo pipefail", [(1, "set -euo pipefail", "not a usacloud command: set")]),
    ("ZONE=tk1v", [(1, "ZONE=tk1v", "variable assignment: ZONE")]),
    ("ID=$(cat id.txt)", [(1, "ID=$(cat id.txt)", "variable assignment: ID")]),
    ("export A=1", [(1, "export A=1", "not a usacloud command: export")]),
    ("  echo hi  # note", [(1, "echo hi  # note", "not a usacloud command: echo")]),
    ("jq . a.json | tee b", [(1, "jq . a.json | tee b", "not a usacloud command: jq")]),
    ("> /tmp/x", [(1, "> /tmp/x", "redirection only: >")]),
    ("f() { echo; }", [(1, "f() { echo; }", "function definition: f")]),
    (")", [(1, ")", "shell syntax: )")]),
    ("echo a \\\n  b", [(1, "echo a   b", "not a usacloud command: echo")]),
    ("echo 'a\nb'\nusacloud x", [(1, "echo 'a\nb'", "not a usacloud command: echo")]),
    ("usacloud a; echo b\necho c", [(2, "echo c", "not a usacloud command: echo")]),
    ("\n\n   \n# only comments\n\t\n", []),
]


@pytest.mark.parametrize(("src", "expected"), SKIPPED)
def test_skipped(src, expected):
    assert skipped(src) == expected


def test_lines_with_a_usacloud_command_are_not_skipped():
    result = parse_script("echo a; usacloud b | jq .\nX=$(usacloud c)\n")
    assert result.skipped == ()
    assert len(result.commands) == 2


# --- markers -----------------------------------------------------------------------------------
GOOD_MARKERS = [
    ("# pytest.mark.slow", "slow", (), {}),
    ("#pytest.mark.slow", "slow", (), {}),
    ("  #   pytest.mark.slow   ", "slow", (), {}),
    ("# pytest.mark.slow()", "slow", (), {}),
    ("# pytest.mark.timeout(30)", "timeout", (30,), {}),
    ('# pytest.mark.skip(reason="not yet")', "skip", (), {"reason": "not yet"}),
    (
        "# pytest.mark.usacloud_zone('tk1v', retries=2, opts={'a': [1, 2.5, None]})",
        "usacloud_zone",
        ("tk1v",),
        {"retries": 2, "opts": {"a": [1, 2.5, None]}},
    ),
    ("# pytest.mark.xfail(True, reason='x', strict=False)", "xfail", (True,), {"reason": "x", "strict": False}),
    ("# pytest.mark.m(-1, (1, 2), b'x', {1, 2}, 1+2j)", "m", (-1, (1, 2), b"x", {1, 2}, 1 + 2j), {}),
    ("# pytest.mark.slow  # trailing note", "slow", (), {}),
    ("# pytest.mark.timeout(30)  # seconds", "timeout", (30,), {}),
    ("# pytest.mark.サーバー", "サーバー", (), {}),
]


@pytest.mark.parametrize(("line", "name", "args", "kwargs"), GOOD_MARKERS)
def test_good_marker(line, name, args, kwargs):
    (spec,) = parse_markers(line + "\nusacloud x\n")
    assert (spec.line, spec.name, spec.args, spec.kwargs) == (1, name, args, kwargs)
    assert isinstance(spec.args, tuple)
    with pytest.raises(TypeError):
        spec.kwargs["new"] = 1  # read-only mapping


BAD_MARKERS = [
    ("# pytest.mark.timeout(30", "invalid syntax"),
    ("# pytest.mark.timeout(30))", "invalid syntax"),
    ("# pytest.mark.timeout(x)", "argument 1 is not a literal: x"),
    (
        "# pytest.mark.skip(reason=__import__('os').getcwd())",
        "keyword argument 'reason' is not a literal: __import__('os')",
    ),
    ("# pytest.mark.m(1, *a)", "*args is not allowed"),
    ("# pytest.mark.m(**{'a': 1})", "**kwargs is not allowed"),
    ("# pytest.mark.m(a=1, a=2)", "repeated"),
    ("# pytest.mark.m(1)(2)", "expected NAME(arguments) and nothing else"),
    ("# pytest.mark.m(1).x", "expected NAME(arguments) and nothing else"),
    ("# pytest.mark.m(1) + 2", "expected NAME(arguments) and nothing else"),
    ("# pytest.mark.m(1), (2)", "expected NAME(arguments) and nothing else"),
    ("# pytest.mark.m(lambda: 1)", "argument 1 is not a literal"),
    ("# pytest.mark.m([x for x in ()])", "argument 1 is not a literal"),
    ("# pytest.mark.", "'' is not a valid marker name"),
    ("# pytest.mark.1abc", "'1abc' is not a valid marker name"),
    ("# pytest.mark.a-b", "'a-b' is not a valid marker name"),
    ("# pytest.mark.if", "'if' is not a valid marker name"),
    ("# pytest.mark._private", "marker names must not start with '_'"),
    ("# pytest.mark.slow extra words", "expected '(' or the end of the line after the name"),
    ("# pytest.mark.a.b", "'a.b' is not a valid marker name"),
]


@pytest.mark.parametrize(("line", "why"), BAD_MARKERS)
def test_bad_marker(line, why):
    src = "#!/bin/bash\n# pytest.mark.ok\n" + line + "\nusacloud x\n"
    with pytest.raises(ScriptError) as info:
        parse_markers(src)
    assert info.value.line == 3
    assert info.value.message.startswith("bad marker ")
    assert "on line 3: " in info.value.message
    assert why in info.value.message
    with pytest.raises(ScriptError):  # parse_script reports marker errors too
        parse_script(src)


def test_marker_arguments_are_never_evaluated(tmp_path):
    flag = tmp_path / "evaluated"
    src = f"# pytest.mark.m(__import__('pathlib').Path({str(flag)!r}).touch())\n"
    with pytest.raises(ScriptError, match="not a literal"):
        parse_markers(src)
    src = f"# pytest.mark.m(x=open({str(flag)!r}, 'w'))\n"
    with pytest.raises(ScriptError, match="not a literal"):
        parse_markers(src)
    assert not flag.exists()


def test_marker_block():
    src = textwrap.dedent(
        """\
        #!/usr/bin/env bash
        # A description of the script.

        # pytest.mark.slow
        #
        # pytest.mark.timeout(60)
        ## pytest.mark.not_a_marker (two hashes)
        set -e
        # pytest.mark.after_the_block
        usacloud server list  # pytest.mark.trailing
        """
    )
    result = parse_script(src)
    assert result.markers == (
        MarkerSpec(4, "slow", (), {}),
        MarkerSpec(6, "timeout", (60,), {}),
    )
    assert parse_markers(src) == result.markers


@pytest.mark.parametrize(
    ("src", "names"),
    [
        ("", []),
        ("#!/bin/sh\n", []),
        ("# pytest.mark.a\n# pytest.mark.b\n", ["a", "b"]),
        ("#!/bin/sh\n# pytest.mark.a", ["a"]),
        ("\ufeff# pytest.mark.a\r\n# pytest.mark.b(1)\r\n", ["a", "b"]),
        ("usacloud x\n# pytest.mark.late\n", []),
        ("echo hi\n# pytest.mark.late(\n", []),
        ("   \n\t\n# pytest.mark.a\n", ["a"]),
        ("#!/bin/sh # pytest.mark.not_on_the_shebang_line\n", []),
    ],
)
def test_marker_block_bounds(src, names):
    assert [m.name for m in parse_markers(src)] == names


def test_marker_line_numbers_with_shebang_and_blank_lines():
    src = "#!/bin/bash\n\n# pytest.mark.a\n\n# pytest.mark.b(reason='x')\n"
    assert [(m.line, m.name) for m in parse_markers(src)] == [(3, "a"), (5, "b")]


# --- syntax errors -----------------------------------------------------------------------------
ERRORS = [
    ("echo 'unterminated\nx", 1, "unterminated single quote starting at line 1"),
    ('usacloud a\nusacloud b\n\necho "x\n\ny', 4, "unterminated double quote starting at line 4"),
    ("usacloud 'ok\nstill ok'\necho \"x", 3, "unterminated double quote starting at line 3"),
    ("echo $(usacloud a", 1, "unterminated $( starting at line 1"),
    ("a\nb=$(\nusacloud a\n", 2, "unterminated $( starting at line 2"),
    ("echo `usacloud a", 1, "unterminated backtick starting at line 1"),
    ('x\n\necho "`usacloud a"', 3, "unterminated backtick starting at line 3"),
    ("echo ${X", 1, "unterminated ${ starting at line 1"),
    ("echo $'abc", 1, "unterminated $'...' string starting at line 1"),
    ("echo $((1 + 2", 1, "unterminated $(( starting at line 1"),
    ("echo <(usacloud a", 1, "unterminated <( starting at line 1"),
    ('echo "$(echo \'x)"', 1, "unterminated single quote starting at line 1"),
    ('echo x\\\n"abc', 2, "unterminated double quote starting at line 2"),
    ('echo `echo "a`', 1, "unterminated double quote starting at line 1"),
]


@pytest.mark.parametrize(("src", "line", "message"), ERRORS)
def test_syntax_errors(src, line, message):
    error = script_error(src)
    assert (error.line, error.message, str(error)) == (line, message, message)


def test_deep_nesting_is_an_error_not_a_crash():
    src = "echo " + "$(" * 500 + ")" * 500
    error = script_error(src)
    assert error.line == 1
    assert "nested more than" in error.message


def test_nul_in_text():
    error = script_error("usacloud a\nusacloud b\x00c\n")
    assert (error.line, error.message) == (2, "NUL byte at line 2, column 11: not a text script")


def test_script_error_pickles():
    import pickle

    error = pickle.loads(pickle.dumps(ScriptError(7, "unterminated double quote starting at line 7")))
    assert (error.line, error.message, str(error)) == (
        7,
        "unterminated double quote starting at line 7",
        "unterminated double quote starting at line 7",
    )


# --- empty input -------------------------------------------------------------------------------
@pytest.mark.parametrize("src", ["", "\n", "   \n\t\n", "# comment\n# another\n", "#!/bin/bash\n"])
def test_empty_scripts(src):
    assert parse_script(src) == ParsedScript((), (), ())


# --- reading files -----------------------------------------------------------------------------
def test_read_plain(tmp_path):
    path = tmp_path / "a.usacloud"
    path.write_bytes("#!/bin/bash\nusacloud server list # サーバー\n".encode())
    assert read_script_text(path) == "#!/bin/bash\nusacloud server list # サーバー\n"
    assert read_script_text(str(path)) == "#!/bin/bash\nusacloud server list # サーバー\n"


def test_read_keeps_the_bom_and_crs_as_bash_reads_them(tmp_path):
    path = tmp_path / "a.usacloud"
    path.write_bytes(b"\xef\xbb\xbf# pytest.mark.slow\r\nusacloud a \\\r\n  b\r\n")
    text = read_script_text(path)
    assert text == "\ufeff# pytest.mark.slow\r\nusacloud a \\\r\n  b\r\n"
    assert parse_markers(text) == (MarkerSpec(1, "slow", (), {}),)  # the plugin's own header: read anyway


def test_a_bom_is_part_of_the_first_word_as_in_bash():
    """bash: `\ufeffusacloud: command not found` (exit 127), and a BOM before `#!` makes no comment."""
    result = parse_script("\ufeffusacloud a\nusacloud b\n")
    assert [c.words for c in result.commands] == [("usacloud", "b")]
    assert result.skipped[0].reason == "not a usacloud command: \ufeffusacloud"
    result = parse_script("\ufeff#!/bin/bash\n# pytest.mark.slow\nusacloud b\n")
    assert [c.words for c in result.commands] == [("usacloud", "b")]
    assert [m.name for m in result.markers] == ["slow"]


@pytest.mark.parametrize(
    ("src", "line"),
    [
        ("usacloud a\r\nusacloud b\r\n", 1),  # a Windows file: bash runs `usacloud a\r`
        ("usacloud a\nusacloud b\r\n", 2),
        ("usacloud a\nexit 0\r", 2),
        # a here-document whose terminator ends in CR does not end there: bash reads on to the end
        ("cat <<EOF\nbody\nEOF\r\nusacloud server delete -y web\n", 3),
        ("usacloud 'b\r\nc'\n", 1),
    ],
)
def test_windows_line_endings_are_refused_before_anything_runs(src, line):
    error = script_error(src)
    assert error.line == line
    assert error.message.startswith(f"line {line} ends with a carriage return (Windows CRLF line endings)")
    assert "dos2unix" in error.message


def test_a_cr_inside_a_line_is_a_word_character():
    assert [c.words for c in parse_script("usacloud zone\rlist\n").commands] == [("usacloud", "zone\rlist")]


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        (b"usacloud a\nusacloud \x00b\n", 2, "NUL byte at line 2, column 10: not a text script"),
        (b"\x00", 1, "NUL byte at line 1, column 1: not a text script"),
        (b"a\nb\nc\xff\n", 3, "not UTF-8: invalid byte 0xff at line 3, column 2"),
        ("# サーバー\n".encode() + b"echo \xe3\x81\n", 2, "not UTF-8: invalid byte 0xe3 at line 2, column 6"),
        ("echo サ".encode() + b"\x80", 1, "not UTF-8: invalid byte 0x80 at line 1, column 7"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", 1, "not UTF-8: invalid byte 0x89 at line 1, column 1"),
        (b"ok\n\x00\xff", 2, "NUL byte at line 2, column 1: not a text script"),
    ],
)
def test_read_bad_bytes(tmp_path, data, line, message):
    path = tmp_path / "bad.usacloud"
    path.write_bytes(data)
    with pytest.raises(ScriptError) as info:
        read_script_text(path)
    assert (info.value.line, info.value.message) == (line, message)


def test_read_size_limit(tmp_path):
    path = tmp_path / "big.usacloud"
    path.write_bytes(b"x" * 100)
    assert read_script_text(path, max_bytes=100) == "x" * 100
    with pytest.raises(ScriptError) as info:
        read_script_text(path, max_bytes=99)
    assert info.value.line == 0
    assert info.value.message == "script is 100 bytes (over the limit of 99; raise usacloud_max_script_bytes)"


def test_read_default_limit(tmp_path):
    assert MAX_SCRIPT_BYTES_DEFAULT == 1024 * 1024
    path = tmp_path / "big.usacloud"
    path.write_bytes(b"#" * (MAX_SCRIPT_BYTES_DEFAULT + 5))
    with pytest.raises(ScriptError, match=r"^script is 1048581 bytes \(over the limit of 1048576; raise"):
        read_script_text(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO")
def test_read_size_limit_on_a_stream(tmp_path):
    import threading

    fifo = tmp_path / "fifo.usacloud"
    os.mkfifo(fifo)

    def writer():
        with open(fifo, "wb") as fh:
            try:
                fh.write(b"y" * 5000)
            except BrokenPipeError:
                pass

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        with pytest.raises(ScriptError) as info:
            read_script_text(fifo, max_bytes=10)
    finally:
        thread.join(5)
    assert info.value.message == "script is more than 10 bytes (over the limit of 10; raise usacloud_max_script_bytes)"


# --- the data classes --------------------------------------------------------------------------
def test_dataclasses_are_frozen():
    command = only("usacloud a")
    assert command == Command(1, 1, "usacloud a", ("usacloud", "a"), None, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        command.line = 2
    assert hash(command) == hash(Command(1, 1, "usacloud a", ("usacloud", "a"), None, False))
    result = parse_script("echo\nusacloud a")
    assert isinstance(result.commands, tuple) and isinstance(result.skipped, tuple)
    assert result.skipped == (SkippedLine(1, "echo", "not a usacloud command: echo"),)


# --- size --------------------------------------------------------------------------------------
def test_large_script():
    lines = []
    for i in range(20_000):
        kind = i % 5
        if kind == 0:
            lines.append(
                f"usacloud server list --zone=tk1v --name 'srv-{i}' -o json | jq -r '.[].ID' # usacloud-update: ok"
            )
        elif kind == 1:
            lines.append(f'ID_{i}=$(usacloud server create --name "n{i}" --zone tk1v -q) && echo "$ID_{i}" >> ids')
        elif kind == 2:
            lines.append(f'echo "step {i}: waiting for the server to boot ............................"')
        elif kind == 3:
            lines.append(f'usacloud disk read --zone=tk1v "$ID_{i - 2}" 2>/dev/null > out-{i}.json')
        else:
            lines.append(f"# comment line {i} ...............................................")
    text = "\n".join(lines) + "\n"
    assert 1_000_000 < len(text) < 1_700_000
    result = parse_script(text)
    assert len(result.commands) == 12_000
    assert len(result.skipped) == 4_000
    assert result.commands[-1].line == 19_999
    assert result.commands[-1].expansion == "$ID_19996"
    assert sum(c.nested for c in result.commands) == 4_000
