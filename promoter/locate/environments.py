"""Environments: folder and file names that say which environment they hold, and their promotion order.

`promoter init` reads a repository nobody configured: `overlays/dev`, `envs/prod-eu`,
`values-staging.yaml`. A name is an environment when its first word is one of the words below;
the word's stage gives the promotion order (dev before test before stage before prod), and
spellings of one stage (`prod`, `production`) are one environment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

# Stage → the words that name it, most common spelling first.
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("dev", ("dev", "development", "develop", "devel", "sandbox", "local")),
    ("test", ("test", "testing", "tst", "int", "integration")),
    ("qa", ("qa", "uat", "acceptance", "acc", "load", "perf", "performance")),
    ("stage", ("stage", "staging", "stg", "preprod", "pre-prod", "preproduction")),
    ("prod", ("prod", "production", "prd", "live")),
)
_WORDS = {w: (rank, stage) for rank, (stage, words) in enumerate(STAGES) for w in words}
# Words that are one environment spelled differently (prod and production): their stage's name.
_SAME = {w: stage for stage, words in STAGES for w in words if stage in ("dev", "stage", "prod")}
_SPLIT = re.compile(r"[-_.]")
# Environment values files: values-prod.yaml, values.prod.yaml, prod-values.yaml, prod.values.yaml.
_VALUES_FILE = re.compile(r"^(?:values[-_.](?P<a>.+)|(?P<b>.+?)[-_.]values)\.ya?ml$")


@dataclass(frozen=True)
class EnvName:
    """A name that says which environment it is: `prod-eu` has stage prod, rank 4, variant `eu`."""

    name: str
    rank: int
    stage: str

    @property
    def key(self) -> str:
        """Names that are one environment share a key: `prod` and `production`, not `prod` and `prod-eu`."""
        low = self.name.lower()
        head, sep, rest = low.partition("-")
        if head == "pre":  # pre-prod: one word with a dash
            head, sep, rest = low, "", ""
        canon = _SAME.get(head, head)
        return f"{canon}-{rest}" if sep else canon


def env_name(word: str) -> EnvName | None:
    """`word` as an environment name, or None when it does not start with a word that names one."""
    low = word.lower()
    if low in _WORDS:
        rank, stage = _WORDS[low]
        return EnvName(word, rank, stage)
    first = _SPLIT.split(low, 1)[0]
    if first == "pre" and low[4:].split("-")[0] in ("prod", "production"):
        return EnvName(word, _WORDS["preprod"][0], "stage")
    if first in _WORDS:
        rank, stage = _WORDS[first]
        return EnvName(word, rank, stage)
    return None


@dataclass(frozen=True)
class EnvPlace:
    """Where a path says its environment is: `location` is the folder named for it, or the file itself."""

    env: EnvName
    location: str
    by_file: bool  # the file's own name says it (values-prod.yaml), not a folder


def env_of_path(rel: str) -> EnvPlace | None:
    """The environment a repository-relative file path is for: the deepest folder named for one, or
    the file's name itself (`values-prod.yaml`); None when nothing in the path names one."""
    parts = PurePosixPath(rel).parts
    m = _VALUES_FILE.match(parts[-1])
    if m:
        named = env_name(m.group("a") or m.group("b") or "")
        if named is not None:
            return EnvPlace(named, rel, True)
    for i in range(len(parts) - 2, -1, -1):
        named = env_name(parts[i])
        if named is not None:
            return EnvPlace(named, "/".join(parts[: i + 1]), False)
    return None


def promotion_order(names: list[EnvName]) -> list[EnvName]:
    """Environments from where builds land to production: by stage, then by name within a stage."""
    return sorted(names, key=lambda e: (e.rank, e.name))
