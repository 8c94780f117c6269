"""The sandbox policy: zone rewriting, refusals and the child's environment."""

import pytest

from pytest_usacloud_sandbox.usacloud import commands
from pytest_usacloud_sandbox.usacloud.policy import (
    DANGEROUS_OPTION,
    GLOBAL_WRITES_OPTION,
    Policy,
    rewrite_zones,
    sandbox_env,
)


@pytest.mark.parametrize(
    ("words", "expected", "changed"),
    [
        ("usacloud server list --zone is1a", "usacloud server list --zone tk1v", True),
        ("usacloud server list --zone=all", "usacloud server list --zone=tk1v", True),
        ("usacloud server list --zone = all -o json", "usacloud server list --zone=tk1v -o json", True),
        ("usacloud server list --zone tk1v", "usacloud server list --zone tk1v", False),
        ("usacloud --zones is1a,tk1a server list", "usacloud --zones tk1v server list", True),
        ("usacloud --zones=is1a server list", "usacloud --zones=tk1v server list", True),
        ("usacloud server list", "usacloud server list", False),
        (
            "usacloud rest https://secure.sakura.ad.jp/cloud/zone/is1a/api/cloud/1.1/server",
            "usacloud rest https://secure.sakura.ad.jp/cloud/zone/tk1v/api/cloud/1.1/server",
            True,
        ),
        ("usacloud server list --zone", "usacloud server list --zone", False),
    ],
)
def test_rewrite_zones(words, expected, changed):
    out, did = rewrite_zones(words.split())
    assert " ".join(out) == expected
    assert did is changed


@pytest.mark.parametrize(
    ("words", "rule", "options"),
    [
        ("usacloud server delete -y 123456789012", "dangerous", (DANGEROUS_OPTION,)),
        ("usacloud server rm -y web", "dangerous", (DANGEROUS_OPTION,)),
        ("usacloud iaas server power-on -y web", "dangerous", (DANGEROUS_OPTION,)),
        ("usacloud server shutdown -y web --zone tk1v", "dangerous", (DANGEROUS_OPTION,)),
        ("usacloud server reset -y web", "dangerous", (DANGEROUS_OPTION,)),
        ("usacloud server send-nmi -y web", "dangerous", (DANGEROUS_OPTION,)),
        ("usacloud database power-off -y db", "dangerous", (DANGEROUS_OPTION,)),
        ("usacloud note create -y --name n --class shell --content x", "global-write", (GLOBAL_WRITES_OPTION,)),
        ("usacloud startup-script update -y 1 --name n", "global-write", (GLOBAL_WRITES_OPTION,)),
        ("usacloud dns create -y --name example.com", "global-write", (GLOBAL_WRITES_OPTION,)),
        ("usacloud dns delete -y example.com", "global-write+dangerous", (GLOBAL_WRITES_OPTION, DANGEROUS_OPTION)),
        ("usacloud rest -X delete /server/1", "global-write+dangerous", (GLOBAL_WRITES_OPTION, DANGEROUS_OPTION)),
        ("usacloud rest -X PUT /server/1/power", "global-write+dangerous", (GLOBAL_WRITES_OPTION, DANGEROUS_OPTION)),
        ("usacloud rest -X put /appliance/1/reset", "global-write+dangerous", (GLOBAL_WRITES_OPTION, DANGEROUS_OPTION)),
        ("usacloud rest -X PUT /server/1", "global-write", (GLOBAL_WRITES_OPTION,)),
        ("usacloud rest request --method=POST /server", "global-write", (GLOBAL_WRITES_OPTION,)),
        (
            "usacloud web-accelerator delete-cache -y --url https://x",
            "global-write+dangerous",
            (GLOBAL_WRITES_OPTION, DANGEROUS_OPTION),
        ),
        ("usacloud update-self", "self-update", (DANGEROUS_OPTION,)),
        # pflag keeps the last -X; a bundle still names the method
        (
            "usacloud rest -X get -X delete /server/1",
            "global-write+dangerous",
            (GLOBAL_WRITES_OPTION, DANGEROUS_OPTION),
        ),
        ("usacloud rest -vXpost /server", "global-write", (GLOBAL_WRITES_OPTION,)),
        # an unknown flag before the command swallows the next word in cobra: this is `note create`
        (
            "usacloud -q coupon note create -y --name x --class shell --content y",
            "global-write",
            (GLOBAL_WRITES_OPTION,),
        ),
        ("usacloud server -o json delete -y web", "dangerous", (DANGEROUS_OPTION,)),
        # a rest URL must not climb out of /zone/tk1v/
        ("usacloud rest https://secure.sakura.ad.jp/cloud/zone/tk1v/../is1a/api/cloud/1.1/server", "zone-escape", ()),
        ("usacloud rest /../../is1a/api/cloud/1.1/server", "zone-escape", ()),
        # usacloud's own deprecation hint for auth-status: the IAM API is outside the zone (README rule 3)
        ("usacloud rest https://secure.sakura.ad.jp/cloud/api/iam/1.0/auth/context", "zone-escape", ()),
        ("usacloud rest /zone/tk1v/%2e%2e/is1a/server", "zone-escape", ()),
    ],
)
def test_refusals(words, rule, options):
    planned = Policy().apply(words.split())
    assert planned.refusal is not None
    assert planned.refusal.rule == rule
    assert planned.refusal.options == options
    text = planned.refusal.describe()
    for option in options:
        assert option in text


