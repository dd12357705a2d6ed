"""ForgeAccess: the forge a run reads (commit statuses for the gates, the merged pull request) and comments on.

Settings come as for publishing (flags, `forge:` in .promoter.yaml, CI variables, the token);
the forge client is imported and connected only when something asks. When no forge can be
reached (no token, no repository), whoever asks gets the reason: the healthy gate turns it into
a blocking finding, `promote --next` falls back to reading the merge from Git.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from promoter.config.model import Config
from promoter.gates.statuses import CommitCheck
from promoter.model.errors import UsageError
from promoter.publish.flags import PrFlags

if TYPE_CHECKING:
    from promoter.publish.forge.base import Forge
    from promoter.publish.forge.settings import ForgeSettings


class ForgeAccess:
    def __init__(
        self,
        config: Config,
        pr: PrFlags | None = None,
        environ: Mapping[str, str] | None = None,
        checkout: Path | None = None,
    ) -> None:
        from promoter.history.git import origin_url
        from promoter.publish.forge.settings import resolve_settings

        pr = pr or PrFlags()
        self._forge: Forge | None = None
        self.settings: ForgeSettings | None = None
        self.problem: str | None = None
        try:
            self.settings = resolve_settings(
                config.forge,
                os.environ if environ is None else environ,
                forge=pr.forge,
                url=pr.forge_url,
                repository=pr.forge_repo,
                base_branch=pr.base_branch,
                origin=origin_url(checkout) if checkout is not None and pr.forge_repo is None else None,
            )
        except UsageError as exc:
            self.problem = str(exc)

    @property
    def available(self) -> bool:
        return self.settings is not None

    @property
    def kind(self) -> str:
        return self.settings.type if self.settings is not None else "none"

    @property
    def base_branch(self) -> str | None:
        return self.settings.base_branch if self.settings is not None else None

    def forge(self) -> Forge:
        """The open forge; UsageError naming what is missing when there is none."""
        if self.settings is None:
            raise UsageError(self.problem or "no forge configured")
        if self._forge is None:
            from promoter.publish.forge import open_forge

            self._forge = open_forge(self.settings)
        return self._forge

    def redact(self, text: str) -> str:
        """`text` with the token (in any of its encodings) masked, for what promoter writes to the forge."""
        if self.settings is None:
            return text
        from promoter.publish.redact import Redactor

        return Redactor(self.settings.token)(text)

    # StatusReader, for the gates
    def commit_checks(self, sha: str) -> list[CommitCheck]:
        forge = self.forge()
        # Each read is its own forge work: forge.timeout_seconds bounds one poll of the healthy
        # gate, its own --wait timeout bounds the polling (hours of polls would pass any deadline).
        budget = getattr(forge, "budget", None)
        if budget is not None:
            budget.renew()
        return forge.commit_checks(sha)

    def close(self) -> None:
        if self._forge is not None:
            self._forge.close()
            self._forge = None

    def __enter__(self) -> ForgeAccess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
