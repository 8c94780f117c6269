"""What changed between usacloud versions: v0 names and forms v1 removed, deprecated aliases and flags,
subcommands the docs still list but 1.22.8's code no longer has (the offline check names them)."""

from __future__ import annotations

#: Resources that usacloud v1 no longer has, with their replacement (None: discontinued).
V0_REMOVED = {
    "ipv4": "ipaddress",
    "product-disk": "disk-plan",
    "product-internet": "internet-plan",
    "product-server": "server-plan",
    "summary": None,
    "object-storage": None,
    "ojs": None,
}
#: v0 names that v1.22 still accepts as aliases.
DEPRECATED_ALIASES = {"iso-image": "cdrom", "startup-script": "note"}
#: (resource, flag) -> note, for flags that usacloud warns about at run time.
DEPRECATED_FLAGS = {("container-registry", "--access-level"): "deprecated since usacloud 1.22.2"}
#: (resource, subcommand) that the docs still list but the code no longer has.
REMOVED_SUBCOMMANDS = {
    ("ssh-key", "generate"): "removed in 2025-06; create the key locally and use `ssh-key create --public-key`"
}
V0_OUTPUT_TYPES = ("csv", "tsv")  # v0 output types v1 dropped