@pytest.mark.parametrize(
    "words",
    [
        "usacloud server list --zone is1a",
        "usacloud server create -y --name a --cpu 1 --memory 1",
        "usacloud dns list",
        "usacloud iaas note ls",
        "usacloud zone list",
        "usacloud rest /server",
        "usacloud rest -X get /server",
        "usacloud version",
        "usacloud server wait-until-ready web",
        "usacloud serverfoo list",  # unknown: the offline check's business, not a refusal
    ],
)
def test_allowed(words):
    assert Policy().apply(words.split()).refusal is None


def test_options_lift_refusals():
    assert Policy(allow_dangerous=True).apply(["usacloud", "server", "delete", "-y", "1"]).refusal is None
    assert Policy(allow_global_writes=True).apply(["usacloud", "dns", "create", "-y", "--name", "a"]).refusal is None
    both = Policy(allow_dangerous=True, allow_global_writes=True)
    assert both.apply(["usacloud", "dns", "delete", "-y", "a"]).refusal is None
    # one option alone does not lift a refusal that needs both
    assert Policy(allow_dangerous=True).apply(["usacloud", "dns", "delete", "-y", "a"]).refusal.options == (
        GLOBAL_WRITES_OPTION,
    )


def test_planned_words_are_rewritten():
    planned = Policy().apply(["usacloud", "server", "delete", "-y", "web", "--zone=is1a"])
    assert planned.words[-1] == "--zone=tk1v"
    assert planned.zone_rewritten


def test_sandbox_env(tmp_path):
    base = {"PATH": "/bin", "SAKURACLOUD_ZONE": "is1a", "SAKURA_ZONES": "is1a,tk1v", "SAKURACLOUD_ACCESS_TOKEN": "t"}
    env = sandbox_env(base)
    for name in ("SAKURACLOUD_ZONE", "SAKURACLOUD_ZONES", "SAKURA_ZONE", "SAKURA_ZONES"):
        assert env[name] == "tk1v"
    assert env["SAKURACLOUD_ACCESS_TOKEN"] == "t"
    assert "SAKURACLOUD_FAKE_MODE" not in env
    assert base["SAKURACLOUD_ZONE"] == "is1a"  # the base is not modified
    faked = sandbox_env(base, tmp_path / "store.json")
    assert faked["SAKURACLOUD_FAKE_MODE"] == "1"
    assert faked["SAKURACLOUD_FAKE_STORE_PATH"] == str(tmp_path / "store.json")
    assert faked["SAKURA_FAKE_STORE_PATH"] == str(tmp_path / "store.json")


def test_sandbox_env_pins_the_profile_directory_and_names_no_profile(tmp_path):
    """A named profile that the empty directory lacks (even `default`) makes usacloud 1.22.8 print
    `API Error - failed to open default/config.json` and exit 0 having run nothing (transcripts
    prof-*): only the directory is pinned, and a profile name the run has is removed."""
    base = {"PATH": "/bin", "SAKURACLOUD_PROFILE": "prod", "SAKURA_PROFILE": "", "USACLOUD_PROFILE": "default"}
    base["USACLOUD_PROFILE_DIR"] = "/home/me/.usacloud"
    env = sandbox_env(base, profile_dir=tmp_path)
    for name in ("SAKURACLOUD_PROFILE_DIR", "SAKURA_PROFILE_DIR", "USACLOUD_PROFILE_DIR"):
        assert env[name] == str(tmp_path)
    assert not {"SAKURACLOUD_PROFILE", "SAKURA_PROFILE", "USACLOUD_PROFILE"} & set(env)
    assert sandbox_env(base)["SAKURACLOUD_PROFILE"] == "prod"  # --usacloud-allow-profiles: as the run has it


