"""What a subcommand's service does beyond its name, told by the settings given: data for the policy.

Some updates shut down and boot what they change (iaas-service-go 1.25.1's builders decide it from
the settings, not from a flag that names it), and a mobile gateway's SIM settings write SIMs, which
are global resources reached through the is1a endpoint. A setting counts when its flag is given or
its key is set (not ``null``) in ``--parameters``: whether the value differs from the resource's
current one cannot be told offline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from . import commands
from .params import read_parameters


@dataclass(frozen=True)
class Effect:
    flags: tuple[str, ...]  # canonical flag names of the subcommand
    keys: tuple[str, ...]  # the same settings as top-level ``--parameters`` keys (the Go field names)
    why: str  # what happens, as the refusal says it


_PLAN = Effect(
    ("--cpu", "--memory", "--gpu", "--gpu-model", "--cpu-model", "--commitment", "--generation"),
    ("CPU", "Memory", "GPU", "GPUModel", "CPUModel", "Commitment", "Generation"),
    "changes the plan: a plan change shuts the server down (when it runs), boots it and gives it a new ID",
)  # server/builder: IsNeedShutdown, then ChangePlan (a new server) and BootServer
_SERVER_HARDWARE = Effect(
    ("--private-host-id", "--interface-driver", "--network-interfaces", "--disks"),
    ("PrivateHostID", "InterfaceDriver", "NetworkInterfaces", "Disks"),
    "changes the private host, the interface driver, the NICs or the disks: that shuts the server down "
    "(when it runs) and boots it again",
)  # server/builder: IsNeedShutdown compares these with the server's
# mobilegateway/builder: AddSIM then SIM.AssignIP (create); ClearIP, DeleteSIM, AssignIP (update)
_SIMS = "SIMs are global resources of the account, written through the is1a endpoint"

#: (resource, subcommand) -> the settings that make it power-cycle what it changes.
POWER_CYCLES: Mapping[tuple[str, str], tuple[Effect, ...]] = MappingProxyType(
    {
        ("server", "update"): (_PLAN, _SERVER_HARDWARE),
        ("database", "update"): (
            Effect(
                ("--replica-user-password",),
                ("ReplicaUserPassword",),
                # database/builder: collectUpdateInfo (ReplicaPassword differs), then Shutdown/Boot
                "changes the replica password: that shuts the database down (when it runs) and boots it again",
            ),
        ),
        ("vpc-router", "update"): (
            Effect(
                ("--private-network-interfaces",),
                ("PrivateNetworkInterfaces",),
                # vpcrouter/builder: collectUpdateInfo (a switch changed, removed or added)
                "sets the private interfaces: moving, removing or adding one shuts the router down (when it "
                "runs) and boots it again",
            ),
        ),
        ("mobile-gateway", "update"): (
            Effect(
                (
                    "--private-interface-switch-id",
                    "--private-interface-ip-address",
                    "--private-interface-network-mask-len",
                ),
                ("PrivateInterface",),
                # mobilegateway/builder: collectUpdateInfo (isPrivateInterfaceChanged)
                "changes the private interface: that shuts the gateway down (when it runs) and boots it again",
            ),
        ),
    }
)

#: (resource, subcommand) of a zoned resource -> the settings that make it write a global resource.
GLOBAL_WRITES: Mapping[tuple[str, str], tuple[Effect, ...]] = MappingProxyType(
    {
        ("mobile-gateway", "create"): (
            Effect(("--sims",), ("SIMs",), f"adds the listed SIMs and assigns each an IP address: {_SIMS}"),
        ),
        ("mobile-gateway", "update"): (
            Effect(("--sims",), ("SIMs",), f"adds, re-addresses or removes SIMs and their IP addresses: {_SIMS}"),
        ),
    }
)


def found(
    table: Mapping[tuple[str, str], tuple[Effect, ...]],
    res: commands.Resource,
    sub: commands.Subcommand,
    inv: commands.Invocation,
    cwd: Path,
    home: str | None,
) -> str | None:
    """Why the command does what ``table`` says ("`server update --cpu` changes the plan: ..."), or None.
    ``--parameters`` the sandbox cannot read count: what they set cannot be told."""
    effects = table.get((res.name, sub.name), ())
    if not effects:
        return None
    for use in inv.flags:
        name = use.flag.name if use.flag is not None else None
        effect = next((e for e in effects if name in e.flags), None)
        # an empty JSON data flag (`--sims ''`, `--disks ''`) is skipped by usacloud: it sets nothing
        if effect is not None and not (use.value == "" and use.flag.field.endswith("Data")):
            return f"`{res.name} {sub.name} {use.name}` {effect.why}"
    for use in inv.flag_uses("--parameters"):
        if not use.value:
            continue
        params = read_parameters(use.value, cwd, home)
        if params.source == "unread":
            keys = ", ".join(k for e in effects for k in e.keys)
            return f"`{res.name} {sub.name} --parameters` cannot be checked for {keys} ({params.note})"
        for effect in effects:
            key = next((k for k in effect.keys if params.lookup(k)[1] is not None), None)
            if key is not None:
                return f"`{res.name} {sub.name} --parameters` sets {key}, so it {effect.why}"
    return None
