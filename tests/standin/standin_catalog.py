"""The stand-in usacloud's data: what exists before any command, and the records commands make.

Every field set and value here is what usacloud 1.22.8 prints in fake mode (``../shared/usacloud-
transcripts.jsonl``): a record is a dict with the Go field names of the API type, its ID an int, its
time stamps strings (the zero time ``0001-01-01T00:00:00Z`` where usacloud leaves one unset).

* Public catalogue, in every mode: the zones (``zone list`` shows five; is1c exists for ``--zone=all``
  only), the regions, the archives and ISO images (``cdrom``) of each zone, server, disk and internet
  plans. Where the recordings cut a long output (archive tags, ISO image names), the rest is filled in
  in the same style and is not compared.
* Fake mode's own account data (only with usacloud's fake driver, and deletable there): the shared
  segment's switch ``スイッチ`` (100000000005) in every zone, notes 1 and 2, one IP address.
* Record factories: the field sets of switch, server, disk, DNS, note and packet filter as usacloud
  prints them; any other resource gets the common fields and its flags' values.
"""

ZERO_TIME = "0001-01-01T00:00:00Z"
#: The first ID a store gives (the fake driver's built-in data uses the ones below it).
FIRST_ID = 100000000010
ZONE_ORDER = ("tk1a", "tk1b", "is1a", "is1b", "is1c", "tk1v")  # --zone=all without SAKURACLOUD_ZONES

_TOKYO = {"Description": "東京", "ID": 210, "Name": "東京", "NameServers": ["210.188.224.10", "210.188.224.11"]}
_ISHIKARI = {"Description": "石狩", "ID": 310, "Name": "石狩", "NameServers": ["133.242.0.3", "133.242.0.4"]}
#: name: (ID, Description, DisplayOrder, region, listed by `zone list`)
_ZONES = {
    "tk1a": (21001, "東京第1ゾーン", 1, _TOKYO, True),
    "tk1b": (21002, "東京第2ゾーン", 2, _TOKYO, True),
    "tk1v": (29001, "Sandbox", 5, _TOKYO, True),
    "is1a": (31001, "石狩第1ゾーン", 3, _ISHIKARI, True),
    "is1b": (31002, "石狩第2ゾーン", 4, _ISHIKARI, True),
    "is1c": (31003, "石狩第3ゾーン", 6, _ISHIKARI, False),
}


def zone_records() -> list[dict]:
    """``zone list``: the five zones, by ID."""
    return [
        {
            "Description": desc,
            "DisplayOrder": order,
            "FTPServer": None,
            "ID": zid,
            "IsDummy": name == "tk1v",
            "Name": name,
            "Region": dict(region),
            "VNCProxy": None,
        }
        for name, (zid, desc, order, region, listed) in sorted(_ZONES.items(), key=lambda item: item[1][0])
        if listed
    ]


def zone_embedded(zone: str) -> dict:
    """The zone as a server record carries it."""
    zid, _desc, _order, region, _listed = _ZONES.get(zone, (0, zone, 0, _TOKYO, False))
    return {
        "DisplayName": "",
        "FTPServer": None,
        "ID": zid,
        "IsDummy": zone == "tk1v",
        "Name": zone,
        "Region": dict(region),
        "VNCProxy": None,
    }


def region_records() -> list[dict]:
    return [dict(_TOKYO), dict(_ISHIKARI)]