# -- rest goes only to Sakura's API for tk1v ------------------------------------------
API = "https://secure.sakura.ad.jp"


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("https://attacker.example/collect", "rest-url"),
        ("http://secure.sakura.ad.jp/cloud/zone/tk1v/api/cloud/1.1/server", "rest-url"),
        ("HTTPS://secure.sakura.ad.jp/cloud/zone/tk1v/api/cloud/1.1/server", "rest-url"),
        ("//attacker.example/cloud/zone/tk1v/", "rest-url"),
        ("https://secure.sakura.ad.jp.attacker.example/cloud/zone/tk1v/", "rest-url"),
        ("https://user@secure.sakura.ad.jp/cloud/zone/tk1v/", "rest-url"),
        ("https://secure.sakura.ad.jp:8443/cloud/zone/tk1v/", "rest-url"),
        ("file:///etc/passwd", "rest-url"),
        ("ftp://secure.sakura.ad.jp/cloud/zone/tk1v/", "rest-url"),
        (f"{API}/cloud/zone//is1a/api/cloud/1.1/server", "zone-escape"),
        (f"{API}/cloud/zone/./is1a/api/cloud/1.1/server", "zone-escape"),
        (f"{API}/cloud/ZONE/IS1A/api/cloud/1.1/server", "zone-escape"),
        (f"{API}/cloud/zone/%69s1a/api/cloud/1.1/server", "zone-escape"),
        (f"{API}/cloud/zone/%2569s1a/api/cloud/1.1/server", "zone-escape"),  # encoded twice
        (f"{API}/cloud/zone/tk1v%2f..%2fis1a/api/cloud/1.1/server", "zone-escape"),
        (f"{API}/cloud/zone/tk1v/api/cloud/1.1/../../../is1a/api/cloud/1.1/server", "zone-escape"),
        (f"{API}/cloud/zone/tk1v/api/cloud/1.1/%2e%2e/server", "zone-escape"),
        (f"{API}/cloud/zone/tk1v/api/cloud/1.1/%5c..%5cserver", "zone-escape"),
        (f"{API}/cloud/api/iam/1.0/auth/context", "zone-escape"),
        (f"{API}/cloud/api/cloud/1.1/server", "zone-escape"),  # no zone: usacloud's default (is1a)
        ("/server/%2E%2E/%2E%2E/%2E%2E/is1a/api/cloud/1.1/server", "zone-escape"),
        ("/server/..%5c..%5cis1a", "zone-escape"),
    ],
)
def test_rest_leaves_only_for_tk1v(url, rule):
    planned = Policy(allow_dangerous=True, allow_global_writes=True).apply(["usacloud", "rest", url])
    assert planned.refusal is not None, planned.words
    assert planned.refusal.rule == rule
    assert planned.refusal.options == ()  # no option lifts it


@pytest.mark.parametrize(
    ("url", "sent"),
    [
        (f"{API}/cloud/zone/tk1v/api/cloud/1.1/server", f"{API}/cloud/zone/tk1v/api/cloud/1.1/server"),
        (f"{API}/cloud/zone/is1a/api/cloud/1.1/server", f"{API}/cloud/zone/tk1v/api/cloud/1.1/server"),  # pinned
        (f"{API}/cloud/zone/all/api/cloud/1.1/server", f"{API}/cloud/zone/tk1v/api/cloud/1.1/server"),
        (f'{API}/cloud/zone/tk1v/api/cloud/1.1/server?{{"Filter":{{"Name":"../x"}}}}', None),
        ("/server", None),
        ('/server?{"Count":1}', None),
        ("/server/123456789012/interface", None),
    ],
)
def test_rest_allowed(url, sent):
    planned = Policy().apply(["usacloud", "rest", url])
    assert planned.refusal is None, planned.refusal
    assert planned.words[-1] == (sent or url)


