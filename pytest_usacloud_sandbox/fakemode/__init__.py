"""Fake mode (``--usacloud-fake``): the run touches nothing real although usacloud's fake driver
does not fake everything.

What the driver lacks, and where each gap is closed: commands it does not fake (``rest``, FTP,
web accelerator, billing) are refused by the policy (:mod:`..usacloud.policy`); every child gets
dummy credentials (:mod:`.credentials`); one store per script, copied from a store seeded once per
run (:mod:`.stores`); a changing command that hangs after its work is judged by what it left
(:mod:`.evidence`).
"""
