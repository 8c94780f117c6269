"""No input makes the plugin raise anything but the script's own error (a seeded random loop).

Random bytes, shell text built from the characters and words that matter to the lexer (quotes,
substitutions, here-documents, keywords, Unicode spaces, a BOM, CRs) and very long lines go through
what an item does with a script in commands mode: read, parse, the straight-line rule, the offline
check, the policy, masking, the run (dry-run) and the failure text. Random requests go to shell
mode's broker's reader.
"""

from __future__ import annotations

import random
import socket

import pytest

from pytest_usacloud_sandbox.report.reprs import failure_text, printable
from pytest_usacloud_sandbox.run import protocol
from pytest_usacloud_sandbox.script.parse import ScriptError, parse_script, read_script_text

SEED = 20261207
UNICODE_SPACES = "\u00a0\u1680\u2000\u2003\u2007\u200b\u2028\u2029\u202f\u205f\u3000\ufeff\x0b\x0c\x85"
PIECES = [
    *"'\"`$(){}[]<>|&;#\\*?~=!\n\t ",
    *UNICODE_SPACES,
    "\r",
    "\r\n",
    "$(",
    "${",
    "$((",
    "<<",
    "<<-",
    "EOF",
    "\nEOF\n",
    "$'",
    "\\\n",
    "usacloud",
    "usacloud ",
    " server",
    " switch",
    " delete",
    " create",
    " -y",
    " --zone",
    "=is1a",
    " --parameters ",
    '{"Name":"a"}',
    " --token ",
    " --trace",
    " ''",
    ' ""',
    "if ",
    "then ",
    "fi",
    "case ",
    " in ",
    "esac",
    "for ",
    "do ",
    "done",
    "while ",
    "function ",
    "f()",
    "{ ",
    "}",
    "exit",
    "eval ",
    "kill $$",
    "set -n",
    "alias usacloud=",
    "coproc ",
    "SAKURACLOUD_ZONE=",
    "x=",
    "サーバー",
    "\x00",
    "\x1b[31m",
]


def texts(count: int, rng: random.Random):
    for _ in range(count):
        n = rng.randrange(1, 60)
        yield "".join(rng.choice(PIECES) for _ in range(n))


def item_path(text: str, dry_engine) -> None:
    """What an item does with a script's text in commands mode (dry-run: nothing runs); the dry-run
    also checks the commands of a script that is not straight-line (one meant for shell mode)."""
    try:
        parsed = parse_script(text)
    except ScriptError as exc:
        assert isinstance(exc.line, int) and exc.line >= 0 and exc.message  # noqa: PT017 - the error itself is the result
        return
    error = parsed.straight_line_error()
    assert error is None or (error.line >= 0 and error.message)
    record = dry_engine(text)
    failure_text(record, "scripts/fuzz.usacloud")
    printable(str(record.message))


def test_random_shell_text(dry_engine):
    rng = random.Random(SEED)
    for text in texts(1500, rng):
        item_path(text, dry_engine)


def test_random_bytes_from_a_file(tmp_path, dry_engine):
    rng = random.Random(SEED + 1)
    path = tmp_path / "fuzz.usacloud"
    for _ in range(300):
        path.write_bytes(rng.randbytes(rng.randrange(0, 200)))
        try:
            text = read_script_text(path)
        except ScriptError:
            continue
        item_path(text, dry_engine)


@pytest.mark.parametrize("blank", [*UNICODE_SPACES, " \t", "\u3000\u3000"])
def test_a_line_of_unicode_spaces_is_a_word_not_a_crash(blank, dry_engine):
    item_path(blank + "\n", dry_engine)
    item_path(f"usacloud zone list\n{blank}\nusacloud{blank}switch list\n", dry_engine)


def test_long_lines(dry_engine):
    rng = random.Random(SEED + 2)
    for text in texts(3, rng):
        item_path((text + " ") * 2000, dry_engine)
    item_path("usacloud zone list " + "a" * 500_000 + "\n", dry_engine)
    item_path("usacloud server list --name '" + "x\n" * 20_000 + "'\n", dry_engine)
    item_path("echo " + "$(" * 99 + ")" * 99 + "\n", dry_engine)


def test_random_requests_on_the_brokers_socket():
    """A broker thread reads them: anything but a BadRequest would end it with a traceback."""
    rng = random.Random(SEED + 3)
    fields = [
        b"fn",
        b"shim",
        b"0" * 32,
        b"123",
        b"",
        b"0,1,2",
        b"2",
        b"-1",
        b"\xb2",
        b"\xc2\xb2",
        b"zone",
        b"{}",
        b"[]",
        b"\xff",
    ]
    for _ in range(300):
        data = b"".join(rng.choice(fields) + rng.choice([b"\0", b"", b"\0\0"]) for _ in range(rng.randrange(0, 12)))
        for unix in (False, True):
            a, b = socket.socketpair(socket.AF_UNIX)
            with a, b:
                a.sendall(data)
                a.shutdown(socket.SHUT_WR)
                try:
                    request = protocol.read_request(b, unix, lambda kind, token, pid: pid)
                except protocol.BadRequest:
                    continue
                assert isinstance(request.words, list) and isinstance(request.env, dict)
                protocol.close_all(request.fds)
