"""Which environment variables a script may hand to usacloud, in either mode.

usacloud reads where and how it talks from its environment (API root, profiles, zone, fake mode,
trace, proxies, TLS trust store): a leftover ``export`` from a production runbook could take the run
out of the sandbox or send the key elsewhere. So a call gets the run's environment plus the harmless
settings the script gave (:func:`kind`), with the run's pins laid over everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from .commands import SANDBOX_ZONE

Kind = Literal["allow", "refuse", "other"]

_PREFIXES = ("SAKURACLOUD_", "SAKURA_")

#: usacloud settings (read as SAKURACLOUD_X and SAKURA_X) that change neither where usacloud talks,
#: nor with which key, nor how often: a script may set them.
_ALLOWED_SETTINGS = (
    "ARGUMENT_MATCH_MODE",
    "DEFAULT_OUTPUT_TYPE",
    "DEFAULT_QUERY_DRIVER",
    "ACCEPT_LANGUAGE",
    "NO_COLOR",
    "PROCESS_TIMEOUT_SEC",
    "API_REQUEST_TIMEOUT",
)
ALLOWED = frozenset(
    {prefix + name for prefix in _PREFIXES for name in _ALLOWED_SETTINGS}
    | {"NO_COLOR", "TERM", "COLUMNS", "LINES", "LANG", "LANGUAGE", "TZ"}
)
_ALLOWED_PATTERN = re.compile(r"LC_[A-Z]+")

#: The zone variables: the run pins them to the sandbox zone.
ZONE_VARIABLES = frozenset(prefix + name for prefix in _PREFIXES for name in ("ZONE", "ZONES"))

#: The variables that turn usacloud's HTTP trace on (usacloud's config and saclient-go read them).
#: The trace prints the key's credentials on stderr: a script may not set them (they are in the
#: refused namespaces), and shell mode drops them from the run's own environment too, because there
#: usacloud's stderr is the script's.
TRACE_VARIABLES = frozenset({"SAKURACLOUD_TRACE", "SAKURA_TRACE", "USACLOUD_TRACE", "SAKURACLOUD_TRACE_MODE"})

_NAMESPACES = ("SAKURACLOUD_", "SAKURA_", "USACLOUD_")
_PROXIES = frozenset({"http_proxy", "https_proxy", "all_proxy", "no_proxy"})
_TLS = frozenset({"SSL_CERT_FILE", "SSL_CERT_DIR"})


def kind(name: str) -> Kind:
    """Whether a script may set ``name`` for usacloud: ``allow`` (a harmless setting: match mode,
    output type, colour, language), ``refuse`` (usacloud's namespaces beyond those, a proxy variable
    in any case, the TLS trust store: the call is refused, naming it) or ``other`` (``HOME``,
    ``PATH``: never passed). The zone variables are refused unless set to the sandbox zone."""
    if name in ALLOWED or _ALLOWED_PATTERN.fullmatch(name):
        return "allow"
    if name.startswith(_NAMESPACES) or name.lower() in _PROXIES or name in _TLS:
        return "refuse"
    return "other"


@dataclass(frozen=True)
class EnvRefusal:
    """A variable the script set that must not reach usacloud."""

    name: str
    reason: str

    def describe(self) -> str:
        return f"the script sets {self.name}: {self.reason}"


def _refusal(name: str, value: str) -> EnvRefusal | None:
    if name in ZONE_VARIABLES:
        if value == SANDBOX_ZONE:
            return None
        return EnvRefusal(name, f"usacloud runs only in the sandbox zone {SANDBOX_ZONE}, not {value!r}")
    if kind(name) == "refuse":
        return EnvRefusal(name, "it changes where or how usacloud talks (or with which key), so the sandbox refuses it")
    return None


def from_prefixes(assignments: Iterable[tuple[str, str]]) -> tuple[dict[str, str], EnvRefusal | None]:
    """Commands mode: the ``VAR=value`` words before ``usacloud``.

    Returns the settings to apply, or the first refusal. A prefix that is neither an allowed setting
    nor a zone pin to the sandbox zone refuses the command.
    """
    applied: dict[str, str] = {}
    for name, value in assignments:
        refusal = _refusal(name, value)
        if refusal is not None:
            return {}, refusal
        if name in ZONE_VARIABLES:
            continue  # the run pins it to the same value
        if kind(name) != "allow":
            return {}, EnvRefusal(
                name,
                "only harmless usacloud settings may be given before usacloud in commands mode; "
                f"allowed: {', '.join(sorted(n for n in ALLOWED if n.startswith('SAKURACLOUD_')))}",
            )
        applied[name] = value
    return applied, None


def from_shell(call_env: Mapping[str, str], given: Mapping[str, str]) -> tuple[dict[str, str], EnvRefusal | None]:
    """Shell mode: the calling process's environment against the one the run gave bash.

    A variable counts as set by the script when it is new or its value differs from ``given``.
    Returns the allowed settings to apply, or the first refusal (in name order, so it is stable).
    Variables the script removed are ignored: the run's own environment and pins apply.
    """
    applied: dict[str, str] = {}
    for name in sorted(call_env):
        value = call_env[name]
        if given.get(name) == value:
            continue
        refusal = _refusal(name, value)
        if refusal is not None:
            return {}, refusal
        if kind(name) == "allow":
            applied[name] = value
    return applied, None
