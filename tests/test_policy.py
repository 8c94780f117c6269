"""The sandbox policy: zone rewriting, refusals and the child's environment."""

import pytest

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
        ("usacloud rest -X delete /server/1", "global-write", (GLOBAL_WRITES_OPTION,)),
        ("usacloud rest request --method=POST /server", "global-write", (GLOBAL_WRITES_OPTION,)),
        (
            "usacloud web-accelerator delete-cache -y --url https://x",
            "global-write+dangerous",
            (GLOBAL_WRITES_OPTION, DANGEROUS_OPTION),
        ),
        ("usacloud update-self", "self-update", (DANGEROUS_OPTION,)),
        # pflag keeps the last -X; a bundle still names the method
        ("usacloud rest -X get -X delete /server/1", "global-write", (GLOBAL_WRITES_OPTION,)),
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