# -- archives and ISO images ----------------------------------------------------------------------
#: The archives of a zone, in usacloud's order: ID | Name | DisplayOrder, then its tags, indented.
_ARCHIVE_TABLE = """
113101599865 | RancherOS v1.5.4 64bit | 200440154000
    @require-memory-gib>=2 arch-64bit current-stable distro-rancheros distro-ver-1.5.4 os-linux
113101835152 | k3OS v0.5.0 amd64 | 200490005000
    @size-extendable arch-64bit current-stable distro-k3os distro-stable distro-ver-0.5.0 os-linux
113201078543 | Debian GNU/Linux 10.4.0 64bit | 100541040010
    @size-extendable arch-64bit debian-10-latest distro-debian distro-ver-10.4.0 os-linux
113201424332 | Ubuntu Server 20.04.1 LTS 64bit | 100442004110
    @size-extendable arch-64bit distro-ubuntu distro-ver-20.04.1 os-linux ubuntu-20.04-latest
113201595228 | Ubuntu Server 18.04.5 LTS 64bit | 100441804510
    @size-extendable arch-64bit distro-ubuntu distro-ver-18.04.5 os-linux ubuntu-18.04-latest
113202012336 | CentOS Stream 8 (20201203) 64bit | 100140509010
    @size-extendable arch-64bit distro-centos distro-ver-8-stream os-linux
113300112275 | CentOS 7.9 (2009) 64bit | 100140709011
    @size-extendable arch-64bit centos-7-latest distro-centos distro-ver-7.9 os-linux
113301078388 | AlmaLinux 8.4 64bit | 100240804010
    @size-extendable alma-8-latest arch-64bit distro-alma distro-ver-8.4 os-linux
113301650956 | Debian GNU/Linux 11.0.0 64bit | 100541100010
    @size-extendable arch-64bit distro-debian distro-ver-11.0.0 os-linux
113301758426 | KUSANAGI 9.0 | 300140900010
    @size-extendable arch-64bit distro-kusanagi distro-ver-9.0 os-linux
113301801367 | Miracle Linux 8.4 64bit | 100340804010
    @size-extendable arch-64bit distro-miracle distro-ver-8.4 miracle-8-latest os-linux
113301924894 | Debian GNU/Linux 11.1.0 64bit | 100541101010
    @size-extendable arch-64bit current-stable debian-11-latest distro-debian distro-ver-11.1.0 os-linux
113302064489 | Rocky Linux 8.5 | 100640805010
    @size-extendable arch-64bit current-stable distro-rocky distro-ver-8.5 os-linux rocky-8-latest
113400984187 | Ubuntu Server 22.04 LTS 64bit | 100442204010
    @size-extendable arch-64bit current-stable distro-ubuntu distro-ver-22.04 os-linux ubuntu-22.04-latest
"""
#: The ISO images of a zone, in usacloud's order: ID | Name, then its tags, indented.
_CDROM_TABLE = """
113001458164 | Debian GNU/Linux 8.11.0 64bit
    arch-64bit distro-debian distro-ver-8.11.0 os-linux
113001461329 | Scientific Linux 6.10 64bit
    arch-64bit distro-sl distro-ver-6.10 os-linux
113100422048 | Ubuntu Server 16.04.6 LTS 64bit
    arch-64bit distro-ubuntu distro-ver-16.04.6 os-linux
113100878586 | openSUSE Tumbleweed Kubic (20190224) 64bit
    arch-64bit current-stable distro-kubic distro-ver-20190527 os-linux
113101108042 | Alpine Linux standard 3.10.0 64bit
    arch-64bit current-stable distro-alpine distro-ver-3.10.0 os-linux
113101379664 | OPNsense 19.7
    arch-64bit current-stable distro-opnsense distro-ver-19.7 os-unix
113101593144 | RancherOS v1.5.4 64bit
    arch-64bit distro-rancheros distro-ver-1.5.4 os-linux
113101593271 | Debian GNU/Linux 9.11.0 64bit
    arch-64bit distro-debian distro-ver-9.11.0 os-linux
113101779369 | Microsoft SQL Server 2017 Express
    app-windows arch-64bit os-windows
113200033181 | RancherOS v1.5.5 64bit
    arch-64bit current-stable distro-rancheros distro-ver-1.5.5 os-linux
113201078528 | openSUSE Leap 15.2 64bit
    arch-64bit current-stable distro-opensuse distro-ver-15.2 os-linux
113201392199 | Ubuntu Server 20.04.1 64bit
    arch-64bit distro-ubuntu distro-ver-20.04.1 os-linux
113201585053 | k3OS v0.11.1 amd64
    arch-64bit current-stable distro-k3os distro-ver-v0.11.1 os-linux
113201595212 | Ubuntu Server 18.04.5 LTS 64bit
    arch-64bit distro-ubuntu distro-ver-18.04.5 os-linux
113201664160 | Microsoft SQL Server 2019 Express
    app-windows arch-64bit current-stable os-windows
113201668041 | Ubuntu Server 20.10 64bit
    arch-64bit distro-ubuntu distro-ver-20.10 os-linux
113201668045 | NetBSD 9.1 64bit
    arch-64bit current-stable distro-netbsd distro-ver-9.1 os-unix
113201747678 | FreeBSD 12.2-RELEASE 64bit
    arch-64bit distro-freebsd distro-ver-12.2 os-unix
113201747687 | Scientific Linux 7.9 64bit
    arch-64bit current-stable distro-sl distro-ver-7.9 os-linux
113201747793 | Fedora 33 Server Edition 64bit (DVD)
    arch-64bit distro-fedora distro-ver-33 os-linux
113201747828 | TrueNAS CORE 12.0-RELEASE 64bit
    arch-64bit current-stable distro-freenas distro-ver-12.0-RELEASE os-unix
113202012898 | CentOS Stream 8 (20201203) 64bit
    arch-64bit distro-centos distro-ver-stream-8 os-linux
113300112159 | Arch Linux 2021.01.01
    arch-64bit current-stable distro-arch distro-ver-2021.01.01 os-linux
113300112166 | CentOS 7.9 (2009) 64bit
    arch-64bit distro-centos distro-ver-7.9 os-linux
113300112182 | Fedora CoreOS x86_64 stable (ISO) 33.20201214.3.1 (stable)
    arch-64bit current-stable distro-fedora-coreos distro-ver-33.20201214.3.1 os-linux
113300112187 | Debian GNU/Linux 10.7.0 64bit
    arch-64bit distro-debian distro-ver-10.7.0 os-linux
113301078432 | AlmaLinux 8.4 64bit
    arch-64bit current-stable distro-alma distro-ver-8.4 os-linux
113301185686 | Rocky Linux 8.4
    @arch-64bit centos-alternative-8 distro-rocky distro-ver-8.4 os-linux
113301801399 | MIRACLE LINUX 8.4
    @arch-64bit centos-alternative-8 current-stable distro-miracle distro-ver-8.4 os-linux
113301823278 | FreeBSD 13.0-RELEASE 64bit
    arch-64bit current-stable distro-freebsd distro-ver-13.0 os-unix
113301924763 | Debian GNU/Linux 11.1.0 64bit
    arch-64bit current-stable distro-debian distro-ver-11.1.0 os-linux
113301924837 | Ubuntu Server 21.10 64bit
    arch-64bit distro-ubuntu distro-ver-21.10 os-linux
113302064440 | Rocky Linux 8.5
    @arch-64bit centos-alternative-8 current-stable distro-rocky distro-ver-8.5 os-linux
113302064468 | Fedora 35 Server Edition 64bit (DVD)
    arch-64bit current-stable distro-fedora distro-ver-35 os-linux
113400183582 | CentOS Stream 9 (20220126) 64bit
    arch-64bit current-stable distro-centos distro-ver-stream-9 os-linux
113400183607 | ClearLinux 64bit
    arch-64bit current-stable distro-clear distro-ver-35000 os-linux
113400183621 | netboot.xyz
    arch-64bit current-stable distro-netboot distro-ver-2.0.54 os-linux
113400984143 | Ubuntu Server 22.04 LTS 64bit
    arch-64bit current-stable distro-ubuntu distro-ver-22.04 os-linux
"""


