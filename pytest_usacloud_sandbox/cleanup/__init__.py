"""Cleanup: what a run creates carries the run's tag, is removed at the end, and is all its deletes touch.

* :mod:`.runid`: the run's id, its tag (``usacloud-run=YYMMDDhhmmss-xxxxxx``) and per-script ids;
* :mod:`.resources`: which resources take tags, how each is deleted and in which order;
* :mod:`.tagging`: a create's words with the run's tag added (flags or ``--parameters`` JSON);
* :mod:`.printed`: IDs and listings read from usacloud's output;
* :mod:`.ownership`: a destructive command's targets resolved to IDs this run created;
* :mod:`.hooks`: what the Engine calls around each command (mark, guard, note what was made);
* :mod:`.plan` and :mod:`.teardown`: what to delete, in dependency order, and running it;
* :mod:`.sweep`: removing what earlier runs left (``--usacloud-sweep``);
* :mod:`.results` and :mod:`.session`: the summary, the report section and the pytest wiring.
"""
