"""Cleanup's rules without running anything: the run id, tagging a create, reading usacloud's output,
resolving a delete's targets, the teardown's plan and order, and how the results read."""

import json
from datetime import UTC, datetime

import pytest

from pytest_usacloud_sandbox.cleanup import ownership, plan, resources, tagging
from pytest_usacloud_sandbox.cleanup.printed import Listed, listed, printed_ids
from pytest_usacloud_sandbox.cleanup.runid import MAX_TAG_CHARS, RunId, tag_time
from pytest_usacloud_sandbox.cleanup.tagging import tag_create
from pytest_usacloud_sandbox.cleanup.teardown import Deadline
from pytest_usacloud_sandbox.record.cleanup import CleanupRecord, ResourceRecord
from pytest_usacloud_sandbox.record.command import CommandRecord
from pytest_usacloud_sandbox.record.fields import plain
from pytest_usacloud_sandbox.record.vocabulary import ResourceResult
from pytest_usacloud_sandbox.usacloud.mask import Masker
from pytest_usacloud_sandbox.usacloud.policy import Refusal

RUN = RunId("261207093000-3fa9c1")
TAG = RUN.tag


def words(text: str) -> tuple[str, ...]:
    return ("usacloud", *text.split())


# -- the run id --------------------------------------------------------------------------------


def test_the_run_tag_fits_usaclouds_limit_and_says_when_the_run_started():
    run = RunId.new(datetime(2026, 12, 7, 9, 30, 0, tzinfo=UTC))
    assert len(run.tag) <= MAX_TAG_CHARS and run.tag.startswith("usacloud-run=261207093000-")
    assert tag_time(run.tag) == datetime(2026, 12, 7, 9, 30, 0, tzinfo=UTC)
    assert RunId.new().value != RunId.new().value  # random part
    for foreign in ("usacloud-run=yesterday", "sandbox-run=abc123", "usacloud-run=261207093000-3fa9c1x", "env=prod"):
        assert tag_time(foreign) is None


def test_a_scripts_id_and_tag_are_its_own_and_stable():
    assert RUN.script_id("a.usacloud::a") == RUN.script_id("a.usacloud::a") != RUN.script_id("b.usacloud::b")
    assert RUN.script_id("a.usacloud::a").startswith(RUN.value + "-")
    assert len(RUN.script_tag("x" * 500)) <= MAX_TAG_CHARS
    env = RUN.env("a.usacloud::a")
    assert env["USACLOUD_SANDBOX_RUN_ID"] == RUN.value and env["USACLOUD_SANDBOX_RUN_TAG"] == TAG


# -- tagging a create --------------------------------------------------------------------------


def test_a_create_gets_the_run_tag_right_after_its_subcommand():
    tagged = tag_create(words("switch create -y --name a"), [TAG])
    assert tagged.words == words(f"switch create --tags {TAG} -y --name a")
    assert (tagged.resource, tagged.by, tagged.name, tagged.refusal) == ("switch", "tag", "a", None)


def test_other_commands_are_left_as_they_are():
    for text in ("switch list --tags x", "switch update -y a --tags b", "zone list", "server delete -y web"):
        tagged = tag_create(words(text), [TAG])
        assert tagged.words == words(text) and tagged.resource is None


@pytest.mark.parametrize(
    "text",
    [
        f"switch update -y shared --tags team=net --tags {TAG}",
        f"switch update -y shared --tags team=net,{TAG}",
        "switch update -y shared --tags usacloud-run=261207000000-abcdef",
        "switch update -y shared --tags usacloud-script=0123abcd",
        f'switch update -y shared --parameters {{"tags":["{TAG}"]}}',
        'server create -y --name a --disk-size 20 --parameters {"Disk":{"Tags":["usacloud-run=x"]}}',
        "switch create -y --name a --tags usacloud-run=261207000000-abcdef",  # another run's: the sweep's
        f"server create -y --name a --disk-size 20 --disk-tags {TAG},usacloud-script=x",
    ],
)
def test_only_the_plugin_gives_its_tags(text):
    """The teardown removes what the run made: a command that put the run's tag on something else
    would hand it to the teardown (and any run tag, to the sweep)."""
    tagged = tag_create(words(text), [TAG])
    assert tagged.refusal is not None and "only the plugin gives its tags" in tagged.refusal
    cmd = CommandRecord(line=1, text=text)
    assert not tagging.record(cmd, Masker(), tagged) and "(run-tag)" in cmd.message