def test_rest_data_must_be_inline_json(tmp_path):
    (tmp_path / "body.json").write_text('{"Note": {}}')
    policy = Policy(allow_global_writes=True, cwd=tmp_path)
    ok = policy.apply(["usacloud", "rest", "-X", "post", "-d", '{"Note": {"Name": "x"}}', "/note"])
    assert ok.refusal is None
    for data in ("body.json", str(tmp_path / "body.json"), "/etc/passwd", "~/.usacloud/default/config.json"):
        for words in (["-d", data], [f"--data={data}"], [f"-d{data}"]):
            planned = policy.apply(["usacloud", "rest", "-X", "post", *words, "/note"])
            assert planned.refusal is not None and planned.refusal.rule == "rest-data", (words, planned.refusal)
            assert planned.refusal.options == ()


def test_rest_delete_and_power_need_allow_dangerous_whatever_global_writes_says():
    writes = Policy(allow_global_writes=True)
    for method, path in (("DELETE", "/server/1"), ("delete", "/server/1/power"), ("PUT", "/server/1/power")):
        planned = writes.apply(["usacloud", "rest", "-X", method, path])
        assert planned.refusal is not None and planned.refusal.options == (DANGEROUS_OPTION,), (method, path)
    assert writes.apply(["usacloud", "rest", "-X", "PUT", "/server/1"]).refusal is None
    both = Policy(allow_dangerous=True, allow_global_writes=True)
    assert both.apply(["usacloud", "rest", "-X", "DELETE", "/server/1"]).refusal is None


# -- local programs and interactive sessions -----------------------------------------
@pytest.mark.parametrize(
    "words",
    [
        "usacloud server ssh web",
        "usacloud server ssh web -- -oProxyCommand=touch/tmp/x",
        "usacloud iaas server ssh -l root web",
        "usacloud server vnc web",
        "usacloud iaas server vnc web",
        "usacloud server rdp web",
        "usacloud server remote-desktop web",
        "usacloud iaas server remote-desktop web",
    ],
)
def test_local_programs_are_dangerous(words):
    planned = Policy(allow_global_writes=True).apply(words.split())
    assert planned.refusal is not None and planned.refusal.options == (DANGEROUS_OPTION,)
    assert "local program" in planned.refusal.message
    assert Policy(allow_dangerous=True).apply(words.split()).refusal is None


def test_every_disruptive_subcommand_is_dangerous():
    from pytest_usacloud_sandbox.usacloud.commands import all_resources

    found = [(r, s) for r in all_resources() for s in r.subcommands if s.kind == "disruptive"]
    assert {f"{r.name} {s.name}" for r, s in found} >= {
        "disk disconnect-from-server",
        "bridge disconnect-switch",
        "internet disable-ipv6",
    }
    for res, sub in found:
        words = ["usacloud", res.name, sub.name, "-y", "123456789012"]
        refusal = Policy(allow_global_writes=True).apply(words).refusal
        assert refusal is not None and refusal.rule == "dangerous" and refusal.options == (DANGEROUS_OPTION,)
        assert "disruptive" in refusal.message
        assert Policy(allow_dangerous=True, allow_global_writes=True).apply(words).refusal is None


def test_every_connect_subcommand_is_refused():
    from pytest_usacloud_sandbox.usacloud.commands import all_resources

    connects = [(r, s) for r in all_resources() for s in r.subcommands if s.kind == "connect"]
    assert {s.name for _, s in connects} == {"ssh", "vnc", "rdp"}
    for res, sub in connects:
        assert Policy().apply(["usacloud", res.name, sub.name, "x"]).refusal.rule == "dangerous"


# -- dangerous flags inside allowed subcommands ---------------------------------------
@pytest.mark.parametrize(
    "words",
    [
        "usacloud server update -y web --force-shutdown --cpu 2",
        "usacloud server update -y web --force-shutdown=true",
        "usacloud server create -y --name a --cpu 1 --memory 1 --boot-after-create",
        "usacloud iaas mobile-gateway create -y --name m --boot-after-create",
        "usacloud vpc-router create -y --name v --boot-after-create",
        "usacloud vpc-router create-standard -y --name v --boot-after-create",
        "usacloud archive download -y a --destination x -f",
        "usacloud cdrom download -y c --destination x --force",
        """usacloud server create -y --parameters {"Name":"a","BootAfterCreate":true}""",
        """usacloud server update -y web --parameters {"forceShutdown":true}""",
    ],
)
def test_dangerous_flags(words):
    planned = Policy().apply(words.split())
    assert planned.refusal is not None and planned.refusal.options == (DANGEROUS_OPTION,), planned.refusal
    assert "dangerous flag" in planned.refusal.message
    assert Policy(allow_dangerous=True).apply(words.split()).refusal is None