def _rows(table: str) -> list[list[str]]:
    """A table's rows: the cells of a line, and the indented line under it (the tags) as the last cell."""
    rows: list[list[str]] = []
    for line in table.strip("\n").splitlines():
        if line.startswith(" "):
            rows[-1].append(line.strip())
        else:
            rows.append([cell.strip() for cell in line.split("|")])
    return rows


_ARCHIVES = tuple((int(i), name, int(order), tags) for i, name, order, tags in _rows(_ARCHIVE_TABLE))
_CDROMS = tuple((int(i), name, tags) for i, name, tags in _rows(_CDROM_TABLE))


def archive_records(zone: str) -> list[dict]:
    return [
        {
            "Availability": "available",
            "BundleInfo": None,
            "CreatedAt": ZERO_TIME,
            "Description": "fake",
            "DiskPlanID": 2,
            "DiskPlanName": "標準プラン",
            "DiskPlanStorageClass": "iscsi1204",
            "DisplayOrder": order,
            "ID": aid,
            "IconID": 0,
            "MigratedMB": 0,
            "ModifiedAt": ZERO_TIME,
            "Name": name,
            "OriginalArchiveID": 0,
            "Scope": "shared",
            "SizeMB": 20480,
            "SourceArchiveAvailability": "",
            "SourceArchiveID": 0,
            "SourceDiskAvailability": "",
            "SourceDiskID": 0,
            "SourceInfo": None,
            "Storage": None,
            "Tags": tags.split(),
            "Zone": zone,
        }
        for aid, name, order, tags in _ARCHIVES
    ]


