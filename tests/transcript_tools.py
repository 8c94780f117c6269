"""Replaying the recorded calls of the real usacloud 1.22.8 against the stand-in, and judging the answers.

The records are ``../shared/usacloud-transcripts.jsonl`` (described in its ``.md``): argv (``$STORE`` for
the fake store), the environment besides the dummy keys, HOME and PATH, the files written before the
call (``$CWD/...``, ``$HOME/...``; ``null``: an empty directory), the exit status (or ``"timeout"``), and
stdout and stderr normalised: non-zero timestamps ``<TIME>``, the store path ``$STORE``, the home
``$HOME``, the working directory ``$CWD``, each output cut to 4,000 characters. A replay does the same
to the stand-in's answer, so both compare as they are. Records of one ``sequence`` share a store and
run in ``step`` order.

:func:`judge` says how closely an answer follows its record: ``exact`` (byte for byte), ``shape`` (what
the plugin reads is the same: the exit status, the class and message the plugin's classifier finds,
the first stderr line, the IDs, the JSON keys and the fields that matter) or ``differs``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from standin_tools import STANDIN_CMD, shared_file, standin_env

from pytest_usacloud_sandbox.usacloud.classify import classify
from pytest_usacloud_sandbox.usacloud.result import RunResult

CUT = 4000
#: How long a call recorded as still running at its limit may run here before it counts as a timeout.
TIMEOUT_LIMIT = 5.0
#: Time stamps as usacloud prints them; the zero time of the fake driver's built-in data is kept.
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")
_ZERO_TIME = "0001-01-01T00:00:00Z"
#: The fields of a JSON answer that a script reads (the rest must exist, with any value).
FIELDS_THAT_MATTER = frozenset(
    {"ID", "Name", "Tags", "Description", "Zone", "InstanceStatus", "Availability", "ServerID", "SizeMB", "Scope"}
)


def transcripts() -> dict[str, dict]:
    """The records by id, in the file's order; a skip when ``../shared`` is absent."""
    path = shared_file("usacloud-transcripts.jsonl")
    return {t["id"]: t for t in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


def groups(records: dict[str, dict]) -> dict[str, list[dict]]:
    """The records as replay units: each call on its own, each sequence's calls in step order."""
    out: dict[str, list[dict]] = {}
    for t in records.values():
        key = f"sequence:{t['sequence']}" if t["sequence"] else t["id"]
        out.setdefault(key, []).append(t)
    for calls in out.values():
        calls.sort(key=lambda t: t["step"] or 0)
    return out


@dataclass(frozen=True)
class Answer:
    rc: int | str  # the exit status, or "timeout"
    stdout: str
    stderr: str


def replay(calls: list[dict], tmp_path: Path, command: list[str] | None = None) -> list[Answer]:
    """Run the calls of one group against the stand-in (or ``command``: another usacloud, e.g. the real
    binary), each in a fresh HOME and working directory, all on one fake store, as recorded."""
    store = tmp_path / "store.json"
    answers = []
    for n, t in enumerate(calls):
        home, cwd = tmp_path / f"{n}-home", tmp_path / f"{n}-cwd"
        home.mkdir()
        cwd.mkdir()
        places = {"$STORE": str(store), "$CWD": str(cwd), "$HOME": str(home)}
        for name, content in (t.get("files") or {}).items():
            path = Path(_placed(name, places))
            if content is None:
                path.mkdir(parents=True, exist_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content, encoding="utf-8")
        env = standin_env(tmp_path, STANDIN_STATE=None, STANDIN_LOG=None, HOME=home)
        env["SAKURACLOUD_ACCESS_TOKEN"] = "dummy-token"
        env["SAKURACLOUD_ACCESS_TOKEN_SECRET"] = "dummy-secret"
        env.update({name: _placed(value, places) for name, value in t["env"].items()})
        argv = [_placed(word, places) for word in t["argv"]]
        answers.append(_run([*(command or STANDIN_CMD), *argv], env, cwd, t["rc"] == "timeout", places))
    return answers


def _placed(text: str, places: dict[str, str]) -> str:
    for mark, path in places.items():
        text = text.replace(mark, path)
    return text


def _run(argv: list[str], env: dict, cwd: Path, may_hang: bool, places: dict[str, str]) -> Answer:
    proc = subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=TIMEOUT_LIMIT if may_hang else 60)
        rc: int | str = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, err = proc.communicate()
        rc = "timeout"
    return Answer(rc, _normalised(out, places), _normalised(err, places))


def _normalised(data: bytes, places: dict[str, str]) -> str:
    text = data.decode("utf-8", "replace")
    for mark, path in sorted(places.items(), key=lambda item: -len(item[1])):
        text = text.replace(path, mark)
    text = _TIME.sub(lambda m: m.group(0) if m.group(0) == _ZERO_TIME else "<TIME>", text)
    if len(text) > CUT:
        text = f"{text[:CUT]}...[cut {len(text) - CUT} chars]"
    return text