def test_the_runs_tags_given_to_its_own_create_and_plugin_tags_in_a_listing_pass():
    assert tag_create(words(f"switch create -y --name a --tags {TAG}"), [TAG]).refusal is None
    assert tag_create(words(f"switch list --tags {TAG}"), [TAG]).refusal is None
    assert tag_create(words("switch update -y a --tags usacloud-runner"), [TAG]).refusal is None


def test_the_scripts_tags_are_kept_beside_the_run_tag():
    tagged = tag_create(words("switch create -y --name a --tags ci,web --tags x"), [TAG])
    assert tagged.words == words(f"switch create --tags {TAG} -y --name a --tags ci,web --tags x")
    again = tag_create(words(f"switch create -y --name a --tags {TAG}"), [TAG])  # $USACLOUD_SANDBOX_RUN_TAG
    assert again.words == words(f"switch create -y --name a --tags {TAG}")


def test_a_create_with_ten_tags_already_is_refused_before_it_runs():
    nine = ",".join(f"t{i}" for i in range(9))
    assert tag_create(words(f"switch create -y --name a --tags {nine}"), [TAG]).refusal is None
    tagged = tag_create(words(f"switch create -y --name a --tags {nine},t9"), [TAG])
    assert "already has 10 tags" in tagged.refusal and TAG in tagged.refusal and "10 usacloud allows" in tagged.refusal
    params = json.dumps({"Zone": "tk1v", "Name": "a", "Tags": [f"j{i}" for i in range(10)]})
    assert (
        "already has 10 tags"
        in tag_create(("usacloud", "switch", "create", "-y", "--parameters", params), [TAG]).refusal
    )


def test_parameters_tags_get_the_run_tag_in_the_json():
    params = json.dumps({"Zone": "tk1v", "Name": "p", "tags": ["a"]})  # Go matches keys case-insensitively
    tagged = tag_create(("usacloud", "switch", "create", "-y", "--parameters", params), [TAG])
    assert "--tags" not in tagged.words
    data = json.loads(tagged.words[-1])
    assert data["tags"] == ["a", TAG] and data["Name"] == "p" and tagged.name == "p"
    inline = tag_create(("usacloud", "switch", "create", "-y", f"--parameters={json.dumps({'Zone': 'tk1v'})}"), [TAG])
    assert json.loads(inline.words[-1].split("=", 1)[1])["Tags"] == [TAG]


def test_a_parameters_file_is_read_where_usacloud_runs_and_passed_inline(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps({"Zone": "tk1v", "Name": "f", "Tags": ["x"]}))
    tagged = tag_create(words("switch create -y --parameters p.json"), [TAG], tmp_path)
    assert json.loads(tagged.words[-1])["Tags"] == ["x", TAG]
    unread = tag_create(words("switch create -y --parameters missing.json"), [TAG], tmp_path)
    assert unread.words == words(f"switch create --tags {TAG} -y --parameters missing.json")


def test_with_tags_flags_and_parameters_the_flag_carries_the_run_tag():
    params = json.dumps({"Zone": "tk1v", "Name": "p", "Tags": ["j"]})
    tagged = tag_create(("usacloud", "switch", "create", "-y", "--parameters", params, "--tags", "f"), [TAG])
    assert tagged.words[3:5] == ("--tags", TAG) and json.loads(tagged.words[7]) == json.loads(params)


def test_resources_without_tags_are_recorded_by_id_or_named_as_unreachable():
    pf = tag_create(words("packet-filter create -y --name pf"), [TAG])
    assert (pf.words, pf.by, pf.resource) == (words("packet-filter create -y --name pf"), "id", "packet-filter")
    v6 = tag_create(words("ipv6addr create -y --i-pv6-addr 2001:db8::1"), [TAG])
    assert v6.by == "none" and "takes no tags" in v6.reason