def cdrom_records(zone: str) -> list[dict]:
    return [
        {
            "Availability": "available",
            "CreatedAt": ZERO_TIME,
            "Description": "fake",
            "DisplayOrder": 0,
            "ID": cid,
            "IconID": 0,
            "ModifiedAt": ZERO_TIME,
            "Name": name,
            "Scope": "shared",
            "SizeMB": 5120,
            "Storage": None,
            "Tags": tags.split(),
            "Zone": zone,
        }
        for cid, name, tags in _CDROMS
    ]


def archive_for_os(os_type: str) -> int:
    """The archive a disk of ``--os-type`` is copied from: the newest of its distribution."""
    family = os_type.rstrip("0123456789").removesuffix("linux") or os_type
    found = [aid for aid, _n, _o, tags in _ARCHIVES if f"distro-{family}" in tags.split()]
    return found[-1] if found else 0


# -- plans ------------------------------------------------------------------------------------------


def server_plan_records(zone: str) -> list[dict]:
    return [
        {
            "Availability": "available",
            "CPU": cpu,
            "CPUModel": "uncategorized",
            "Commitment": "standard",
            "GPU": 0,
            "GPUModel": "",
            "Generation": 100,
            "ID": server_plan_id(cpu, memory),
            "MemoryMB": memory * 1024,
            "Name": server_plan_name(cpu, memory),
            "Zone": zone,
        }
        for cpu, memory in ((1, 1), (1, 2), (2, 4), (4, 8))
    ]


def server_plan_id(cpu: int, memory_gb: int) -> int:
    return int(f"100{memory_gb:03d}{cpu:03d}")


def server_plan_name(cpu: int, memory_gb: int) -> str:
    return f"世代:100 メモリ:{memory_gb:03d} CPU:{cpu:03d}"


#: disk plan key: (ID, Name, StorageClass)
DISK_PLANS = {"ssd": (4, "SSDプラン", "iscsi9999"), "hdd": (2, "標準プラン", "iscsi1204")}


def disk_plan_records(zone: str) -> list[dict]:
    return [
        {"Availability": "available", "ID": pid, "Name": name, "StorageClass": storage, "Zone": zone}
        for pid, name, storage in DISK_PLANS.values()
    ]


