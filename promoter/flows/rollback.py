"""Rollback: return an app in one environment to an earlier image; a bump the no-downgrade gate lets through."""

from __future__ import annotations

from pathlib import Path

from promoter.config.model import Config
from promoter.flows import bump
from promoter.model.image import try_parse
from promoter.publish.flags import PrFlags


def rollback(
    repo: Path,
    config: Config,
    app: str,
    env: str,
    to: str,
    *,
    override_freeze: str | None,
    dry_run: bool,
    pr: PrFlags,
) -> bump.BumpResult:
    """Set `app` in `env` back to `to`; every gate but no-downgrade still applies (that one records it)."""
    image = config.app(app).image
    config.env(env)
    ref = bump.resolve_image(_full(to, image), None)
    return bump.run(
        repo,
        config,
        ref,
        app=app,
        env=env,
        paths=[],
        override_freeze=override_freeze,
        dry_run=dry_run,
        pr=pr,
        rollback=True,
    )


def _full(to: str, image: str) -> str:
    """`1.4.1@sha256:…` or `@sha256:…` name the app's own repository; a full reference stays as it is."""
    if to.startswith("@"):
        return image + to
    ref = try_parse(to)
    if ref is not None and "/" in to:
        return to  # a full reference; bump says so if it is another app's image
    if ref is not None and (ref.tag or ref.digest) and ref.same_repository(image):
        return to
    return f"{image}:{to}"
