"""The stand-in follows the real usacloud's `tags` sequence (transcripts tg-*): what cleanup builds on.

Run in order on one fake store, each call must exit and print on stderr as the real one did; its
stdout must say the same once the IDs are put aside (the stand-in numbers its resources its own way)
and JSON is read as names and tags. The fake driver's built-in switch (`スイッチ`, which only the
last listing shows) is not modelled by the stand-in and is left out of the comparison.
"""

import json
import re

import pytest
from standin_tools import run_standin, shared_file, standin_env

BUILT_IN = "スイッチ []\n"


def sequence(name: str) -> list[dict]:
    path = shared_file("usacloud-transcripts.jsonl")
    calls = [t for t in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if t["sequence"] == name]
    return sorted(calls, key=lambda t: t["step"])


def meaning(stdout: str):
    """What an output says, IDs aside: JSON as (name, tags) pairs, else the text with IDs blanked."""
    if stdout.startswith("["):
        return [(item.get("Name"), item.get("Tags")) for item in json.loads(stdout)]
    return re.sub(r"\b\d{12}\b", "<ID>", stdout.replace(BUILT_IN, ""))


def test_the_tags_sequence(tmp_path):
    calls = sequence("tags")
    assert [c["id"] for c in calls][:2] == ["tg-create", "tg-create-two"] and len(calls) == 18
    store = tmp_path / "store.json"
    ids: dict[str, str] = {}  # the real one's IDs -> the stand-in's, as they appear
    for call in calls:
        env = standin_env(tmp_path, STANDIN_STATE=None)
        env.update({k: v.replace("$STORE", str(store)) for k, v in call["env"].items()})
        argv = [ids.get(word, word) for word in call["argv"]]
        r = run_standin(argv, env)
        assert (r.returncode, r.stderr) == (call["rc"], call["stderr"]), call["id"]
        assert meaning(r.stdout) == meaning(call["stdout"]), call["id"]
        real, mine = re.findall(r"\b\d{12}\b", call["stdout"]), re.findall(r"\b\d{12}\b", r.stdout)
        if call["argv"][1] == "create":
            ids.update(zip(real, mine, strict=True))


@pytest.mark.parametrize("step", ["tg-create-long", "tg-create-eleven", "tg-read-by-tag"])
def test_a_tag_rule_alone(tmp_path, step):
    """Each rule also holds on its own, from an empty store (no earlier step needed)."""
    call = next(c for c in sequence("tags") if c["id"] == step)
    env = standin_env(tmp_path, STANDIN_STATE=None)
    env.update({k: v.replace("$STORE", str(tmp_path / "store.json")) for k, v in call["env"].items()})
    if step == "tg-read-by-tag":
        for name in ("a", "b"):
            assert (
                run_standin(["switch", "create", "-y", "--name", name, "--tags", "sandbox-run=abc123"], env).returncode
                == 0
            )
    r = run_standin(call["argv"], env)
    assert (r.returncode, r.stderr) == (call["rc"], call["stderr"])
