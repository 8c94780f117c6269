"""Workers on simulated hosts: ``--tx popen//python=WRAPPER`` where WRAPPER is another machine's view.

WRAPPER starts python in a new Linux mount namespace (``unshare -m``) with a private tmpfs on /tmp
and on each given private directory (the token bucket's cache), and the test directory (pytester's
base temp lives under /tmp) and the code (a checkout or venv under /tmp) bound back in at their own
paths. So the worker runs the same code on the
same files, but it sees neither the controller's run directory (``/tmp/pytest-usacloud-*``) nor its
token bucket file: as on another host. Processes stay visible (no pid namespace), so a test can
still check from outside that nothing is left running there.

Needs root (or CAP_SYS_ADMIN) and a kernel that allows ``unshare -m``; :func:`unshare_missing`
says why not where it is refused, for a clear skip.
"""

from __future__ import annotations

import functools
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from standin_tools import write_rules

INNER = """#!/bin/sh
# the simulated host's view: run by unshare in a new mount namespace
set -eu
hold=/mnt
mount --bind /tmp "$hold"                # the real /tmp, held while a private one covers it
mount -t tmpfs usacloud-host-tmp /tmp    # a private /tmp: no controller run directory here
for keep in {keeps}; do                  # the test directory, and the code when it lies in /tmp
    case "$keep" in
    /tmp/*) mkdir -p "$keep"; mount --no-canonicalize --bind "$hold${{keep#/tmp}}" "$keep" ;;
    esac
done
umount -l "$hold"
for private in {private}; do             # a private cache: no shared token bucket file
    mkdir -p "$private"
    mount -t tmpfs usacloud-host-cache "$private"
done
{copies}
cd {cwd}
exec {python} "$@"
"""


@functools.cache
def unshare_missing() -> str | None:
    """Why workers on simulated hosts cannot run here (None when they can)."""
    if not sys.platform.startswith("linux"):
        return "simulated hosts need Linux mount namespaces"
    if not (shutil.which("unshare") and shutil.which("mount")):
        return "simulated hosts need unshare(1) and mount(8) (util-linux)"
    try:
        done = subprocess.run(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", "mount -t tmpfs probe /mnt"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unshare -m could not run: {exc}"
    if done.returncode != 0:
        return f"unshare -m / mount is not permitted here (needs root or CAP_SYS_ADMIN): {done.stderr.strip()}"
    return None


def require_unshare() -> None:
    reason = unshare_missing()
    if reason:
        pytest.skip(reason)


def host_python(
    directory: Path, keep: Path, private: list[Path], cwd: Path, copies: dict[Path, Path] | None = None
) -> Path:
    """Write WRAPPER (and its inner script) into ``directory``; use as ``--tx popen//python=WRAPPER``.

    ``copies`` {source: target}: files copied into the private directories once they are mounted,
    so that this host alone sees them (e.g. stand-in rules of its own).
    """
    directory.mkdir(parents=True, exist_ok=True)
    inner = directory / "host-inner.sh"
    inner.write_text(
        INNER.format(
            keeps=" ".join(shlex.quote(str(k)) for k in (keep, *_code_dirs())),
            private=" ".join(shlex.quote(str(p)) for p in private),
            cwd=shlex.quote(str(cwd)),
            copies="\n".join(f"cp {shlex.quote(str(a))} {shlex.quote(str(b))}" for a, b in (copies or {}).items()),
            python=shlex.quote(sys.executable),
        )
    )
    wrapper = directory / "host-python"
    wrapper.write_text(
        "#!/bin/sh\n# an xdist worker on a simulated host (tests/hosts.py)\n"
        f'exec unshare -m --propagation private /bin/sh {shlex.quote(str(inner))} "$@"\n'
    )
    wrapper.chmod(0o755)
    return wrapper


def e2e_host(e2e, remote_rules: list[dict] | None = None, local_rules: list[dict] | None = None) -> Path:
    """WRAPPER for an :class:`conftest.E2E` scenario: its test directories kept, its token-bucket cache private.

    With rules, the stand-in reads ``cache/host-rules.json``: ``local_rules`` on this host,
    ``remote_rules`` on the simulated one (each host has its own cache directory).
    """
    require_unshare()
    keep = Path(_common(e2e.pytester.path, e2e.tmp))
    cache = e2e.tmp / "cache"
    copies = {}
    if remote_rules is not None or local_rules is not None:
        cache.mkdir(exist_ok=True)
        write_rules(cache / "host-rules.json", local_rules or [])
        copies[write_rules(e2e.tmp / "remote-rules.json", remote_rules or [])] = cache / "host-rules.json"
        e2e.env(STANDIN_RULES=cache / "host-rules.json")
    return host_python(e2e.tmp / "host", keep, [cache], e2e.pytester.path, copies)


def tx(local: int, remote: int, wrapper: Path) -> list[str]:
    """xdist options for ``local`` workers on this host and ``remote`` ones on the simulated host."""
    args = ["--dist=load"]
    if local:
        args += ["--tx", f"{local}*popen"]
    if remote:
        args += ["--tx", f"{remote}*popen//python={wrapper}"]
    return args


def _code_dirs() -> list[Path]:
    """What a worker needs to import besides the test directory: this checkout (the package is
    installed editable from it) and Python's prefix; a clone or a venv in /tmp would vanish."""
    return [Path(__file__).resolve().parents[1], Path(sys.prefix).resolve()]


def _common(*paths: Path) -> str:
    import os

    return os.path.commonpath([str(p) for p in paths])
