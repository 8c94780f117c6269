"""Fake mode: a script's first command with and without the run's seeded store (run by hand).

The real usacloud seeds a new fake store path on its first command (the fake catalogue, ~196 KB,
about 7 s of CPU); later commands on that store take ~0.1 s. The plugin seeds one store once per
run (``usacloud zone list -q``) and gives every script a copy (fakemode/stores.py).

This bench runs the same scripts twice, one run after the other, against the stand-in with
``STANDIN_SEED_COST=S`` (CPU seconds burnt on the first use of a store path, as the real one does):

* **with seeding**: ``--usacloud-fake`` as it is;
* **without**: the same run with the seeding command made to fail (a STANDIN_RULES rule on the
  seeding ``zone list -q``, which no script uses). That is the plugin's fallback, and what it did
  before: every script seeds its own store on its first command.

From each run's JSON report it takes each script's first command's duration and its later
commands', and prints the medians, the first-command ratio (without / with), first / later within
each run, and each run's wall time. Every command takes ~0.05-0.3 s of the stand-in's own start-up.

``--shared N`` adds N scripts whose first command connects a server to the shared segment, which
usacloud's fake driver can do only in the process that created the store (the plugin leaves such a
script's store for that command to create): their outcomes and first-command times are printed
apart. ``--usacloud PATH`` runs a real usacloud instead of the stand-in, the whole inner pytest in a
network namespace with no network (``unshare -n``, root; tests/netns.py); seeding is then turned
off by a wrapper that fails the seeding call. The real one needs the profile directory pinned
without a profile name (else every command is a no-op and the preflight stops the run).

    python bench/fake_seed.py [--scripts 6] [--commands 3] [--shared 0] [--seed-cost 2.0] [--workers 2]
                              [--slow-standin] [--usacloud PATH]
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _e2e import (
    bench_env,
    finish,
    load_now,
    load_report,
    machine_info,
    median,
    pytest_argv,
    standin_binary,
    start_pytest,
    tail,
)
from standin_tools import write_rules

from pytest_usacloud_sandbox.fakemode.stores import SEED_FILE

SEED_LINE = re.compile(r"fake mode: .*")


SHARED = "usacloud server create -y --name web{n} --network-interface-upstream shared -q"
#: a wrapper of a real usacloud that fails the run's seeding call (its store is the run's seed file)
NO_SEED_WRAPPER = """#!/bin/sh
case "$SAKURACLOUD_FAKE_STORE_PATH" in *{seed}*) echo "seeding off for the bench" >&2; exit 1;; esac
exec {real} "$@"
"""


def one_run(tmp: Path, label: str, args, seeding: bool) -> dict:
    base = tmp / label
    scripts = base / "scripts"
    scripts.mkdir(parents=True)
    for n in range(args.scripts):
        lines = [f"usacloud switch create -y --name sw{n} -q"]
        lines += [f"usacloud switch read --argument-match-mode exact sw{n} -q"] * (args.commands - 1)
        (scripts / f"s{n:02d}.usacloud").write_text("\n".join(lines) + "\n")
    for n in range(args.shared):
        lines = [SHARED.format(n=n)]
        lines += [f"usacloud server read --argument-match-mode exact web{n} -q"] * (args.commands - 1)
        (scripts / f"shared{n:02d}.usacloud").write_text("\n".join(lines) + "\n")
    env = bench_env(base, STANDIN_STATE=None, STANDIN_SEED_COST=args.seed_cost)
    binary = standin_binary(base, args.slow_standin)
    if args.usacloud:
        binary = args.usacloud
        if not seeding:
            binary = str(base / "usacloud")
            Path(binary).write_text(NO_SEED_WRAPPER.format(seed=SEED_FILE, real=shlex.quote(args.usacloud)))
            Path(binary).chmod(0o755)
    elif not seeding:
        rules = write_rules(base / "rules.json", [{"match": "zone list -q", "stderr": "seeding off for the bench"}])
        env["STANDIN_RULES"] = str(rules)
    report = base / "report.json"
    argv = pytest_argv(
        scripts,
        binary,
        "--usacloud-fake",
        "--usacloud-rate=unlimited",
        f"--usacloud-report={report}",
        workers=args.workers,
    )
    out = base / "pytest.out"
    t0 = time.monotonic()
    if args.usacloud:  # the real one only ever runs where it can reach nothing
        import netns  # tests/netns.py (on sys.path through _e2e)

        done = netns.run(argv, env, cwd=base, timeout=1800)
        out.write_text(done.stdout + done.stderr)
        code = done.returncode
    else:
        code = finish(start_pytest(argv, env, base, out), timeout=1800)
    wall = time.monotonic() - t0
    doc = load_report(report) if report.exists() else None
    if doc is None or code not in (0, 1):
        raise SystemExit(f"{label}: inner pytest exited {code}\n{tail(out, 30)}")
    plain = [s for s in doc["scripts"] if not Path(s["path"]).name.startswith("shared")]
    shared = [s for s in doc["scripts"] if Path(s["path"]).name.startswith("shared")]
    if any(s["outcome"] != "passed" for s in plain):
        raise SystemExit(f"{label}: a plain script did not pass\n{tail(out, 30)}")
    first = [s["commands"][0]["duration"] for s in plain]
    later = [c["duration"] for s in plain for c in s["commands"][1:]]
    line = next((m.group(0) for m in SEED_LINE.finditer(out.read_text())), "")
    return {
        "first": first,
        "later": later,
        "wall": wall,
        "line": line,
        "shared": [s["outcome"] for s in shared],
        "shared_first": [s["commands"][0]["duration"] or 0.0 for s in shared],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scripts", type=int, default=6)
    parser.add_argument("--commands", type=int, default=3, help="commands per script (at least 2)")
    parser.add_argument("--seed-cost", type=float, default=2.0, help="CPU seconds of a store's first use")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--slow-standin", action="store_true")
    parser.add_argument("--shared", type=int, default=0, help="scripts whose first command uses the shared segment")
    parser.add_argument("--usacloud", help="a real usacloud (run only in a network namespace with no network)")
    args = parser.parse_args()
    if args.usacloud:
        import netns  # tests/netns.py (on sys.path through _e2e)

        if netns.unavailable():
            raise SystemExit(f"--usacloud needs a network namespace: {netns.unavailable()}")
    args.commands = max(2, args.commands)
    print(machine_info())
    backend = f"usacloud {args.usacloud}" if args.usacloud else f"stand-in, STANDIN_SEED_COST={args.seed_cost:g} CPU s"
    print(
        f"{args.scripts} scripts x {args.commands} commands (+{args.shared} on the shared segment), "
        f"-n {args.workers}, {backend}, load {load_now()}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-fake-seed-") as tmp:
        runs = {}
        for label, seeding in (("with", True), ("without", False)):
            runs[label] = one_run(Path(tmp), label, args, seeding)
            r = runs[label]
            print(
                f"{label:>7} seeding: first command median {median(r['first']):6.2f}s "
                f"(min {min(r['first']):.2f} max {max(r['first']):.2f}) | later commands median "
                f"{median(r['later']):6.2f}s | first/later {median(r['first']) / median(r['later']):5.1f}x "
                f"| run wall {r['wall']:6.1f}s | load {load_now()}"
            )
            print(f"         {r['line']}")
            if r["shared"]:
                outcomes = ", ".join(f"{o} {r['shared'].count(o)}" for o in sorted(set(r["shared"])))
                print(
                    f"         shared-segment scripts: {outcomes}; first command median "
                    f"{median(r['shared_first']):6.2f}s"
                )
        with_, without = runs["with"], runs["without"]
        print(
            f"first-command time without / with seeding: {median(without['first']) / median(with_['first']):.1f}x; "
            f"run wall time without / with: {without['wall'] / with_['wall']:.2f}x"
        )


if __name__ == "__main__":
    main()
