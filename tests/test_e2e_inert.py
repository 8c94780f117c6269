"""Inert unless asked, and no surprise collection."""

from __future__ import annotations

import re

import pytest

from conftest import INNER_PLUGINS, INNER_TRIMS
from pytest_usacloud_sandbox.items import Scope

# The inner suite's own test checks, inside the run, that the plugin left no trace.
PLAIN_SUITE = """
import signal
import threading


def test_no_signal_handler_no_thread_no_plugin_object(request):
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert [t.name for t in threading.enumerate()] == ["MainThread"]
    names = [name for name, _ in request.config.pluginmanager.list_name_plugin()]
    assert not [n for n in names if n and n.startswith("usacloud-")], names


def test_fails():
    assert 1 == 2
"""


def _normalised(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        if line.startswith(("plugins:", "rootdir:")):
            continue
        lines.append(re.sub(r" in \d+\.\d+s", " in Ns", line))
    return lines


def _plain_run(pytester: pytest.Pytester, monkeypatch, tmpdir, *args: str, plugin: bool = True):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    plugins = INNER_PLUGINS if plugin else ("-p", "xdist.plugin", *INNER_TRIMS)
    return pytester.runpytest_subprocess(*plugins, "-p", "no:cacheprovider", *args)


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["lone", "xdist"])
def test_a_plain_suite_does_not_notice_the_plugin(pytester, monkeypatch, tmp_path, workers):
    suite = pytester.mkdir("suite")
    (suite / "test_plain.py").write_text(PLAIN_SUITE)
    (suite / "lying_around.usacloud").write_text("usacloud zone list\n")  # not asked for: not collected
    temp = tmp_path / "temp"
    temp.mkdir()
    before = sorted(p.name for p in suite.iterdir())
    with_plugin = _plain_run(pytester, monkeypatch, temp, "suite", *workers)
    without = _plain_run(pytester, monkeypatch, temp, "suite", *workers, plugin=False)
    with_plugin.assert_outcomes(passed=1, failed=1)
    assert with_plugin.ret == without.ret == pytest.ExitCode.TESTS_FAILED
    if not workers:  # xdist's own lines list workers in the order they answer
        assert _normalised(with_plugin.stdout.str()) == _normalised(without.stdout.str())
    assert "usacloud" not in with_plugin.stdout.str()
    assert list(temp.iterdir()) == []  # no run directory, not even an empty one
    assert sorted(p.name for p in suite.iterdir()) == before


def test_anywhere_stays_inert_when_no_script_is_collected(pytester, monkeypatch, tmp_path):
    pytester.makepyfile(test_plain=PLAIN_SUITE)
    pytester.makeini("[pytest]\nusacloud_collect = anywhere\n")
    temp = tmp_path / "temp"
    temp.mkdir()
    result = _plain_run(pytester, monkeypatch, temp)
    result.assert_outcomes(passed=1, failed=1)
    assert list(temp.iterdir()) == []


def test_scripts_are_collected_only_under_script_paths_or_when_named(e2e):
    e2e.pytester.makepyfile(test_plain="def test_ok():\n    pass\n")
    top = e2e.pytester.makefile(".usacloud", top="usacloud zone list\n")
    e2e.script("inner.usacloud", "usacloud region list\n")
    # a plain `pytest` in a repository that keeps scripts: only the Python test
    e2e.run(str(e2e.pytester.path), scripts=False).assert_outcomes(passed=1)
    assert e2e.argvs() == []
    # a script named on the command line, as a path or a node id
    e2e.run(str(e2e.pytester.path / "test_plain.py"), str(top), scripts=False).assert_outcomes(passed=2)
    assert e2e.argvs() == [["zone", "list"]]
    e2e.run(f"{top}::top", scripts=False).assert_outcomes(passed=1)
    # under a configured script path (and the positional directory's other scripts stay out)
    result = e2e.run(str(e2e.pytester.path / "test_plain.py"), f"--usacloud-scripts={e2e.dir}", scripts=False)
    result.assert_outcomes(passed=2)
    assert e2e.argvs()[-1] == ["region", "list"]


def test_collect_anywhere_is_explicit_in_ini(e2e):
    e2e.pytester.makepyfile(test_plain="def test_ok():\n    pass\n")
    e2e.pytester.makefile(".usacloud", found="usacloud zone list\n")
    e2e.pytester.makefile(".sh", other="usacloud region list\n")
    e2e.pytester.makeini("[pytest]\nusacloud_collect = anywhere\n")
    e2e.run(str(e2e.pytester.path), scripts=False).assert_outcomes(passed=2)
    e2e.pytester.makeini("[pytest]\nusacloud_collect = anywhere\nusacloud_script_glob = *.sh\n")
    e2e.run(str(e2e.pytester.path), "-q", scripts=False, workers=2).assert_outcomes(passed=2)
    assert sorted(a[0] for a in e2e.argvs()) == ["region", "zone"]
    bad = e2e.usage_error("--usacloud-collect=everywhere", scripts=False)
    assert "--usacloud-collect: invalid choice: 'everywhere'" in bad.stderr.str()


def test_the_scope_is_decided_on_the_path_as_given_and_with_links_resolved(tmp_path):
    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    (tmp_path / "realm").mkdir()
    (tmp_path / "link").symlink_to(real)
    (real / "elsewhere.usacloud").symlink_to(tmp_path / "realm" / "x.usacloud")
    scope = Scope("*.usacloud", False, [real], [tmp_path / "link" / "named.usacloud"])
    assert scope.wants(real / "a.usacloud") and scope.wants(real / "sub" / "b.usacloud")
    assert scope.wants(tmp_path / "link" / "sub" / "b.usacloud")  # under the root once resolved
    assert scope.wants(real / "named.usacloud")  # named through the link
    assert scope.wants(real / "elsewhere.usacloud")  # as given, under the root (it points out of it)
    assert not scope.wants(tmp_path / "realm" / "x.usacloud")  # a prefix of the name is not the directory
    assert not scope.wants(real / "a.sh")
    linked_root = Scope("*.usacloud", False, [tmp_path / "link"], [])
    assert linked_root.wants(real / "a.usacloud") and linked_root.wants(tmp_path / "link" / "a.usacloud")
    assert Scope("*.usacloud", False, ["/"], []).wants(tmp_path / "realm" / "x.usacloud")