@pytest.mark.parametrize(
    "words",
    [
        "usacloud server update -y web --force-shutdown=false",
        "usacloud server update -y web --name web2 --description d --tags a",
        "usacloud server create -y --name a --cpu 1 --memory 1 --boot-after-create=0",
        """usacloud server create -y --parameters {"Name":"a","BootAfterCreate":false}""",
        "usacloud archive download -y a --destination x",
    ],
)
def test_dangerous_flags_switched_off_are_fine(words):
    assert Policy().apply(words.split()).refusal is None


def test_dangerous_flags_come_from_the_tree():
    from pytest_usacloud_sandbox.usacloud.policy import DANGEROUS_FLAGS

    rows = {(r, s, f.name) for r, s, f, _ in DANGEROUS_FLAGS}
    assert rows == {
        ("server", "update", "--force-shutdown"),
        ("server", "create", "--boot-after-create"),
        ("mobile-gateway", "create", "--boot-after-create"),
        ("vpc-router", "create", "--boot-after-create"),
        ("vpc-router", "create-standard", "--boot-after-create"),
        ("archive", "download", "--force"),
        ("cdrom", "download", "--force"),
    }


# -- settings that make a service power-cycle what it changes, or write a global SIM -------------
@pytest.mark.parametrize(
    ("words", "said"),
    [
        ("usacloud server update -y web --cpu 2", "`server update --cpu` changes the plan: a plan change shuts"),
        ("usacloud server update -y web --core=2", "`server update --core` changes the plan"),
        ("usacloud server update -y web --memory 8", "gives it a new ID"),
        ("usacloud server update -y web --gpu 1", "gives it a new ID"),
        ("usacloud server update -y web --cpu-model uncategorized", "gives it a new ID"),
        ("usacloud server update -y web --commitment dedicatedcpu", "gives it a new ID"),
        ("usacloud server update -y web --generation g200", "gives it a new ID"),
        ("usacloud server update -y web --private-host-id 123456789012", "boots it again"),
        ("usacloud server update -y web --interface-driver e1000", "boots it again"),
        ("""usacloud server update -y web --parameters {"memory":4}""", "--parameters` sets Memory, so it changes"),
        ("""usacloud server update -y web --parameters {"Disks":[]}""", "boots it again"),
        ("usacloud database update -y db --replica-user-password pw", "shuts the database down"),
        ("""usacloud database update -y db --parameters {"ReplicaUserPassword":""}""", "shuts the database down"),
        ("usacloud vpc-router update -y r --private-network-interfaces []", "shuts the router down"),
        ("usacloud mobile-gateway update -y m --private-interface-switch-id 123456789012", "shuts the gateway"),
    ],
)
def test_settings_that_power_cycle_are_dangerous(words, said):
    planned = Policy().apply(words.split())
    assert planned.refusal is not None and planned.refusal.rule == "dangerous", planned.refusal
    assert said in planned.refusal.message
    allowed = Policy(allow_dangerous=True).apply(words.split())
    assert allowed.refusal is None and allowed.danger  # allowed, it goes through the ownership check


@pytest.mark.parametrize(
    "words",
    [
        """usacloud server update -y web --parameters {"CPU":null,"Name":"x"}""",
        "usacloud database update -y db --name db2",
        "usacloud vpc-router update -y r --firewall []",
        "usacloud mobile-gateway update -y m --dns1 8.8.8.8",
    ],
)
def test_settings_that_do_not_power_cycle_are_fine(words):
    assert Policy().apply(words.split()).refusal is None


def test_parameters_that_cannot_be_read_count_as_a_side_effect(tmp_path):
    from pytest_usacloud_sandbox.usacloud.sideeffects import GLOBAL_WRITES, found

    (tmp_path / "p.json").write_text("{" + " " * (1024 * 1024) + "}")  # the policy refuses it anyway (reads-file)
    inv = commands.resolve(["usacloud", "mobile-gateway", "update", "-y", "m", "--parameters", "p.json"])
    why = found(GLOBAL_WRITES, inv.resource, inv.subcommand, inv, tmp_path, None)
    assert why is not None and "cannot be checked for SIMs" in why


