"""The environment allow-list: what a script may hand to usacloud."""

import pytest

from pytest_usacloud_sandbox.usacloud import environment as envrules

ROUTES_OUT = [
    "SAKURACLOUD_API_ROOT_URL",
    "SAKURA_API_ROOT_URL",
    "SAKURACLOUD_PROFILE",
    "SAKURA_PROFILE",
    "USACLOUD_PROFILE",
    "USACLOUD_PROFILE_DIR",
    "SAKURACLOUD_PROFILE_DIR",
    "SAKURACLOUD_TRACE",
    "SAKURACLOUD_FAKE_MODE",
    "SAKURACLOUD_FAKE_STORE_PATH",
    "SAKURA_FAKE_MODE",
    "SAKURACLOUD_DEFAULT_ZONE",
    "HTTP_PROXY",
    "https_proxy",
    "All_Proxy",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "SAKURACLOUD_ACCESS_TOKEN",
    "SAKURACLOUD_ACCESS_TOKEN_SECRET",
    "SAKURACLOUD_RETRY_MAX",
    "SAKURACLOUD_API_REQUEST_RATE_LIMIT",
    "SAKURACLOUD_SOMETHING_NEW",
    "USACLOUD_ANYTHING",
]


@pytest.mark.parametrize("name", ROUTES_OUT)
def test_routes_out_are_refused_in_both_modes(name):
    assert envrules.kind(name) == "refuse"
    applied, refusal = envrules.from_prefixes([(name, "x")])
    assert applied == {} and refusal is not None and refusal.name == name
    assert name in refusal.describe()
    applied, refusal = envrules.from_shell({name: "x", "PATH": "/bin"}, {"PATH": "/bin"})
    assert applied == {} and refusal is not None and refusal.name == name


@pytest.mark.parametrize(
    "name", ["SAKURACLOUD_ARGUMENT_MATCH_MODE", "SAKURA_DEFAULT_OUTPUT_TYPE", "NO_COLOR", "LC_ALL", "LANG", "TERM"]
)
def test_harmless_settings_are_applied(name):
    assert envrules.kind(name) == "allow"
    assert envrules.from_prefixes([(name, "exact")]) == ({name: "exact"}, None)
    assert envrules.from_shell({name: "exact"}, {}) == ({name: "exact"}, None)


def test_zone_pins_may_only_name_the_sandbox():
    assert envrules.from_prefixes([("SAKURACLOUD_ZONE", "tk1v")]) == ({}, None)
    _applied, refusal = envrules.from_prefixes([("SAKURACLOUD_ZONE", "is1a")])
    assert refusal is not None and "is1a" in refusal.reason
    _applied, refusal = envrules.from_shell({"SAKURA_ZONES": "is1a,tk1v"}, {"SAKURA_ZONES": "tk1v"})
    assert refusal is not None and refusal.name == "SAKURA_ZONES"


def test_other_variables_refuse_a_prefix_but_are_ignored_in_shell_mode():
    _applied, refusal = envrules.from_prefixes([("HOME", "/tmp/elsewhere")])
    assert refusal is not None and refusal.name == "HOME"
    assert envrules.from_shell({"HOME": "/tmp/elsewhere", "FOO": "1"}, {"HOME": "/root"}) == ({}, None)


def test_shell_mode_ignores_what_the_run_itself_gave_bash():
    given = {"HTTPS_PROXY": "http://corp-proxy:3128", "SAKURACLOUD_ZONE": "tk1v"}
    assert envrules.from_shell(dict(given), given) == ({}, None)
    changed = {**given, "HTTPS_PROXY": "http://attacker.example:8080"}
    _applied, refusal = envrules.from_shell(changed, given)
    assert refusal is not None and refusal.name == "HTTPS_PROXY"