def internet_plan_records(zone: str) -> list[dict]:
    return [
        {"Availability": "available", "BandWidthMbps": mbps, "ID": mbps, "Name": f"{mbps}Mbps共有", "Zone": zone}
        for mbps in (100, 250, 500, 1000)
    ]


def catalogue(resource: str, zone: str | None) -> list[dict]:
    """What ``resource`` holds in ``zone`` before any command (None: a global resource)."""
    if resource == "zone":
        return zone_records()
    if resource == "region":
        return region_records()
    maker = _PUBLIC.get(resource)
    return maker(zone) if maker is not None and zone is not None else []


_PUBLIC = {
    "archive": archive_records,
    "cdrom": cdrom_records,
    "server-plan": server_plan_records,
    "disk-plan": disk_plan_records,
    "internet-plan": internet_plan_records,
}


# -- fake mode's own account data -------------------------------------------------------------------
SHARED_SWITCH_ID = 100000000005

_NFS_PLANS = (
    '\n{\n\t"plans":{\n\t\t"HDD":[\n'
    + ",\n".join(
        f'\t\t\t{{"size": {size},"availability":"available","planId":{pid}}}'
        for size, pid in ((100, 101), (500, 102), (1024, 103), (2048, 104), (4096, 105), (8192, 106), (12288, 107))
    )
    + '\n\t\t],\n\t\t"SSD":[\n'
    + ",\n".join(
        f'\t\t\t{{"size": {size},"availability":"available","planId":{pid}}}'
        for size, pid in ((20, 200), (100, 201), (500, 202), (1024, 203), (2048, 204), (4096, 205))
    )
    + "\n\t\t]\n\t}\n}"
)


def _database_plans() -> str:
    def plan(memory_gb: int, first_id: int) -> str:
        sizes = []
        for n, (size_mb, shown, label) in enumerate(
            ((102400, 90, "100gb"), (256000, 240, "250gb"), (512000, 500, "500gb"), (1048576, 1000, "1tb"))
        ):
            sizes.append(
                "        {\n"
                f'          "SizeMB": {size_mb},\n'
                f'          "DisplaySize": {shown},\n'
                f'          "PlanID": {first_id + n},\n'
                f'          "ServiceClass": "cloud/appliance/database/4core{memory_gb}gb-{label}-proxy"\n'
                "        }"
            )
        return (
            '    {\n      "Class": "database",\n      "Model": "Proxy",\n      "CPU": 4,\n'
            f'      "MemoryMB": {memory_gb * 1024},\n      "DiskSizes": [\n' + ",\n".join(sizes) + "\n      ]\n    }"
        )

    return (
        '\n{\n  "Products": [],\n  "Backup": {\n    "LockLimit": 8,\n    "RotateLimit": 8\n  },\n'
        '  "AppliancePlans": [\n' + plan(4, 50721) + ",\n" + plan(8, 50725) + "\n  ]\n}\n"
    )


def fake_account_data() -> dict[str, list[dict]]:
    """The fake driver's own resources, by resource name, as a new fake store holds them."""
    subnet = {
        "AssignedIPAddressMax": "",
        "AssignedIPAddressMin": "",
        "DefaultRoute": "192.0.2.1",
        "ID": 1,
        "Internet": None,
        "NetworkAddress": "192.0.2.0",
        "NetworkMaskLen": 24,
        "NextHop": "192.0.2.1",
        "StaticRoute": "192.0.2.1",
    }
    switches = [
        dict(
            switch_record(SHARED_SWITCH_ID, "スイッチ", "共有セグメント用スイッチ", [], zone, ZERO_TIME),
            DefaultRoute="192.0.2.1",
            NetworkMaskLen=24,
            Scope="shared",
            Subnets=[dict(subnet)],
        )
        for zone in ZONE_ORDER
    ]
    notes = [
        {
            "Availability": "",
            "Class": "json",
            "Content": content,
            "CreatedAt": ZERO_TIME,
            "Description": "",
            "ID": nid,
            "IconID": 0,
            "ModifiedAt": ZERO_TIME,
            "Name": name,
            "Scope": scope,
            "Tags": tags,
        }
        for nid, name, scope, tags, content in (
            (1, "sys-nfs", "", [f"@zone={z}" for z in sorted(ZONE_ORDER)], _NFS_PLANS),
            (2, "sys-database", "shared", [], _database_plans()),
        )
    ]
    addresses = [{"HostName": "", "IPAddress": "192.0.2.1", "InterfaceID": 0, "SubnetID": 0, "Zone": "tk1v"}]
    return {"switch": switches, "note": notes, "ipaddress": addresses}


