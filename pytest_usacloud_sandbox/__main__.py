"""``python -m pytest_usacloud_sandbox``: the same as ``usacloud-lint``."""

import sys

from .lint.cli import main

sys.exit(main())
