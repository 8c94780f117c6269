"""usacloud 1.22.8's validation of its own settings (``Config.Validate``), offline.

Before any command runs, usacloud takes the match mode from ``--argument-match-mode`` when given
(even empty), else from the first non-empty of SAKURA_X and SAKURACLOUD_X; the default output type
and query driver from those variables only. Each must be exactly one of its values (case-sensitive)
or empty; otherwise usacloud prints ``validation error:`` with one line per setting and exits 0.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..record.command import Finding
from .commands import Invocation
from .finding import ERROR, did_you_mean, first
from .values import suggest

MATCH_MODE_FLAG = "--argument-match-mode"
#: (usacloud's label, the flag that sets it or None, the variable's name after SAKURA_/SAKURACLOUD_,
#: the values usacloud accepts besides ""), in Config.Validate's order.
SETTINGS = (
    ("profile.DefaultOutputType", None, "DEFAULT_OUTPUT_TYPE", ("table", "json", "yaml")),
    (MATCH_MODE_FLAG, MATCH_MODE_FLAG, "ARGUMENT_MATCH_MODE", ("partial", "exact")),
    ("profile.DefaultQueryDriver", None, "DEFAULT_QUERY_DRIVER", ("jmespath", "jq")),
)
#: Values of root flags that usacloud checks (the tree lists allowed values for subcommand flags only).
ROOT_FLAG_VALUES = {flag: choices for _, flag, _, choices in SETTINGS if flag}


def _from_env(env: Mapping[str, str], name: str) -> tuple[str, str] | None:
    """(variable, value) usacloud takes: the first of SAKURA_X, SAKURACLOUD_X that is not empty."""
    for variable in ("SAKURA_" + name, "SAKURACLOUD_" + name):
        if env.get(variable):
            return variable, env[variable]
    return None


def problems(inv: Invocation, env: Mapping[str, str]) -> list[Finding]:
    """A ``bad-value`` error for each setting usacloud would refuse, at the word that sets it."""
    found = []
    for label, flag, name, choices in SETTINGS:
        uses = inv.flag_uses(flag) if flag else ()
        if uses:  # pflag keeps the last; usacloud takes it even when empty
            value, word, what = uses[-1].value or "", uses[-1].word, f"`{uses[-1].name}`"
        elif (setting := _from_env(env, name)) is not None:
            value, word, what = setting[1], f"{setting[0]}={setting[1]}", setting[0]
        else:
            continue
        if value in ("", *choices):
            continue
        close = suggest(value.lower(), choices)
        message = (
            f"{what} does not take `{value}`: usacloud accepts exactly {' or '.join(choices)} (case-sensitive; "
            f"empty: the default){did_you_mean(close[:2])}; it prints `validation error: {label}: must be one of "
            f"[{'/'.join(choices)}]` and runs nothing"
        )
        found.append(Finding(ERROR, "bad-value", word, message, first(close)))
    return found