def test_a_servers_new_disk_gets_the_tag_but_a_connected_one_does_not():
    new = tag_create(words("server create -y --name s --disk-os-type ubuntu --disk-size 20"), [TAG])
    assert new.words == words(
        f"server create --tags {TAG} --disk-tags {TAG} -y --name s --disk-os-type ubuntu --disk-size 20"
    )
    assert new.disks == "new"
    existing = tag_create(words("server create -y --name s --disk-id 113000000001"), [TAG])
    assert "--disk-tags" not in existing.words and existing.disks == "existing"
    bare = tag_create(words("server create -y --name s"), [TAG])
    assert "--disk-tags" not in bare.words and bare.disks == "none"  # a --disk-tags alone would make a disk
    params = json.dumps({"Zone": "tk1v", "Name": "s", "Disks": [{"SizeGB": 20}, {"ID": 5}]})
    tagged = tag_create(("usacloud", "server", "create", "-y", "--parameters", params), [TAG])
    disks = json.loads(tagged.words[-1])["Disks"]
    assert disks == [{"SizeGB": 20, "Tags": [TAG]}, {"ID": 5}] and tagged.disks == "existing"


def test_under_script_cleanup_a_create_carries_the_scripts_tag_too():
    script_tag = RUN.script_tag("a.usacloud::a")
    tagged = tag_create(words("switch create -y --name a"), [TAG, script_tag])
    assert tagged.words[3:7] == ("--tags", TAG, "--tags", script_tag)


# -- what usacloud printed ---------------------------------------------------------------------


def test_the_ids_a_create_printed_in_each_output_form():
    assert printed_ids("113000000001\n") == ["113000000001"]
    assert printed_ids(json.dumps([{"ID": 100000000010, "Name": "a"}], indent=4)) == ["100000000010"]
    assert printed_ids('- ID: "113000000001"\n  Name: a\n') == ["113000000001"]
    table = "+---+\n| Zone | ID           | Name |\n+---+\n| tk1v | 113000000002 | a    |\n+---+\n"
    assert printed_ids(table) == ["113000000002"]
    assert printed_ids("a:113000000001\n") == [] and printed_ids("") == []  # --format: nothing to read


#: usacloud 1.22.8's ``server create -o yaml`` (abridged): the item's own keys two spaces in, its
#: disks' and interfaces' under ``- `` lists, the zone's and region's deeper; a description may say ``ID:``
SERVER_YAML = """\
- Availability: available
  CDROMID: 0
  Description: 'ID: 123'
  Disks:
  - ID: 100000000024
    Storage:
      ID: 123456789012
  ID: 100000000022
  IconID: 0
  Interfaces:
  - HostName: ""
    ID: 100000000023
    SwitchID: 100000000021
  Name: s3
  Zone:
    ID: 29001
    Region:
      ID: 210
- CreatedAt: "2026-12-07T18:19:42.716330697Z"
  Description: |-
    ID: 5
  ID: 100000000030
"""


def test_the_ids_a_yaml_output_printed_are_the_items_own():
    assert printed_ids(SERVER_YAML) == ["100000000022", "100000000030"]
    assert printed_ids('- CreatedAt: "x"\n  Description: ""\n  ID: 100000000010\n  Name: pf\n') == ["100000000010"]


def test_a_listing_is_read_with_zones_tags_and_a_servers_disks():
    items = listed(
        json.dumps(
            [
                {"ID": 1, "Name": "s", "Zone": {"Name": "tk1v"}, "Tags": ["a"], "Disks": [{"ID": 2}]},
                {"ID": "3", "Name": "w", "Zone": "tk1v", "Tags": []},
            ]
        )
    )
    assert items == [Listed("1", "s", "tk1v", ("a",), ("2",)), Listed("3", "w", "tk1v")]
    assert listed("") == [] and listed("not json") is None and listed('[{"Name": "no id"}]') is None


# -- a delete's targets ------------------------------------------------------------------------


def listing() -> list[Listed]:
    return [
        Listed("113000000001", "web", "tk1v", (TAG,)),
        Listed("113000000002", "web-2", "tk1v", ("other-run",)),
        Listed("113000000003", "db", "tk1v", (TAG,)),
    ]


def ours(item: Listed) -> bool:
    return TAG in item.tags


def test_a_name_that_also_matches_another_runs_resource_fails_naming_it():
    found = ownership.targets(words("server delete -y web"), {})
    assert isinstance(found, ownership.Targets) and found.values == ("web",) and not found.exact
    refused = ownership.resolve(found, listing(), ours)
    assert isinstance(refused, Refusal) and refused.rule == "ownership"
    text = refused.describe()
    assert "web-2 (ID 113000000002)" in text and "not created by this run" in text and "=any" in text
    assert "113000000001" not in text  # the run's own match is not the problem


