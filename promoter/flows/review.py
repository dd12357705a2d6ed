"""Review: what a promotion branch, as it is, renders to and how it checks, for its pull request's description.

Called by the publisher after it wrote the branch, with every file the branch changes against
its merge base (promoter's commits, a reviewer's fix, the other apps of a train): the same
render, validation and policies as `promoter check`, and each app's gates, so the description
tells what the branch holds, not what this run planned.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from promoter.config.model import Config
from promoter.flows.preview import Texts, preview_texts
from promoter.gates.statuses import StatusReader
from promoter.model.errors import PromoterError
from promoter.model.finding import CheckResult, Finding, Location, Severity, Status, Subject
from promoter.model.image import ImageRef
from promoter.publish.description import BranchReview
from promoter.publish.masking import Masker, MaskRules
from promoter.publish.publisher import BranchFile
from promoter.publish.pullrequest import PromotedApp

_YAML = (".yaml", ".yml")


def review_branch(
    repo: Path,
    config: Config,
    env: str,
    files: list[BranchFile],
    apps: list[PromotedApp],
    *,
    gates: dict[str, CheckResult],
    override_freeze: str | None = None,
    now: datetime | None = None,
    rules: MaskRules | None = None,
    statuses: StatusReader | None = None,
) -> BranchReview:
    """Render and check the branch's files; `gates` holds the results already judged, by app."""
    masker = Masker(rules)
    texts: Texts = {f.path: (f.old_text, f.new_text) for f in files if not f.binary}
    for f in files:
        if f.binary:
            continue  # the checkout's copy stands in for it: a binary file renders as it is there
        if f.previous_path and f.previous_path not in texts:
            texts[f.previous_path] = (f.old_text, None)  # a rename removes the old path
    seen = preview_texts(repo, config, texts, env, masker=masker)
    checks = CheckResult()
    for a in apps:
        checks.extend(gates[a.app] if a.app in gates else _gates(repo, config, env, a, override_freeze, now, statuses))
    checks.extend(seen.checks)
    unrendered = []
    names = [ImageRef.parse(a.image).name for a in apps if _parses(a.image)]
    for path in seen.unread:
        if not path.endswith(_YAML):
            continue
        after = texts.get(path, (None, None))[1]
        carries = after is not None and any(n in after for n in names)
        why = "no kustomize overlay, Helm chart or manifest folder in this repository reads it"
        unrendered.append(f"{path}: {why}")
        if carries:
            # The promotion's own edit was not rendered: nothing says what it does. Fail closed.
            checks.findings.append(
                Finding(
                    "not-rendered",
                    Severity.ERROR,
                    f"{path} pins an image this promotion changes, but {why}: what it deploys was not rendered "
                    "or validated",
                    Location(path),
                    source="render",
                    help="add the chart or overlay that reads it to the repository, or declare the app's chart in "
                    ".promoter.yaml (apps.APP.chart)",
                )
            )
    return BranchReview(
        rendered_diff=seen.diff,
        checks=checks,
        unrendered=unrendered,
        objects=seen.kinds,
        masked=masker.values,
    )


def _parses(image: str) -> bool:
    try:
        ImageRef.parse(image)
    except PromoterError:
        return False
    return True


def _gates(
    repo: Path,
    config: Config,
    env: str,
    app: PromotedApp,
    override_freeze: str | None,
    now: datetime | None,
    statuses: StatusReader | None,
) -> CheckResult:
    """Another train app's gates, judged now on the local history; a gate that cannot run says so."""
    from promoter.gates.engine import evaluate_gates

    try:
        return evaluate_gates(
            repo,
            config,
            app.app,
            env,
            ImageRef.parse(app.image),
            now=now,
            override_freeze=override_freeze,
            rollback=app.rollback,
            statuses=statuses,
        )
    except PromoterError as exc:
        result = CheckResult()
        subject = f"gate/*/{app.app}/{env}"
        result.subjects.append(Subject(subject, "gate", target=env, status=Status.ERROR, reason=str(exc)))
        result.findings.append(
            Finding(
                "gate-error",
                Severity.ERROR,
                f"the gates of {app.app} in {env} could not be evaluated: {exc}",
                source="gate",
                subject=subject,
                target=env,
            )
        )
        return result
