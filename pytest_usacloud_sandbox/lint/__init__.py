"""``usacloud-lint``: the dry-run's offline check of scripts without pytest (:mod:`.check` for one
script, :mod:`.cli` for the command). Nothing here imports pytest or xdist."""
