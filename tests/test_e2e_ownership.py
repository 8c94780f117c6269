"""Every command that changes what it names acts only on what the run made, against the stand-in:
updates and edits by name are checked like deletes (listed first, run on the run's own IDs exactly),
in commands mode and in shell mode; reads and creates are not."""

import pytest
from standin_tools import make_outside, stored

from pytest_usacloud_sandbox.usacloud import commands


def state(e2e) -> dict[str, list[dict]]:
    return stored(e2e.tmp)


def make(e2e, *argv: str) -> None:
    make_outside(e2e.tmp, list(argv))


def described(e2e, resource: str) -> dict[str, str]:
    return {r["Name"]: r.get("Description", "") for r in state(e2e).get(resource, ())}


@pytest.mark.parametrize(
    ("resource", "subcommand", "changes"),
    [
        ("server", "update", True),
        ("disk", "edit", True),
        ("disk", "resize-partition", True),
        ("disk", "connect-to-server", True),
        ("packet-filter", "update", True),
        ("internet", "add-subnet", True),
        ("switch", "delete", True),
        ("server", "boot", True),
        ("server", "read", False),
        ("server", "list", False),
        ("server", "wait-until-ready", False),
        ("server", "create", False),
        ("server", "ssh", False),
        ("ipv6addr", "update", False),  # selects an address by flags, not resources by name
    ],
)
def test_the_changing_subcommands_are_the_ones_that_change_what_they_select(resource, subcommand, changes):
    sub = commands.find_resource(resource).find_subcommand(subcommand)
    assert sub.changes_targets is changes


@pytest.mark.parametrize("shell", [False, True])
def test_an_update_by_name_never_touches_another_teams_resource(e2e, shell):
    make(e2e, "switch", "create", "-y", "--name", "team-b-web-switch", "--description", "team B")
    make(e2e, "packet-filter", "create", "-y", "--name", "team-b-web-fw", "--description", "team B fw")
    body = (
        "usacloud switch create -y --name web -q\n"
        "usacloud switch update -y web --description mine\n"
        "usacloud packet-filter create -y --name web -q\n"
        "usacloud packet-filter update -y web --description mine\n"
    )
    if shell:
        e2e.shell_script("upd.usacloud", "set -e\n" + body)
    else:
        e2e.script("upd.usacloud", body)
    result = e2e.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*refused by the sandbox policy (ownership): `switch` 'web' matches team-b-web-switch (ID *), "
            "not created by this run*"
        ]
    )
    assert not [a for a in e2e.argvs() if a[1:2] == ["update"]]  # never run
    assert described(e2e, "switch") == {"team-b-web-switch": "team B"}  # the run's own `web` went at the end
    assert described(e2e, "packet-filter") == {"team-b-web-fw": "team B fw"}


def test_an_update_of_the_runs_own_resource_runs_on_its_id_exactly(e2e):
    make(e2e, "switch", "create", "-y", "--name", "team-b-web-switch", "--description", "team B")
    e2e.script(
        "upd.usacloud",
        "usacloud switch create -y --name web-1 -q\n"
        "usacloud packet-filter create -y --name web-1 -q\n"  # untagged: its printed ID makes it the run's
        "usacloud switch update -y web-1 --description mine\n"
        "usacloud packet-filter update -y web-1 --description mine\n"
        "usacloud switch list --names web -o json\n"  # reads match by substring as written, unchecked
        "usacloud switch read team-b-web-switch -o json\n",
    )
    result = e2e.run()
    result.assert_outcomes(passed=1)
    for resource in ("switch", "packet-filter"):
        update = next(a for a in e2e.argvs() if a[:2] == [resource, "update"])
        assert update[2:4] == ["--argument-match-mode", "exact"] and "web-1" not in update
        assert update[5].isdigit() and update[4:] == ["-y", update[5], "--description", "mine"]
    lists = [c["argv"][:2] for c in e2e.own_calls() if c["argv"][1] == "list"]
    assert lists.count(["switch", "list"]) == 2  # one for the update's check, one for the teardown
    assert described(e2e, "switch") == {"team-b-web-switch": "team B"}
    result.stdout.fnmatch_lines(["cleanup: 2 deleted, 0 left*"])


def test_an_update_matching_nothing_fails_as_not_found_and_any_lifts_the_check(e2e):
    make(e2e, "switch", "create", "-y", "--name", "team-b-web-switch", "--description", "team B")
    e2e.script("upd.usacloud", "usacloud switch update -y nothing-like-it --description mine\n")
    result = e2e.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ['not-found: target resource not found: query=?"nothing-like-it"? (no switch of the zone matches it)']
    )
    assert not [a for a in e2e.argvs() if a[:2] == ["switch", "update"]]  # never passed on
    e2e.script("upd.usacloud", "usacloud switch update -y web --description mine\n")
    e2e.run("--usacloud-allow-dangerous=any").assert_outcomes(passed=1)
    assert described(e2e, "switch") == {"team-b-web-switch": "mine"}  # `any`: as written, substring match


@pytest.mark.parametrize("output", ["-q", "-o json", "", "-o yaml"])
def test_a_plan_change_gives_the_runs_server_a_new_id_and_the_teardown_follows_it(e2e, output):
    """A new plan makes a new server (new ID, same name and tags): the ID the update printed replaces
    the one the create printed, and the teardown deletes it. (The plan change may need
    --usacloud-allow-dangerous: it shuts a running server down and boots it again.)"""
    make(e2e, "server", "create", "-y", "--name", "team-b-web", "--cpu", "1", "--memory", "1")
    e2e.script(
        "scale.usacloud",
        "usacloud server create -y --name ci-scale-web --cpu 1 --memory 1 -q\n"
        f"usacloud server update -y ci-scale-web --cpu 2 --memory 2 {output}\n",
    )
    result = e2e.run("--usacloud-allow-dangerous")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["cleanup: 1 deleted, 0 left*"])
    assert [r["Name"] for r in state(e2e)["server"]] == ["team-b-web"]


def test_in_shell_mode_an_update_keeping_the_id_and_a_plan_change_are_both_followed(e2e):
    e2e.shell_script(
        "keep.usacloud",
        """
        set -e
        usacloud server create -y --name ci-web --cpu 1 --memory 1 -q
        usacloud server update -y ci-web --cpu 1 --description same -q
        usacloud server update -y ci-web --memory 2 -o json > /dev/null
        """,
    )
    result = e2e.run("--usacloud-allow-dangerous")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["cleanup: 1 deleted, 0 left*"])
    assert state(e2e)["server"] == []


def test_the_ids_of_yaml_creates_are_recorded_and_removed(e2e):
    """Untaggable kinds are known by the ID their create printed: in YAML too (``-o yaml`` or the
    default output type), where the ID is not the item's first key."""
    e2e.script(
        "yaml.usacloud",
        "usacloud packet-filter create -y --name pf-yaml -o yaml\n"
        "SAKURACLOUD_DEFAULT_OUTPUT_TYPE=yaml usacloud packet-filter create -y --name pf-env-yaml\n"
        "usacloud packet-filter create -y --name pf-json -o json\n",
    )
    result = e2e.run()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["cleanup: 3 deleted, 0 left*"])
    assert state(e2e)["packet-filter"] == []
