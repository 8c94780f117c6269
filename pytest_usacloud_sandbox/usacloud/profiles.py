"""Where usacloud looks for profiles when the run reads none: a place that nothing can write.

A profile can name a key, a zone, an API root and an HTTP trace (``Authorization`` header included),
and a shell-mode script runs as the run's own user: a directory of the run could get a planted
profile. So usacloud is pointed at :data:`NO_PROFILES` inside procfs, where the kernel creates nothing
for anyone, root included; :func:`planted` checks before each call that it still does not exist.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: The profile directory variables usacloud reads, SAKURACLOUD_ first.
PROFILE_DIR_ENV = ("SAKURACLOUD_PROFILE_DIR", "SAKURA_PROFILE_DIR", "USACLOUD_PROFILE_DIR")
#: The profile name. Never set by the sandbox: usacloud 1.22.8 fails (exit 0, nothing run) on a named
#: profile missing from the profile directory, even ``default``; with no name it reads no profile.
PROFILE_ENV = ("SAKURACLOUD_PROFILE", "SAKURA_PROFILE", "USACLOUD_PROFILE")
#: A profile directory that cannot exist, nor anything in it. usacloud 1.22.8 treats a missing profile
#: directory like an empty one (measured: commands run and read no profile, ``config list`` lists none).
NO_PROFILES = "/proc/self/usacloud-sandbox-no-profiles"


def pins(env: Mapping[str, str]) -> bool:
    """Whether ``env`` points usacloud at :data:`NO_PROFILES` (the run reads no profile)."""
    return any(env.get(name) == NO_PROFILES for name in PROFILE_DIR_ENV)


def planted(path: str | None = None) -> str | None:
    """Why usacloud could find a profile at ``path`` (default :data:`NO_PROFILES`) after all (something
    is there, or ``/proc`` is not Linux's procfs), or None when it is as it must be: missing, and
    impossible to create."""
    path = path or NO_PROFILES
    if not os.path.isdir(f"/proc/{os.getpid()}") or os.path.realpath("/proc/self") != f"/proc/{os.getpid()}":
        return "/proc is not Linux's procfs here, so the place usacloud is pointed at for profiles could be written"
    if os.path.lexists(path):
        return f"{path} exists: usacloud could read a profile there (its key, zone, API root or trace setting)"
    return None


def without_profile_name(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without the profile name variables (:data:`PROFILE_ENV`)."""
    return {k: v for k, v in env.items() if k not in PROFILE_ENV}
