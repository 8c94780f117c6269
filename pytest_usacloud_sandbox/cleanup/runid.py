"""The run's id and the tags made from it.

A run id is the run's start (UTC, to the second) and six random hex digits: ``261207093000-3fa9c1``.
Its tag, ``usacloud-run=261207093000-3fa9c1``, is 32 characters, the most usacloud allows a tag
(the facts: at most 10 tags of at most 32 characters). The time in it is what the sweep reads to
tell an earlier run's leftovers by age. A script's id adds a digest of its node id; under
``--usacloud-cleanup=script`` its resources also get the script's tag, so that one script's
teardown lists only what that script made (two ``--tags`` are ANDed).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

TAG_PREFIX = "usacloud-run="
SCRIPT_TAG_PREFIX = "usacloud-script="
MAX_TAG_CHARS = 32
MAX_TAGS = 10
_TIME_FORMAT = "%y%m%d%H%M%S"
_RUN_ID = re.compile(r"(\d{12})-[0-9a-f]{6}")

RUN_ID_ENV = "USACLOUD_SANDBOX_RUN_ID"
SCRIPT_ID_ENV = "USACLOUD_SANDBOX_SCRIPT_ID"
RUN_TAG_ENV = "USACLOUD_SANDBOX_RUN_TAG"


@dataclass(frozen=True)
class RunId:
    value: str  # "261207093000-3fa9c1"

    @classmethod
    def new(cls, now: datetime | None = None) -> RunId:
        now = now or datetime.now(UTC)
        return cls(f"{now.astimezone(UTC).strftime(_TIME_FORMAT)}-{secrets.token_hex(3)}")

    @property
    def tag(self) -> str:
        return TAG_PREFIX + self.value

    def script_id(self, nodeid: str) -> str:
        return f"{self.value}-{_digest(nodeid, 6)}"

    def script_tag(self, nodeid: str) -> str:
        return SCRIPT_TAG_PREFIX + _digest(nodeid, 8)

    def env(self, nodeid: str) -> dict[str, str]:
        """What a shell-mode script finds in its environment (``--name "web-$USACLOUD_SANDBOX_RUN_ID"``)."""
        return {RUN_ID_ENV: self.value, SCRIPT_ID_ENV: self.script_id(nodeid), RUN_TAG_ENV: self.tag}


#: The run id a check outside any run shows in a create's words (usacloud-lint): the tag's place and length.
PLACEHOLDER = RunId("YYMMDDhhmmss-xxxxxx")


def tag_time(tag: str) -> datetime | None:
    """When the run that wrote ``tag`` started, if ``tag`` is a run tag of this plugin; else None."""
    if not tag.startswith(TAG_PREFIX):
        return None
    match = _RUN_ID.fullmatch(tag[len(TAG_PREFIX) :])
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1), _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _digest(text: str, chars: int) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:chars]