def test_matches_of_the_runs_own_are_replaced_by_their_ids_matched_exactly():
    exact = ownership.targets(words("server delete -y --argument-match-mode exact web"), {})
    assert ownership.resolve(exact, listing(), ours) == words(
        "server delete --argument-match-mode exact -y 113000000001"
    )
    by_env = ownership.targets(words("server delete -y web"), {"SAKURACLOUD_ARGUMENT_MATCH_MODE": "exact"})
    assert by_env.exact
    by_tag = ownership.targets(words(f"server delete -y {TAG}"), {})
    assert ownership.resolve(by_tag, listing(), ours) == words(
        "server delete --argument-match-mode exact -y 113000000001 113000000003"
    )
    by_id = ownership.targets(words("server shutdown -y --force 113000000003"), {})
    assert ownership.resolve(by_id, listing(), ours) == words(
        "server shutdown --argument-match-mode exact -y --force 113000000003"
    )


@pytest.mark.parametrize(
    ("env", "exact"),
    [
        ({"SAKURA_ARGUMENT_MATCH_MODE": "partial", "SAKURACLOUD_ARGUMENT_MATCH_MODE": "exact"}, False),
        ({"SAKURA_ARGUMENT_MATCH_MODE": "exact", "SAKURACLOUD_ARGUMENT_MATCH_MODE": "partial"}, True),
        ({"SAKURA_ARGUMENT_MATCH_MODE": "", "SAKURACLOUD_ARGUMENT_MATCH_MODE": "exact"}, True),
        ({"SAKURACLOUD_ARGUMENT_MATCH_MODE": "exact"}, True),
        ({}, False),
    ],
)
def test_the_match_mode_is_read_as_usacloud_reads_it(env, exact):
    """usacloud 1.22.8 (pkg/config): `SAKURA_ARGUMENT_MATCH_MODE` first, then the SAKURACLOUD_ one, the
    first non-empty wins; the flag over both, the last one given."""
    assert ownership.targets(words("switch delete -y web"), env).exact is exact
    flag = ownership.targets(words("switch delete -y --argument-match-mode partial web"), {**env, "X": "1"})
    assert not flag.exact
    last = ownership.targets(words("switch delete --argument-match-mode partial --argument-match-mode exact web"), env)
    assert last.exact


def test_a_target_that_matches_nothing_fails_as_not_found_and_is_never_passed_on():
    """usacloud would match it its own way (another match mode than the one believed, say)."""
    found = ownership.targets(words("server delete -y --argument-match-mode exact we"), {})
    missing = ownership.resolve(found, listing(), ours)
    assert isinstance(missing, ownership.Missing) and 'target resource not found: query=["we"]' in missing.message
    both = ownership.targets(words(f"server delete -y {TAG} nosuch"), {})
    assert isinstance(ownership.resolve(both, listing(), ours), ownership.Missing)


def test_an_id_that_is_also_anothers_name_or_tag_is_refused():
    """With `--argument-match-mode exact` an ID still matches a resource named exactly like it."""
    items = [*listing(), Listed("113000000009", "113000000003", "tk1v", (TAG,))]
    found = ownership.targets(words("server delete -y db"), {})
    refused = ownership.resolve(found, items, lambda item: item.id != "113000000009")
    assert (
        isinstance(refused, Refusal) and "also the name or a tag of 113000000003 (ID 113000000009)" in refused.message
    )
    tagged = [*listing(), Listed("113000000009", "x", "tk1v", ("113000000003",))]
    assert isinstance(ownership.resolve(found, tagged, lambda item: True), Refusal)


def test_exact_replaces_any_match_mode_given():
    assert ownership.exact(words("switch delete -y --argument-match-mode=partial -- 1")) == words(
        "switch delete --argument-match-mode exact -y -- 1"
    )


def test_an_empty_target_matches_every_name_and_is_refused():
    found = ownership.targets(("usacloud", "switch", "delete", "-y", ""), {})
    assert isinstance(ownership.resolve(found, listing(), ours), Refusal)