@pytest.mark.parametrize(
    "words",
    [
        """usacloud mobile-gateway create -y --name m --sims [{"SIMID":"113000000777","IPAddress":"192.168.0.10"}]""",
        "usacloud mobile-gateway update -y m --sims []",
        """usacloud mobile-gateway update -y m --parameters {"sims":[]}""",
        """usacloud mobile-gateway create -y --name m --parameters {"SIMs":[{"SIMID":"1"}]}""",
    ],
)
def test_sims_of_a_mobile_gateway_are_global_writes(words):
    planned = Policy(allow_dangerous=True).apply(words.split())
    assert planned.refusal is not None and planned.refusal.options == (GLOBAL_WRITES_OPTION,), planned.refusal
    assert "SIMs are global resources of the account, written through the is1a endpoint" in planned.refusal.message
    assert Policy(allow_global_writes=True).apply(words.split()).refusal is None


def test_mobile_gateway_without_sims_is_an_ordinary_create():
    words = ["usacloud", "mobile-gateway", "create", "-y", "--name", "m", "--parameters", '{"SIMs":null}']
    assert Policy().apply(words).refusal is None
    assert Policy().apply(["usacloud", "mobile-gateway", "update", "-y", "m", "--sim-routes", "[]"]).refusal is None
    assert Policy().apply(["usacloud", "mobile-gateway", "update", "-y", "m", "--sims", ""]).refusal is None
    assert Policy().apply(["usacloud", "server", "update", "-y", "web", "--disks="]).refusal is None


def test_side_effect_tables_name_real_flags_and_fields():
    from pytest_usacloud_sandbox.usacloud.sideeffects import GLOBAL_WRITES, POWER_CYCLES

    for table in (POWER_CYCLES, GLOBAL_WRITES):
        for (res, sub), effects in table.items():
            subcommand = commands.find_resource(res).find_subcommand(sub)
            for effect in effects:
                flags = [subcommand.find_flag(name) for name in effect.flags]
                assert all(f is not None and f.name in effect.flags for f in flags), (res, sub, effect.flags)
                # every key is the top of a flag's field, or a Data flag's decoded twin (SIMsData -> SIMs,
                # NetworkInterfaceData -> NetworkInterfaces)
                tops = sorted({f.field.split(".")[0].removesuffix("Data") for f in flags}, key=lambda t: t.lower())
                keys = sorted(effect.keys, key=str.lower)
                assert len(keys) == len(tops) and all(k in (t, t + "s") for k, t in zip(keys, tops, strict=True)), (
                    res,
                    sub,
                )


# -- what usacloud does not fake is refused under --usacloud-fake ----------------------
@pytest.mark.parametrize(
    "words",
    ["usacloud rest /server", "usacloud rest request -X get /zone", "usacloud update-self", "usacloud server ssh web"],
)
def test_fake_mode_refuses_what_usacloud_does_not_fake(words):
    planned = Policy(allow_dangerous=True, allow_global_writes=True, fake=True).apply(words.split())
    assert planned.refusal is not None and planned.refusal.rule == "fake-mode"
    assert planned.refusal.options == ()
    assert "does not fake" in planned.refusal.describe()
    assert Policy(fake=True).apply(["usacloud", "server", "list"]).refusal is None


def test_fake_mode_refuses_every_subcommand_that_reaches_a_real_api():
    """From the command table: each web-accelerator subcommand (its client is always real), the IAM
    lookups of bill and coupon, rest; under every alias, with every option."""
    policy = Policy(allow_dangerous=True, allow_global_writes=True, fake=True)
    refused = 0
    for res in commands.all_resources():
        for sub in res.subcommands:
            for name in (res.name, *res.aliases):
                for word in (sub.name, *sub.aliases):
                    refusal = policy.apply(["usacloud", name, word]).refusal
                    if sub.unfaked is None:  # connect subcommands start a local client: refused apart
                        assert refusal is None or refusal.rule != "fake-mode" or sub.kind == "connect", (name, word)
                        continue
                    assert refusal is not None and refusal.rule == "fake-mode", (name, word)
                    assert f"does not fake `{res.name} {sub.name}`" in refusal.message or res.name == "rest"
                    refused += 1
    assert refused >= 12
    assert policy.apply(["usacloud", "iaas", "bill", "ls"]).refusal.rule == "fake-mode"
    assert Policy(allow_global_writes=True).apply(["usacloud", "web-accelerator", "list"]).refusal is None


