"""Fake mode's dummy credentials: no usacloud child of a ``--usacloud-fake`` run holds the user's key.

The key variables get dummy values, the other ways to sign in are removed, profiles point at the
place nothing can write with no profile named, and a command's ``--token``/``--secret`` words get
the dummies too (``--profile`` and the other sign-in flags are dropped with their values).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..usacloud import commands, mask, profiles
from ..usacloud.profiles import PROFILE_DIR_ENV, without_profile_name

DUMMY_TOKEN = "usacloud-sandbox-fake-token"
DUMMY_SECRET = "usacloud-sandbox-fake-secret"

_PREFIXES = ("SAKURACLOUD_", "SAKURA_")
TOKEN_ENV = tuple(prefix + "ACCESS_TOKEN" for prefix in _PREFIXES)
SECRET_ENV = tuple(prefix + "ACCESS_TOKEN_SECRET" for prefix in _PREFIXES)
#: Every other credential variable (the service principal, its private key, the USACLOUD_ forms):
#: never passed in fake mode.
REMOVED_ENV = tuple(name for name in mask.SECRET_ENV if name not in TOKEN_ENV + SECRET_ENV)
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
    nothing can write, :data:`..usacloud.profiles.NO_PROFILES`)."""
    out = without_profile_name(env)
    for name in REMOVED_ENV:
        out.pop(name, None)
    out.update(dummy_env(profile_dir))
    return out


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