def test_targets_that_cannot_be_checked_are_refused_and_non_resources_pass():
    for text in ("rest request -X DELETE /server/1", "ipv6addr delete -y --i-pv6-addr 2001:db8::1"):
        assert isinstance(ownership.targets(words(text), {}), Refusal), text
    assert ownership.targets(words("server ssh web"), {}) is None
    assert ownership.targets(words("config delete -y prod"), {}) is None


# -- the plan and its order --------------------------------------------------------------------


def test_every_resource_that_takes_tags_has_its_place_in_the_order():
    kinds = resources.taggable()
    assert len(kinds) == 26 and "packet-filter" not in kinds and "server" in kinds
    assert all(resources.stage_of(k) < len(resources.STAGES) for k in kinds)
    order = [k for stage in resources.STAGES for k in stage]
    chain = ("server", "load-balancer", "disk", "archive", "cdrom", "switch", "internet", "bridge", "packet-filter")
    assert [order.index(k) for k in chain] == sorted(order.index(k) for k in chain)


def test_deletes_are_by_id_in_tk1v_servers_and_appliances_forced():
    exact = ["--argument-match-mode", "exact"]  # an ID alone: by default it matches names containing it too
    assert resources.delete_words("server", "1", with_disks=True) == [
        "usacloud", "server", "delete", "-y", *exact, "--force", "--with-disks", "--zone", "tk1v", "1",
    ]  # fmt: skip
    assert resources.delete_words("switch", "2") == [
        "usacloud",
        "switch",
        "delete",
        "-y",
        *exact,
        "--zone",
        "tk1v",
        "2",
    ]
    assert resources.delete_words("note", "3") == ["usacloud", "note", "delete", "-y", *exact, "3"]  # global: no zone
    assert resources.list_words("switch", [TAG]) == [
        "usacloud",
        "switch",
        "list",
        "--tags",
        TAG,
        "--zone",
        "tk1v",
        "-o",
        "json",
    ]


def entry(key, resource, by="tag", state="done", ids=(), **extra):
    return {"key": key, "resource": resource, "by": by, "state": state, "ids": list(ids), "script": "a::a", **extra}


def test_the_plan_lists_each_tagged_kind_once_and_deletes_untagged_ones_by_id():
    journal = [
        entry("k1", "switch", state="running"),
        entry("k1", "switch", ids=["11"]),  # the same create, after it ran
        entry("k2", "switch"),
        entry("k3", "server"),
        entry("k4", "packet-filter", by="id", ids=["21"], name="pf"),
        entry("k5", "packet-filter", by="id", state="failed"),  # made nothing
        entry("k6", "bridge", by="id", reason="its output did not show the new ID"),
        entry("k7", "ipv6addr", by="none", reason="takes no tags"),
        entry("k8", "note"),
    ]
    made = plan.make(journal, [TAG], allow_global=False)
    assert made.tagged == ["server", "switch"]
    assert made.listings == ["server", "switch", "packet-filter"]  # whole: what an ID also matches is seen there
    assert made.made == {"switch": {"11"}, "server": set(), "packet-filter": {"21"}}
    assert made.unseen == {"switch": {""}, "server": {""}}  # k2, k3: done without their IDs seen
    assert made.by_id == [plan.Deletion("packet-filter", "21", "pf", "tk1v", script="a::a")]
    reasons = {o.type: o.reason for o in made.unreachable}
    assert reasons == {
        "bridge": "its output did not show the new ID",
        "ipv6addr": "takes no tags",
        "note": plan.GLOBAL_NOTE,
    }
    assert all(o.result == ResourceResult.LEFT for o in made.unreachable)
    assert plan.make(journal, [TAG], allow_global=True).tagged == ["server", "switch", "note"]
    with_disk = plan.make([entry("k1", "server", disks="new")], [TAG], allow_global=False)
    assert with_disk.listings == ["server", "disk"]  # the disk the server made carries the tag: found as a disk