@pytest.mark.parametrize(
    "words", ["usacloud --fake=false server list", "usacloud server list --fake=0", "usacloud zone list --fake=F"]
)
def test_fake_mode_refuses_turning_the_fake_driver_off(words):
    """Hostile review: usacloud reads --fake after SAKURACLOUD_FAKE_MODE, so --fake=false would call the real API."""
    planned = Policy(allow_dangerous=True, allow_global_writes=True, fake=True).apply(words.split())
    assert planned.refusal is not None and planned.refusal.rule == "fake-mode"
    assert "fake driver off" in planned.refusal.describe()
    assert Policy(fake=True).apply(["usacloud", "--fake=true", "server", "list"]).refusal is None
    assert Policy().apply(words.split()).refusal is None  # outside fake mode it is the script's business


# -- VAR=value prefixes, and the flags that do the same -------------------------------
def test_allowed_prefixes_are_applied():
    planned = Policy().apply(
        ["usacloud", "server", "delete", "-y", "web"], [("SAKURACLOUD_ARGUMENT_MATCH_MODE", "exact")]
    )
    assert dict(planned.env) == {"SAKURACLOUD_ARGUMENT_MATCH_MODE": "exact"}
    assert Policy().apply(["usacloud", "zone", "list"]).env == {}


@pytest.mark.parametrize(
    "name", ["SAKURACLOUD_API_ROOT_URL", "SAKURACLOUD_ACCESS_TOKEN_SECRET", "HTTPS_PROXY", "SAKURACLOUD_ZONE", "FOO"]
)
def test_other_prefixes_refuse_the_command(name):
    planned = Policy(allow_dangerous=True, allow_global_writes=True).apply(["usacloud", "zone", "list"], [(name, "x")])
    assert planned.refusal is not None and planned.refusal.rule == "environment"
    assert name in planned.refusal.describe() and planned.refusal.options == ()
    assert planned.env == {}


@pytest.mark.parametrize(
    "words",
    [
        "usacloud --profile prod server list",
        "usacloud server list --profile=prod",
        "usacloud --fake-store /tmp/s zone list",
    ],
)
def test_route_flags_are_refused(words):
    planned = Policy(allow_dangerous=True, allow_global_writes=True).apply(words.split())
    assert planned.refusal is not None and planned.refusal.rule == "route"


def test_fake_mode_leaves_profile_to_the_dummy_credentials():
    # under --usacloud-fake `--profile` is dropped with its value (fake.dummy_words): dummy credentials only
    assert Policy(fake=True).apply(["usacloud", "--profile", "prod", "switch", "list"]).refusal is None
    assert Policy(fake=True).apply(["usacloud", "--fake-store", "/tmp/s", "zone", "list"]).refusal.rule == "route"


# -- an empty target matches every resource of the zone -------------------------------------------
@pytest.mark.parametrize(
    "words",
    [
        ["usacloud", "switch", "delete", "-y", ""],
        ["usacloud", "switch", "delete", "-y", " "],
        ["usacloud", "switch", "delete", "-y", "sw1", ""],
        ["usacloud", "server", "shutdown", "-y", "\t"],
        ["usacloud", "disk", "disconnect-from-server", "-y", "\u3000"],
        ["usacloud", "server", "read", ""],
        ["usacloud", "iaas", "switch", "update", "-y", "", "--name", "x"],
    ],
)
def test_an_empty_or_blank_target_is_refused_whatever_the_options(words):
    for policy in (Policy(), Policy(allow_dangerous=True, allow_global_writes=True), Policy(fake=True)):
        refusal = policy.apply(words).refusal
        assert refusal is not None and refusal.rule == "empty-target" and refusal.options == ()
        assert "every" in refusal.message and ("empty" in refusal.message or "blank" in refusal.message)
        assert refusal.describe().endswith("no option allows it")


@pytest.mark.parametrize(
    "words",
    [
        ["usacloud", "switch", "create", "-y", "--name", "a", "--description", ""],
        ["usacloud", "switch", "list", "--names", ""],
        ["usacloud", "switch", "update", "-y", "sw1", "--description", ""],
        ["usacloud", "config", "show", ""],  # a profile name, not a target
    ],
)
def test_empty_values_that_are_not_targets_are_fine(words):
    assert Policy().apply(words).refusal is None