# -- judging an answer ------------------------------------------------------------------------------


def judge(record: dict, answer: Answer) -> tuple[str, str]:
    """(``exact`` | ``shape`` | ``differs``, what differs)."""
    if (answer.rc, answer.stdout, answer.stderr) == (record["rc"], record["stdout"], record["stderr"]):
        return "exact", ""
    problems = []
    if answer.rc != record["rc"]:
        problems.append(f"exit {answer.rc!r}, recorded {record['rc']!r}")
    problems += _stderr_shape(record, answer)
    problems += _stdout_shape(record["stdout"], answer.stdout)
    if problems:
        return "differs", "; ".join(problems)
    return "shape", ""


def _stderr_shape(record: dict, answer: Answer) -> list[str]:
    want, got = record["stderr"], answer.stderr
    if not want.strip() or not got.strip():
        return [] if bool(want.strip()) == bool(got.strip()) else [f"stderr {got[:200]!r}, recorded {want[:200]!r}"]
    problems = []
    first = [next(line for line in text.splitlines() if line.strip()) for text in (want, got)]
    if first[0] != first[1]:
        problems.append(f"first stderr line {first[1]!r}, recorded {first[0]!r}")
    if isinstance(record["rc"], int) and isinstance(answer.rc, int):
        seen = [classify(_result(rc, text)) for rc, text in ((record["rc"], want), (answer.rc, got))]
        if (seen[0].cls, seen[0].message) != (seen[1].cls, seen[1].message):
            got_, want_ = (f"{o.cls}: {o.message!r}" for o in (seen[1], seen[0]))
            problems.append(f"classified {got_}, recorded {want_}")
    return problems


def _result(rc: int, stderr: str) -> RunResult:
    return RunResult(("usacloud",), rc, None, "", stderr, False, 0.0, 0.0, 0.0)


def _stdout_shape(want: str, got: str) -> list[str]:
    if not want or not got:
        return [] if want == got else [f"stdout {got[:120]!r}, recorded {want[:120]!r}"]
    recorded, answered = _json(want), _json(got)
    if recorded is not None and not isinstance(recorded, (dict, list)):
        return [] if recorded == answered else [f"stdout {got[:120]!r}, recorded {want[:120]!r}"]
    if recorded is not None:
        if answered is None:
            return [f"stdout is not JSON: {got[:120]!r}"]
        return [f"JSON {p}" for p in _json_shape(recorded, answered, "$")][:5]
    if want.startswith("Usage:") or "\nUsage:\n" in want[:400]:
        return [] if got.startswith(want.split("\n", 1)[0]) else [f"help {got[:80]!r}, recorded {want[:80]!r}"]
    ids = [_ids(text) for text in (want, got)]
    if ids[0] != ids[1]:
        return [f"IDs {ids[1][:12]}, recorded {ids[0][:12]}"]
    if want.count("\n") != got.count("\n") and "...[cut" not in want:
        return [f"{got.count(chr(10))} lines, recorded {want.count(chr(10))}"]
    return []


def _json(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return None


def _json_shape(want, got, where: str, in_list: bool = False) -> list[str]:
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{where}: {type(got).__name__}, recorded an object"]
        problems = []
        if set(want) != set(got):
            missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
            problems.append(f"{where} keys: missing {missing}, extra {extra}")
        for key in sorted(set(want) & set(got)):
            if key in FIELDS_THAT_MATTER and not isinstance(want[key], (dict, list)) and want[key] != got[key]:
                problems.append(f"{where}.{key}: {got[key]!r}, recorded {want[key]!r}")
            else:
                problems += _json_shape(want[key], got[key], f"{where}.{key}")
        return problems
    if isinstance(want, list):
        if not isinstance(got, list) or len(want) != len(got):
            return [f"{where}: {_size(got)}, recorded {len(want)} items"]
        return [p for w, g in zip(want, got, strict=True) for p in _json_shape(w, g, f"{where}[]", in_list=True)]
    if in_list and want != got:  # a list of values (a --query's projection): the values themselves
        return [f"{where}: {got!r}, recorded {want!r}"]
    if isinstance(want, (int, float)) != isinstance(got, (int, float)) or isinstance(want, str) != isinstance(got, str):
        return [f"{where}: {got!r}, recorded {want!r}"]
    return []


def _size(value) -> str:
    return f"{len(value)} items" if isinstance(value, list) else type(value).__name__


def _ids(text: str) -> list[str]:
    """The resource IDs of a text output, in order (12-digit IDs, or lines that are only a number)."""
    return re.findall(r"(?m)\b\d{12}\b|^\d+$", text)