def test_stages_delete_only_what_carries_every_tag_in_tk1v_in_order():
    made = plan.Plan((TAG,), ["server", "disk", "switch", "packet-filter"], [plan.Deletion("packet-filter", "9")])
    listings = {
        "server": [Listed("1", "web", "tk1v", (TAG,), ("3",)), Listed("2", "db", "tk1v", (TAG,), ("4", "5"))],
        "disk": [Listed("3", "web", "tk1v", (TAG,)), Listed("4", "db", "tk1v", (TAG,))],
        "switch": [
            Listed("6", "sw", "tk1v", (TAG,)),
            Listed("7", "theirs", "tk1v", ()),
            Listed("8", "x", "is1a", (TAG,)),
        ],
        "packet-filter": [Listed("9", "pf")],
    }
    staged = plan.stages(made, listings)
    assert [[(d.resource, d.id) for d in stage] for stage in staged.stages] == [
        [("server", "1"), ("server", "2")],
        [("disk", "4")],
        [("switch", "6")],
        [("packet-filter", "9")],
    ]
    web, db = staged.stages[0]
    assert web.with_disks and web.disks == ("3",) and "--with-disks" in web.words  # its one disk is the run's
    assert not db.with_disks and "--with-disks" not in db.words  # disk 5 is not: it stays connected, untouched
    assert staged.settled == []


def journal_plan(**made) -> plan.Plan:
    return plan.Plan((TAG,), list(made), made={k: set(v) for k, v in made.items()})


def test_a_tagged_resource_no_create_of_the_run_made_is_left_named():
    """The run's tag is a value any command can set: the journal says what the run created."""
    listings = {"switch": [Listed("6", "mine", "tk1v", (TAG,)), Listed("7", "shared", "tk1v", ("team=net", TAG))]}
    staged = plan.stages(journal_plan(switch=["6"]), listings)
    assert [[d.id for d in stage] for stage in staged.stages] == [["6"]]
    (left,) = staged.settled
    assert (left.id, left.name, left.result, left.reason) == ("7", "shared", ResourceResult.LEFT, plan.NOT_MADE)


def test_a_create_whose_id_was_not_seen_is_found_by_its_name_and_a_servers_disks_by_it():
    made = journal_plan(server=[], disk=[])
    made.unseen = {"server": {"web"}}
    listings = {
        "server": [Listed("1", "web", "tk1v", (TAG,), ("3",)), Listed("2", "other", "tk1v", (TAG,), ("4",))],
        "disk": [Listed("3", "web-disk", "tk1v", (TAG,)), Listed("4", "other-disk", "tk1v", (TAG,))],
    }
    staged = plan.stages(made, listings)
    assert [(d.resource, d.id, d.with_disks) for s in staged.stages for d in s] == [("server", "1", True)]
    assert sorted(r.id for r in staged.settled) == ["2", "4"]


def test_a_delete_by_id_never_goes_where_that_id_is_anothers_name_or_tag_or_gone():
    made = journal_plan(switch=["6"])
    made.by_id = [plan.Deletion("packet-filter", "9"), plan.Deletion("packet-filter", "10")]
    listings = {
        "switch": [Listed("6", "mine", "tk1v", (TAG,)), Listed("7", "6", "tk1v", ())],
        "packet-filter": [Listed("9", "pf"), Listed("11", "theirs", "tk1v", ("9",))],
    }
    staged = plan.stages(made, listings)
    assert staged.stages == []
    outcomes = {(r.type, r.id): (r.result, r.reason) for r in staged.settled}
    assert (
        outcomes[("switch", "6")][0] == ResourceResult.LEFT
        and "6 (ID 7) is named like its ID" in outcomes[("switch", "6")][1]
    )
    assert outcomes[("packet-filter", "9")][0] == ResourceResult.LEFT
    assert outcomes[("packet-filter", "10")] == (ResourceResult.DELETED, plan.GONE)


def test_the_sweep_keeps_its_own_rule_without_a_journal():
    sweep = plan.Plan((), ["server", "disk"])
    listings = {
        "server": [Listed("1", "old", "tk1v", ("usacloud-run=old",), ("3", "4"))],
        "disk": [Listed("3", "", "tk1v", ("usacloud-run=old",)), Listed("4", "", "tk1v", ())],
    }
    staged = plan.stages(sweep, listings, keep=lambda item: "usacloud-run=old" in item.tags)
    assert [(d.resource, d.id, d.with_disks) for s in staged.stages for d in s] == [
        ("server", "1", False),
        ("disk", "3", False),
    ]
    assert staged.settled == []


# -- results and the teardown's stop -------------------------------------------------------------