# -- --trace prints the key's HTTP credentials on stderr -------------------------------------------
@pytest.mark.parametrize("flag", ["--trace", "-trace", "--trace=true", "--trace=1", "-trace=T"])
def test_trace_is_refused_where_usacloud_writes_to_the_script(flag):
    words = ["usacloud", flag, "zone", "list"]
    _refused_as_trace(words, flag)


@pytest.mark.parametrize(
    "words",
    [
        # pflag gives a flag that takes a value the next word whatever it is, `--` included: the
        # `--trace` after it is a flag, not an argument
        ["usacloud", "server", "list", "--names", "--", "--trace"],
        ["usacloud", "server", "list", "--names=x", "--trace", "--", "y"],
        ["usacloud", "server", "list", "--tags", "--", "--trace=true"],
    ],
)
def test_trace_after_a_dashdash_that_is_a_flag_value_is_refused(words):
    _refused_as_trace(words, next(w for w in words if w.startswith("--trace")))


def _refused_as_trace(words, flag):
    refusal = Policy(output_to_script=True, allow_dangerous=True, allow_global_writes=True).apply(words).refusal
    assert refusal is not None and refusal.rule == "trace" and refusal.options == ()
    assert flag in refusal.message and "credentials" in refusal.message
    assert Policy().apply(words).refusal is None  # commands mode captures the output and masks it


@pytest.mark.parametrize(
    "words",
    [
        ["usacloud", "--trace=false", "zone", "list"],
        ["usacloud", "note", "create", "-y", "--", "--trace"],
        ["usacloud", "switch", "create", "-y", "--name", "--trace"],  # the name's value
    ],
)
def test_no_trace_no_refusal(words):
    refusal = Policy(output_to_script=True, allow_global_writes=True).apply(words).refusal
    assert refusal is None or refusal.rule != "trace"


# -- output options that read a local file ----------------------------------------------------------
@pytest.mark.parametrize(
    "words",
    [
        "usacloud zone list --format fmt.txt",  # relative to where usacloud runs
        "usacloud zone list --fmt=./fmt.txt",
        "usacloud zone list --format ~/home.txt",  # go-homedir expands a leading ~/
        "usacloud zone list --format /proc/self/environ",
        "usacloud zone list -o json --query fmt.txt",
        "usacloud rest --query fmt.txt /zone",
        'usacloud zone list --format {{file\t"/proc/self/environ"}}',
        'usacloud zone list --format {{printf\t"%x"\t(file\t"x")}}',
        'usacloud zone list --format {{-\tfile\t"x"\t-}}',
        'usacloud zone list --format {{"x"|file}}',
        'usacloud zone list --format {{define\t"t"}}{{file\t"x"}}{{end}}{{template\t"t"}}',
    ],
)
def test_output_options_that_read_a_local_file_are_refused(words, tmp_path, monkeypatch):
    (tmp_path / "fmt.txt").write_text("{{.Name}}")
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "home.txt").write_text("{{.Name}}")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    argv = [w.replace("\t", " ") for w in words.split(" ")]
    for policy in (Policy(cwd=tmp_path), Policy(cwd=tmp_path, output_to_script=True, allow_dangerous=True)):
        refusal = policy.apply(argv).refusal
        assert refusal is not None and refusal.rule == "reads-file" and refusal.options == (), (argv, refusal)


@pytest.mark.parametrize(
    "words",
    [
        'usacloud zone list --format {{.Name}}\t{{.file}}\t{{$file:=.ID}}{{$file}}\t{{"file"}}\t{{`file`}}',
        "usacloud zone list --format {{/*\tfile\t*/}}{{.Name}}",
        "usacloud zone list --format file",  # text, not an action: printed as it is
        "usacloud zone list --format missing.txt",  # no such file: usacloud uses the value as the template
        "usacloud zone list --format sub",  # a directory: usacloud cannot read it, the value is the template
        "usacloud zone list --format ~nobody/fmt.txt",  # go-homedir does not expand ~user
        "usacloud zone list -o json --query [0].Name",
        "usacloud switch create -y --name fmt.txt",  # another flag naming the file
    ],
)
def test_output_options_that_read_no_file_run(words, tmp_path):
    (tmp_path / "fmt.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    argv = [w.replace("\t", " ") for w in words.split(" ")]
    assert Policy(cwd=tmp_path, output_to_script=True).apply(argv).refusal is None
