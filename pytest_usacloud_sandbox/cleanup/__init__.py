"""Cleanup: what a run creates carries the run's tag, is removed at the end, and is all its deletes touch.

:mod:`.runid` (the run's id and tags), :mod:`.resources` (which kinds take tags, how each is deleted,
in which order), :mod:`.tagging` (a create's tag), :mod:`.printed` (IDs read from usacloud's output),
:mod:`.ownership` (a changing command's targets), :mod:`.hooks` (what the Engine calls around each
command), :mod:`.plan` and :mod:`.teardown` (the end-of-run deletes), :mod:`.sweep` (earlier runs'
leftovers), :mod:`.session` (the pytest wiring and summary); the records are :mod:`..record.cleanup`.
"""
