"""Fake mode (``--usacloud-fake``): dummy credentials, and what a timed-out command left behind.

usacloud's fake driver does not fake everything (``../shared/usacloud-facts.md``, transcript
findings 33-36):

* ``usacloud rest`` ignores fake mode and sends its request to the real API with whatever keys it
  finds. The policy refuses it under ``--usacloud-fake``; the credentials below make sure that
  anything else that escaped the fake driver could not authenticate either.
* Changing commands can hang for ever *after* doing their work (a race in usacloud's progress
  display). list and read never hang.

So under ``--usacloud-fake`` every usacloud child gets fixed dummy credentials instead of the user's:
the key variables get dummy values, the other ways to authenticate (service principal, private key)
are removed, profile lookups point at a place nothing can write (:mod:`.profiles`), with no profile named (usacloud
1.22.8 turns a named profile it cannot open into ``API Error - failed to open ...``, exit 0, nothing
run), and the ``--token`` / ``--secret`` words of a command get the dummy values too (``--profile X``,
``--private-key-path`` and the service-principal flags are dropped with their values).

After a timeout, a changing command counts as done when its effect is visible: create and update
print the resource (``-q`` prints the new ID, ``-o json`` the array), and a script may need it, so
for them the printed output is the evidence; delete, boot, shutdown, reset print nothing on success,
but usacloud rewrites the whole store on each change, so for them a store file that changed while
they ran is (or output). A wait command changes nothing, so a wait that times out has no visible
effect and fails as ``timeout``: a ``wait-until-ready`` on a server that was never booted really
does wait for ever.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import commands, mask, profiles
from .params import read_parameters
from .profiles import PROFILE_DIR_ENV

DUMMY_TOKEN = "usacloud-sandbox-fake-token"
DUMMY_SECRET = "usacloud-sandbox-fake-secret"

_PREFIXES = ("SAKURACLOUD_", "SAKURA_")
TOKEN_ENV = tuple(prefix + "ACCESS_TOKEN" for prefix in _PREFIXES)
SECRET_ENV = tuple(prefix + "ACCESS_TOKEN_SECRET" for prefix in _PREFIXES)
#: The profile name. Never set by the sandbox: usacloud 1.22.8 fails (exit 0, nothing run) on a named
#: profile missing from the profile directory, even ``default``; with no name it reads no profile.
PROFILE_ENV = ("SAKURACLOUD_PROFILE", "SAKURA_PROFILE", "USACLOUD_PROFILE")
#: Every other credential variable (the service principal, its private key, the USACLOUD_ forms):
#: never passed in fake mode.
REMOVED_ENV = tuple(name for name in mask.SECRET_ENV if name not in TOKEN_ENV + SECRET_ENV)
STORE_ENV = tuple(prefix + "FAKE_STORE_PATH" for prefix in _PREFIXES)
#: Fake mode on, for a call that has no fake store (each process then starts from fresh fake data).
MODE_ENV = {prefix + "FAKE_MODE": "1" for prefix in _PREFIXES}

#: Credential flags (canonical names) and their dummy value.
_DUMMY_FLAG_VALUES = {
    "--token": DUMMY_TOKEN,
    "--access-token": DUMMY_TOKEN,  # `config create/edit --token` (an alias)
    "--secret": DUMMY_SECRET,
    "--access-token-secret": DUMMY_SECRET,
}
#: Dropped with their values: another way to sign in, or a profile (which the empty directory lacks).
_DROPPED_FLAGS = frozenset({"--profile", "--private-key-path", "--service-principal-id", "--service-principal-key-id"})

#: Subcommand kinds that change something (and may hang in fake mode after doing it), and what
#: shows that they did: create and update print the resource; the others print nothing on success
#: but usacloud rewrites the fake store on every change.
EFFECTS = {
    "create": "output",
    "update": "output",
    "delete": "store",
    "power": "store",
    "op": "store",
    "disruptive": "store",
}


def dummy_env(profile_dir: str | None = None) -> dict[str, str]:
    """The variables laid over every usacloud child's environment in fake mode (no profile name:
    :func:`apply_env` removes those)."""
    env = dict.fromkeys(TOKEN_ENV, DUMMY_TOKEN)
    env.update(dict.fromkeys(SECRET_ENV, DUMMY_SECRET))
    env.update(dict.fromkeys(PROFILE_DIR_ENV, str(profile_dir or profiles.NO_PROFILES)))
    return env


def apply_env(env: Mapping[str, str], profile_dir: str | None = None) -> dict[str, str]:
    """``env`` with the user's credentials replaced by dummies, the other ways to sign in and any
    profile name removed, and the profile directory pinned to ``profile_dir`` (default: the place
    nothing can write, :data:`.profiles.NO_PROFILES`)."""
    out = without_profile_name(env)
    for name in REMOVED_ENV:
        out.pop(name, None)
    out.update(dummy_env(profile_dir))
    return out


def without_profile_name(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without the profile name variables (:data:`PROFILE_ENV`)."""
    return {k: v for k, v in env.items() if k not in PROFILE_ENV}