AUTH_STATUS = {
    "AccountClass": "member",
    "AccountCode": "fake",
    "AccountID": 123456789012,
    "AccountName": "fakeアカウント",
    "AuthClass": "account",
    "AuthMethod": "apikey",
    "ExternalPermission": "bill+eventlog+cdn",
    "IsAPIKey": True,
    "MemberClass": "member",
    "MemberCode": "fake-member",
    "OperationPenalty": "none",
    "Permission": "create",
}


# -- records commands make --------------------------------------------------------------------------


def switch_record(rid: int, name: str, description: str, tags: list, zone: str, now: str) -> dict:
    return {
        "BridgeID": 0,
        "CreatedAt": now,
        "DefaultRoute": "",
        "Description": description,
        "HybridConnectionID": 0,
        "ID": rid,
        "IconID": 0,
        "ModifiedAt": ZERO_TIME,
        "Name": name,
        "NetworkMaskLen": 0,
        "Scope": "user",
        "ServerCount": 0,
        "Subnets": [],
        "Tags": tags,
        "Zone": zone,
    }


def server_record(rid: int, v, zone: str, now: str) -> dict:
    """``v``: the command's values (flags over --parameters over the defaults), by field."""
    cpu, memory = int(v.get("CPU", 1) or 1), int(v.get("Memory", 1) or 1)
    return {
        "Availability": "available",
        "BundleInfo": None,
        "CDROMID": int(v.get("CDROMID", 0) or 0),
        "CPU": cpu,
        "CPUModel": v.get("CPUModel", "") or "",
        "Commitment": v.get("Commitment", "standard") or "standard",
        "ConfidentialVM": False,
        "CreatedAt": now,
        "Description": v.get("Description", "") or "",
        "Disks": [],
        "GPU": int(v.get("GPU", 0) or 0),
        "GPUModel": v.get("GPUModel", "") or "",
        "Generation": 100,
        "HostName": "",
        "ID": rid,
        "IconID": int(v.get("IconID", 0) or 0),
        "InstanceBeforeStatus": "",
        "InstanceHostInfoURL": "",
        "InstanceHostName": "",
        "InstanceStatus": "",
        "InstanceStatusChangedAt": ZERO_TIME,
        "InstanceWarnings": "",
        "InstanceWarningsValue": 0,
        "InterfaceDriver": v.get("InterfaceDriver", "virtio") or "virtio",
        "Interfaces": [],
        "MemoryMB": memory * 1024,
        "ModifiedAt": ZERO_TIME,
        "Name": v.get("Name", ""),
        "PrivateHostID": int(v.get("PrivateHostID", 0) or 0),
        "PrivateHostName": "",
        "ServerPlanID": server_plan_id(cpu, memory),
        "ServerPlanName": server_plan_name(cpu, memory),
        "Tags": v.get("Tags", []),
        "Zone": zone_embedded(zone),
    }


