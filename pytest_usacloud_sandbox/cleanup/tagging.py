"""A create's words with the run's tag added, kept beside the script's own tags.

usacloud reads ``--parameters`` JSON first and parses the flags again on top of it, so the tag goes
where the script's tags are: one more ``--tags`` beside a ``--tags`` flag, into the JSON's ``Tags``
when only the JSON has them, else ``--tags``. A disk does not inherit its server's tags, so a new disk
of ``server create`` gets the tag too. A create that would end with more than 10 tags is refused.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..record.command import CommandRecord
from ..record.vocabulary import CommandStatus, ResultClass
from ..usacloud import commands, params
from ..usacloud.mask import Masker
from ..usacloud.policy import Refusal
from . import resources
from .runid import MAX_TAGS, SCRIPT_TAG_PREFIX, TAG_PREFIX


@dataclass(frozen=True)
class Tagged:
    """A command after tagging. ``resource`` is set for a create (what it makes)."""

    words: tuple[str, ...]
    resource: str | None = None
    by: str = ""  # "tag" (found by the run's tag), "id" (by the ID it prints), "none" (cannot be removed)
    refusal: str | None = None
    name: str = ""
    disks: str = "none"  # server create: "new" | "existing" | "unknown" | "none"
    reason: str = ""  # for "none": why the teardown cannot remove it


def read_json(value: str, base_dir: Path | None) -> tuple[params.Parameters, dict | None]:
    """``--parameters`` as usacloud reads it (the package's one reader), and its object as plain
    dicts and lists to add tags to (a key given twice: the last, as Go keeps it)."""
    found = params.read_parameters(value, base_dir)
    return found, _plain(found.data) if found.data is not None else None


def _plain(value):
    if isinstance(value, params.JSONObject):
        return {key: _plain(item) for key, item in value}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, params.FloatLiteral):
        return float(value)
    return value


def tag_create(words: Sequence[str], tags: Sequence[str], base_dir: Path | None = None) -> Tagged:
    """``words`` with ``tags`` added when they are a create; any other command comes back unchanged,
    or refused when it gives a resource a tag of this plugin (:func:`plugin_tags`). The JSON's
    ``Tags`` is any key that folds to it, as Go's decoder matches keys; the JSON then goes inline. A
    new disk of ``server create`` gets ``--disk-tags`` (and ``Disks`` entries without an ``ID`` the
    tag); a disk it only connects (``--disk-id``, ``--disk-ids``, an entry with an ``ID``) never."""
    words = tuple(words)
    inv = commands.resolve(words)
    res, sub = inv.resource, inv.subcommand
    if res is None or sub is None or sub.read_only:
        return Tagged(words)
    given = plugin_tags(inv, base_dir)
    foreign = [t for t in given if sub.kind != "create" or t not in tags]
    if foreign:
        why = (
            f"`{res.name} {sub.name}` gives the tag {foreign[0]}: the teardown removes what carries the run's tag, "
            "so only the plugin gives its tags (usacloud-run=, usacloud-script=), each to what the run creates"
        )
        return Tagged(words, refusal=why)
    if sub.kind != "create":
        return Tagged(words)
    name = next((u.value for u in inv.flag_uses("--name") if u.value), "")
    if not resources.takes_tags(sub):
        if sub.name == "create" and resources.deletes_by_id(res.name):
            return Tagged(words, res.name, "id", name=name)
        why = f"`{res.name} {sub.name}` takes no tags and is not deleted by its ID"
        return Tagged(words, res.name, "none", name=name, reason=why)
    params_use = next(iter(inv.flag_uses("--parameters")), None)
    given, data = read_json(params_use.value or "", base_dir) if params_use is not None else (None, None)
    flag_tags = [t for u in inv.flag_uses("--tags") for t in _csv(u.value)]
    json_tags = _json_tags(data)
    new = [t for t in tags if t not in flag_tags and t not in json_tags]
    count = len(flag_tags) + len(json_tags) + len(new)
    if count > MAX_TAGS:
        return Tagged(words, res.name, "tag", refusal=_too_many(res.name, count - len(new), new), name=name)
    disks = resources.server_disks(inv) if res.name == "server" else "none"
    inserted: list[str] = []
    if flag_tags or not isinstance(data, dict):
        inserted += [w for t in new for w in ("--tags", t)]
    else:
        data = _with_tags(data, new)
    if disks == "new":
        disk_tags = [t for u in inv.flag_uses("--disk-tags") for t in _csv(u.value)]
        add = [t for t in tags if t not in disk_tags]
        if len(disk_tags) + len(add) > MAX_TAGS:
            why = _too_many("server create --disk", len(disk_tags), add)
            return Tagged(words, res.name, "tag", refusal=why, name=name, disks=disks)
        inserted += [w for t in add for w in ("--disk-tags", t)]
    if isinstance(data, dict) and res.name == "server":
        data, json_disks = _with_disk_tags(data, tags)
        disks = _merge(disks, json_disks)
    out = list(words)
    if params_use is not None and isinstance(data, dict) and data != _plain(given.data):
        text = json.dumps(data, ensure_ascii=False)
        if params_use.value_index is not None:
            out[params_use.value_index] = text
        else:
            out[params_use.index] = f"{params_use.name}={text}"
    at = inv.subcommand_index + 1 if inv.subcommand_index is not None else _end(out)
    out[at:at] = inserted
    return Tagged(tuple(out), res.name, "tag", name=name or _json_name(data), disks=disks)


def plugin_tags(inv: commands.Invocation, base_dir: Path | None) -> list[str]:
    """The tags of this plugin (``usacloud-run=...``, ``usacloud-script=...``) a command gives: in a
    tags flag (``--tags``, ``--disk-tags``) or under any ``Tags`` key of its ``--parameters`` JSON."""
    given = [
        t for u in inv.flags if u.flag is not None and u.flag.field.split(".")[-1] == "Tags" for t in _csv(u.value)
    ]
    for use in inv.flag_uses("--parameters"):
        found = params.read_parameters(use.value or "", base_dir)
        given += _tags_in(found.data)
    return [t for t in given if isinstance(t, str) and t.strip().startswith((TAG_PREFIX, SCRIPT_TAG_PREFIX))]


def _tags_in(data, depth: int = 0) -> list:
    """Every value under a key Go would read as ``Tags``, at any depth of decoded JSON."""
    if depth > 64:
        return []
    found: list = []
    if isinstance(data, params.JSONObject):
        for key, value in data:
            if params.go_fold(key) == params.go_fold("Tags"):
                found += value if isinstance(value, list) else [value]
            found += _tags_in(value, depth + 1)
    elif isinstance(data, list):
        for item in data:
            found += _tags_in(item, depth + 1)
    return found


def _csv(value: str | None) -> list[str]:
    """A string-slice flag's value as pflag reads it: comma-separated."""
    return [t for t in (value or "").split(",") if t]


def _key(data: dict, name: str) -> list[str]:
    """Every key of ``data`` Go's decoder would match to ``name`` (exactly, or by its case folding)."""
    folded = params.go_fold(name)
    return [k for k in data if isinstance(k, str) and (k == name or params.go_fold(k) == folded)]


def _json_tags(data) -> list[str]:
    if not isinstance(data, dict):
        return []
    found: list[str] = []
    for key in _key(data, "Tags"):
        if isinstance(data[key], list):
            found += [t for t in data[key] if isinstance(t, str) and t not in found]
    return found


def _with_tags(data: dict, tags: Sequence[str]) -> dict:
    """A copy of ``data`` whose ``Tags`` (each spelling, so whichever Go keeps) hold ``tags`` too."""
    out = dict(data)
    keys = _key(out, "Tags") or ["Tags"]
    for key in keys:
        have = out.get(key)
        have = list(have) if isinstance(have, list) else []
        out[key] = have + [t for t in tags if t not in have]
    return out


def _with_disk_tags(data: dict, tags: Sequence[str]) -> tuple[dict, str]:
    """``Disks`` entries that make a new disk (no ``ID``) get ``tags``; returns the data and what the
    entries do ("new", "existing", or "none")."""
    out, kinds = dict(data), set()
    for key in _key(out, "Disks"):
        if not isinstance(out[key], list):
            continue
        entries = []
        for entry in out[key]:
            if isinstance(entry, dict) and any(entry[k] for k in _key(entry, "ID")):
                kinds.add("existing")
            elif isinstance(entry, dict):
                kinds.add("new")
                entry = _with_tags(entry, tags)
            entries.append(entry)
        out[key] = entries
    return out, "existing" if "existing" in kinds else ("new" if kinds else "none")


def _merge(flags: str, json_disks: str) -> str:
    for kind in ("existing", "unknown", "new"):
        if kind in (flags, json_disks):
            return kind
    return "none"


def _json_name(data) -> str:
    if isinstance(data, dict):
        for key in _key(data, "Name"):
            if isinstance(data[key], str):
                return data[key]
    return ""


def _end(words: list[str]) -> int:
    """Where flags may still go: before a ``--`` that ends them, else at the end."""
    return words.index("--") if "--" in words else len(words)


def _too_many(what: str, have: int, new: Sequence[str]) -> str:
    return (
        f"`{what}` already has {have} tags; with the run's {', '.join(new)} it would have {have + len(new)}, "
        f"more than the {MAX_TAGS} usacloud allows, and the run could not find it to remove it"
    )


def record(cmd: CommandRecord, masker: Masker, tagged: Tagged) -> bool:
    """Put the words with the run's tag in ``cmd``; False, with ``cmd`` refused, when the tag cannot
    be added (the create already has the most tags usacloud allows)."""
    cmd.words = list(masker.words(tagged.words))
    if tagged.refusal is None:
        return True
    cmd.status, cmd.cls = CommandStatus.REFUSED, ResultClass.REFUSED
    cmd.message = masker.text(Refusal("run-tag", tagged.refusal, ()).describe())
    return False