def test_the_summary_line_counts_and_lists_each_leftover_with_its_reason():
    summary = CleanupRecord("run", TAG)
    summary.resources += [
        ResourceRecord("switch", "1", "a", "tk1v", ResourceResult.DELETED),
        ResourceRecord("server", "2", "web", "tk1v", ResourceResult.LEFT, "conflict: still_creating", "a.usacloud::a"),
    ]
    lines = summary.lines(["usacloud server delete -y --force --zone tk1v " + TAG])
    assert lines[0] == "cleanup: 1 deleted, 1 left"
    assert lines[1] == "  left: server 2 'web' (tk1v), made by a.usacloud::a: conflict: still_creating"
    assert TAG in lines[2] and lines[3].endswith(TAG)
    kept = CleanupRecord("off", TAG, [ResourceRecord("switch", "1", result=ResourceResult.KEPT)])
    assert kept.lines([])[0] == "cleanup: 0 deleted, 0 left, 1 kept (--usacloud-cleanup=off)"
    assert any(TAG in line for line in kept.lines([]))
    data = plain(summary)
    assert (data["deleted"], data["left"], data["resources"][1]["reason"]) == (1, 1, "conflict: still_creating")


def test_the_teardown_stops_at_its_deadline_or_an_interrupt():
    now = [0.0]
    stop = Deadline(10, clock=lambda: now[0])
    assert not stop()
    now[0] = 10.5
    assert stop() and "cleanup-timeout (10s)" in stop.why
    interrupted = Deadline(10, clock=lambda: 0.0)
    interrupted.interrupt()
    assert interrupted() and "second Ctrl-C" in interrupted.why


@pytest.mark.parametrize("phase", ["cleaning up (3/12 calls)", None])
def test_the_progress_line_says_when_the_run_is_cleaning_up(phase):
    from pytest_usacloud_sandbox.report.runlog import RunLog
    from pytest_usacloud_sandbox.settings import Settings

    log = RunLog(Settings(), "/nonexistent", 0.0, {}, "", 0)
    log.set_total(2)
    log.phase = phase
    line = log.status_line(5.0)
    assert line.startswith("usacloud: cleaning up (3/12 calls) | 0/2 scripts") == bool(phase), line


def test_an_update_that_printed_new_ids_replaces_the_old_ones_in_the_journal():
    from pytest_usacloud_sandbox.cleanup.hooks import CleanupHooks, Guarded
    from pytest_usacloud_sandbox.record.vocabulary import CommandStatus

    notes: list[dict] = []
    hooks = CleanupHooks(RUN, note=notes.append)
    base = {"script": "a", "line": 1, "tags": [RUN.tag], "name": "web", "disks": "none", "state": "done"}
    hooks._by_script["a"] = [
        {**base, "key": "k1", "resource": "server", "by": "tag", "ids": ["11", "12"]},
        {**base, "key": "k2", "resource": "server", "by": "tag", "ids": ["13"]},
        {**base, "key": "k3", "resource": "packet-filter", "by": "id", "ids": ["11"]},
    ]
    ok = CommandRecord(line=2, text="", status=CommandStatus.OK)
    words = ("usacloud", "server", "update", "--argument-match-mode", "exact", "-y", "11", "13", "--cpu", "2", "-q")
    hooks.changed(Guarded(words, resource="server", ids=("11", "13")), ok, "21\n23\n")
    assert [e["ids"] for e in hooks._by_script["a"]] == [["21", "12"], ["23"], ["11"]]
    assert [(n["key"], n["ids"]) for n in notes] == [("k1", ["21", "12"]), ("k2", ["23"])]  # the journal's last word
    # an update that printed the IDs it was given, a failed one, a subcommand of another kind: nothing
    hooks.changed(Guarded(words, resource="server", ids=("21",)), ok, "21\n")
    failed = CommandRecord(line=2, text="", status=CommandStatus.FAILED)
    hooks.changed(Guarded(words, resource="server", ids=("21",)), failed, "99\n")
    boot = ("usacloud", "server", "boot", "--argument-match-mode", "exact", "-y", "21")
    hooks.changed(Guarded(boot, resource="server", ids=("21",)), ok, "99\n")
    assert len(notes) == 2 and hooks.owned_ids("server") == {"21", "12", "23"}