def interface_record(rid: int, upstream: dict | None) -> dict:
    """A server's network interface; ``upstream``: the switch it is connected to (None: the shared segment)."""
    return {
        "HostName": "",
        "ID": rid,
        "IPAddress": "192.0.2.11" if upstream is None else "",
        "MACAddress": f"00:00:5e:00:53:{rid % 256:02x}",
        "PacketFilterID": 0,
        "PacketFilterName": "",
        "PacketFilterRequiredHostVersion": 0,
        "SubnetBandWidthMbps": 100 if upstream is None else 0,
        "SubnetDefaultRoute": "192.0.2.1" if upstream is None else "",
        "SubnetNetworkMaskLen": 24 if upstream is None else 0,
        "SwitchID": SHARED_SWITCH_ID if upstream is None else upstream["ID"],
        "SwitchName": "スイッチ" if upstream is None else upstream["Name"],
        "SwitchScope": "shared" if upstream is None else "user",
        "UpstreamType": "shared" if upstream is None else "switch",
        "UserIPAddress": "",
        "UserSubnetNetworkMaskLen": 0,
    }


def disk_record(rid: int, name: str, v, zone: str, now: str, size_gb: int, server: dict | None = None) -> dict:
    plan = DISK_PLANS.get(v.get("DiskPlan", "ssd") or "ssd", DISK_PLANS["ssd"])
    return {
        "Availability": "available",
        "BundleInfo": None,
        "Connection": v.get("Connection", "virtio") or "virtio",
        "ConnectionOrder": 1 if server else 0,
        "CreatedAt": now,
        "Description": v.get("Description", "") or "",
        "DiskPlanID": plan[0],
        "DiskPlanName": plan[1],
        "DiskPlanStorageClass": plan[2],
        "EncryptionAlgorithm": v.get("EncryptionAlgorithm", "") or "",
        "ID": rid,
        "IconID": int(v.get("IconID", 0) or 0),
        "JobStatus": None,
        "KMSKeyID": 0,
        "MigratedMB": size_gb * 1024,
        "ModifiedAt": ZERO_TIME,
        "Name": name,
        "ReinstallCount": 0,
        "ServerID": server["ID"] if server else 0,
        "ServerName": server["Name"] if server else "",
        "SizeMB": size_gb * 1024,
        "SourceArchiveAvailability": "",
        "SourceArchiveID": int(v.get("SourceArchiveID", 0) or 0),
        "SourceDiskAvailability": "",
        "SourceDiskID": int(v.get("SourceDiskID", 0) or 0),
        "Storage": {"Class": "", "DedicatedStorageContractID": 0, "Generation": 0, "ID": 123456789012, "Name": "dummy"},
        "Tags": v.get("Tags", []),
        "Zone": zone,
    }


def dns_record(rid: int, v, now: str) -> dict:
    return dict(
        common_record(rid, v, None, now),
        DNSNameServers=["ns1.gslb4.sakura.ne.jp", "ns2.gslb4.sakura.ne.jp"],
        DNSZone=v.get("Name", ""),
        MonitoringSuiteLog=None,
        Records=[],
        SettingsHash="settingshash",
    )


def note_record(rid: int, v, now: str) -> dict:
    return dict(
        common_record(rid, v, None, now),
        Class=v.get("Class", "shell") or "shell",
        Content=v.get("Content", "") or "",
        Scope="user",
    )


def packet_filter_record(rid: int, v, zone: str, now: str) -> dict:
    return {
        "CreatedAt": now,
        "Description": v.get("Description", "") or "",
        "Expression": [],
        "ExpressionHash": "",
        "ID": rid,
        "Name": v.get("Name", ""),
        "RequiredHostVersion": 0,
        "Zone": zone,
    }


def common_record(rid: int, v, zone: str | None, now: str) -> dict:
    """Any other resource: the fields every one has (its flags' values are added by the caller)."""
    rec = {
        "Availability": "available",
        "CreatedAt": now,
        "Description": v.get("Description", "") or "",
        "ID": rid,
        "IconID": int(v.get("IconID", 0) or 0),
        "ModifiedAt": ZERO_TIME,
        "Name": v.get("Name", ""),
        "Tags": v.get("Tags", []),
    }
    if zone is not None:
        rec["Zone"] = zone
    return rec