def dummy_words(words: Sequence[str]) -> tuple[str, ...]:
    """A command's words with every credential flag's value replaced by its dummy.

    ``--token X`` / ``--token=X`` (and ``--secret``, ``config create --access-token``) get the dummy
    value; ``--profile``, ``--private-key-path`` and the service-principal flags are dropped with their
    values. Words after ``--`` are arguments, left alone.
    """
    out: list[str | None] = list(words)
    for use in commands.resolve(words).flags:
        name = use.flag.name if use.flag is not None else use.name
        if name in _DUMMY_FLAG_VALUES and use.value is not None:
            dummy = _DUMMY_FLAG_VALUES[name]
            if use.value_index is not None:
                out[use.value_index] = dummy
            else:
                out[use.index] = f"{use.name}={dummy}"
        elif name in _DROPPED_FLAGS:
            out[use.index] = None
            if use.value_index is not None:
                out[use.value_index] = None
    for index, word in enumerate(
        words
    ):  # `-token X` (one dash): usacloud refuses it, its value is replaced all the same
        name, eq, _ = word.partition("=")
        dummy = _DUMMY_FLAG_VALUES.get(mask.long_name(name)) if not word.startswith("--") else None
        if dummy is not None and out[index] is not None:
            if eq:
                out[index] = f"{name}={dummy}"
            elif index + 1 < len(out) and out[index + 1] is not None:
                out[index + 1] = dummy
    return tuple(w for w in out if w is not None)


def effect(words: Sequence[str]) -> str | None:
    """What shows that a changing command did its work: ``"output"`` (create, update) or ``"store"``
    (delete, power and the other changes); None for a command that changes nothing (list, read, wait)."""
    sub = commands.resolve(words).subcommand
    return EFFECTS.get(sub.kind) if sub is not None else None


#: Subcommands that connect an interface to the shared segment, and the parameter field that says
#: so (None: always). usacloud's fake driver can do that only in the process that created its store.
SHARED_SEGMENT = {
    ("server", "create"): "NetworkInterface.Upstream",
    ("mobile-gateway", "create"): None,
    ("vpc-router", "create-standard"): None,
}


def connects_shared_segment(words: Sequence[str], base_dir: str | Path | None = None) -> bool:
    """Whether the command connects something to the shared segment (``server create
    --network-interface-upstream shared``, also through ``--parameters``; a mobile gateway; a
    standard-plan VPC router). ``base_dir``: where a relative ``--parameters`` file is read."""
    inv = commands.resolve(words)
    if inv.resource is None or inv.subcommand is None:
        return False
    key = (inv.resource.name, inv.subcommand.name)
    if key not in SHARED_SEGMENT:
        return False
    field = SHARED_SEGMENT[key]
    if field is None:
        return True
    given = [u.value for u in inv.flags if u.flag is not None and u.flag.field == field and u.value is not None]
    parameters = [u.value for u in inv.flags if u.name == "--parameters" and u.value is not None]
    if parameters:  # it replaces every flag's value
        given = [read_parameters(parameters[-1], base_dir).value(field)]
    return bool(given) and given[-1] == "shared"


def store_path(words: Sequence[str], env: Mapping[str, str]) -> Path | None:
    """The fake store the command uses: its last ``--fake-store``, else the environment's."""
    given = [u.value for u in commands.resolve(words).flags if u.name == "--fake-store" and u.value]
    if given:
        return Path(given[-1])
    value = next((env[name] for name in STORE_ENV if env.get(name)), None)
    return Path(value) if value else None


def fingerprint(path: Path | None) -> str | None:
    """The store file's content digest (None when there is none): what a change leaves behind."""
    if path is None:
        return None
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
