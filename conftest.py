"""The checkout's root conftest: deliberately empty of plugins and hooks.

pytest loads it in any run that collects under this checkout, also one started elsewhere that only
points into it (``pytest --usacloud-scripts=/path/to/checkout/examples``), where a root conftest's
``pytest_plugins`` is refused. Its presence puts the checkout first on ``sys.path`` (pytest's
default import mode), so the suite tests this tree's package. The suite's fixtures live in
``tests/conftest.py``; pytester is enabled by ``addopts`` in pyproject.toml.
"""
