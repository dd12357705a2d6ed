"""The description a reviewer reads: one section a function, composed from what the branch holds, within the forge's limit.

Every section reads one `Description` (computed beforehand from the branch against its merge
base) and returns a `Part`: fixed text, or text that can be re-made within a smaller budget.
Adding a section is adding a function to `SECTIONS`. The summary, verdict, gates, provenance
and rollback command are never shortened; the diffs and findings give way first, each saying so.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from promoter.model.finding import CheckResult, Finding, Severity, Status, Subject
from promoter.publish.forge.base import STATUS_CONTEXT, BranchCommit, TextLimit, WebLinks
from promoter.publish.pullrequest import PromotedApp, Provenance, render_marker, short_digest
from promoter.report.markdown import escape

_INLINE_DIFF_LINES = 60  # longer diffs are collapsed in <details>
_INLINE_RENDERED_LINES = 40
_INLINE_FINDINGS = 10
_FOLDERS_SHOWN = 40
_ICON = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}
WORDS = {"github": ("pull request", "#"), "gitlab": ("merge request", "!")}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass
class BranchReview:
    """What the branch, as it is, renders to and how that checks: computed by the caller (flows)."""

    rendered_diff: str = ""  # masked already
    checks: CheckResult | None = None
    unrendered: list[str] = field(default_factory=list)  # "path: why", one line each
    objects: dict[str, int] = field(default_factory=dict)  # changed rendered objects by kind
    masked: set[str] = field(default_factory=set)  # secret values hidden in the rendered objects


@dataclass
class FileStat:
    path: str
    status: str  # added | modified | removed | renamed
    added: int = 0
    removed: int = 0


@dataclass(frozen=True)
class HistoryEntry:
    """One image an environment ran, for the history a rollback chose from."""

    label: str
    image: str
    commit: str | None
    since: datetime | None
    chosen: bool = False
    current: bool = False


@dataclass(frozen=True)
class LeftOut:
    """An app a release train did not carry, and why: the blocking gates' messages and their ways forward."""

    app: str
    image: str
    reasons: tuple[str, ...]
    help: tuple[str, ...] = ()


@dataclass
class Description:
    env: str
    apps: list[PromotedApp]
    head: str | None
    base_branch: str = "main"
    merge_base: str | None = None
    forge: str = "github"
    files: list[FileStat] = field(default_factory=list)
    file_diff: str = ""  # masked already
    review: BranchReview = field(default_factory=BranchReview)
    others: list[BranchCommit] = field(default_factory=list)  # commits on the branch promoter did not make
    links: WebLinks | None = None
    rerun: list[str] = field(default_factory=list)  # forge flags a pasted command needs
    history: list[HistoryEntry] = field(default_factory=list)
    pure: bool = True
    draft_by_promoter: bool = False
    limit: TextLimit = field(default_factory=lambda: TextLimit(65_536, "bytes", 1_536))
    compare_truncated: bool = False
    left_out: list[LeftOut] = field(default_factory=list)  # apps of a release train its gates kept out

    @property
    def pull(self) -> str:
        return WORDS.get(self.forge, WORDS["github"])[0]

    @property
    def checks(self) -> CheckResult | None:
        return self.review.checks

    @property
    def rollback(self) -> bool:
        return any(a.rollback for a in self.apps)


@dataclass
class Part:
    text: str
    shrink: Callable[[int], str] | None = None  # the same section within a budget, in the limit's unit


Section = Callable[[Description], "Part | None"]


# ---- small helpers ---------------------------------------------------------------------------
def code(text: str, *, cell: bool = True) -> str:
    """Inline code that survives any backticks inside it; in a table cell, pipes are escaped too (GFM)."""
    text = _CONTROL.sub("", text.replace("\r", " ").replace("\n", " "))
    if cell:
        text = text.replace("|", "\\|")
    ticks = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (ticks + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def link(text: str, url: str | None) -> str:
    if not url:
        return text
    return f"[{text}]({url.replace(' ', '%20').replace(')', '%29')})"


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    return "`" * max(3, longest + 1)


def _label(image: str | None) -> str:
    """`1.4.2@sha256:3f2a9c1d5be4`: a short name of a full image reference."""
    if not image:
        return "unknown"
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    out = tag + (f"@{short_digest(digest)}" if digest else "")
    return out or name


def _clip(text: str, budget: int, size: Callable[[str], int]) -> tuple[str, int]:
    """Whole lines of `text` within `budget`, and how many lines were cut."""
    if size(text) <= budget:
        return text, 0
    kept: list[str] = []
    used = 0
    lines = text.splitlines(keepends=True)
    for line in lines:
        n = size(line)
        if used + n > budget:
            break
        kept.append(line)
        used += n
    return "".join(kept), len(lines) - len(kept)


def _diff_block(
    title: str, summary: str, text: str, inline: int, budget: int | None, size: Callable[[str], int], empty: str
) -> str:
    if not text:
        return f"### {title}\n\n{empty}\n"
    overhead = 220 + size(title) + size(summary)
    body, cut = (text, 0) if budget is None else _clip(text, max(0, budget - overhead), size)
    if body and not body.endswith("\n"):
        body += "\n"
    fence = _fence(body)
    count = text.count("\n") + (0 if text.endswith("\n") else 1)
    note = f"\n… {cut} more lines not shown (description size limit): see the compare view\n" if cut else ""
    block = f"{fence}diff\n{body}{fence}\n{note}"
    if count > inline or cut:
        block = f"<details><summary>{summary} ({count} lines)</summary>\n\n{block}\n</details>\n"
    return f"### {title}\n\n{block}"


def _gate_rows(checks: CheckResult | None) -> list[tuple[str, str, str, str]]:
    """(gate, app, result, evidence) for every gate that ran."""
    if checks is None:
        return []
    rows = []
    by_subject: dict[str, list[Finding]] = {}
    for f in checks.findings:
        if f.source == "gate" and f.subject:
            by_subject.setdefault(f.subject, []).append(f)
    for s in checks.subjects:
        if s.kind != "gate":
            continue
        parts = s.id.split("/")
        gate, app = (parts[1], parts[2]) if len(parts) >= 4 else (s.id, "")
        found = by_subject.get(s.id, [])
        override = next((f for f in found if f.rule.endswith("-override")), None)
        blocking = [f for f in found if f.blocking]
        if s.status is Status.ERROR:
            result, evidence = "❌ not evaluated", s.reason or "no reason given"
        elif blocking:
            result, evidence = "❌ failed", "; ".join(f.message for f in blocking)
        elif override is not None:
            result, evidence = "⚠️ overridden", override.message
        else:
            result, evidence = "✅ passed", s.reason or "passed"
        rows.append((gate, app, result, evidence))
    return rows


def _overrides(checks: CheckResult | None) -> list[Finding]:
    if checks is None:
        return []
    return [f for f in checks.findings if f.source == "gate" and f.rule.endswith("-override")]


def _app_of(subject: str | None) -> str | None:
    parts = (subject or "").split("/")
    return parts[2] if len(parts) >= 4 and parts[0] == "gate" else None


def _unsettled_renders(checks: CheckResult | None) -> list[Subject]:
    if checks is None:
        return []
    return [s for s in checks.subjects if s.kind == "render" and s.status in (Status.SKIPPED, Status.ERROR)]


def _validation_findings(checks: CheckResult | None) -> list[Finding]:
    if checks is None:
        return []
    return [f for f in checks.ranked() if f.source != "gate"]


def _blocking(checks: CheckResult | None) -> list[Finding]:
    return [f for f in (checks.findings if checks else []) if f.blocking]


# ---- sections --------------------------------------------------------------------------------
def heading(d: Description) -> Part:
    names = ", ".join(a.app for a in d.apps)
    if d.rollback and len(d.apps) == 1:
        return Part(f"## Roll back {names} in {d.env}\n")
    return Part(f"## Promote {names} to {d.env}\n")


def verdict(d: Description) -> Part:
    checks = d.checks
    if checks is None:
        return Part("⚪ **No checks ran** for this description: nothing here says the change is valid.\n")
    blocking = _blocking(checks)
    new = [f for f in blocking if f.baseline == "new"]
    unsettled = _unsettled_renders(checks)
    if blocking:
        n = len(blocking)
        extra = f" ({len(new)} new)" if any(f.baseline for f in blocking) else ""
        return Part(
            f"❌ **Not ready to merge: {n} blocking error{'s' if n != 1 else ''}{extra}.** "
            f"This {d.pull} is a draft and the `{STATUS_CONTEXT}` status on its head is failing. Fix them "
            "(on this branch, or in a new build) and run promoter again: it turns both around.\n"
        )
    if unsettled or d.review.unrendered:
        n = len(unsettled) + len(d.review.unrendered)
        return Part(
            f"⚠️ **No blocking findings, but {n} change{'s were' if n != 1 else ' was'} not rendered**: "
            "what they produce was not validated (see *Rendered objects*). "
            f"`{STATUS_CONTEXT}`: success.\n"
        )
    return Part(f"✅ **Checks passed** for everything this branch renders. `{STATUS_CONTEXT}`: success.\n")


def overrides(d: Description) -> Part | None:
    found = _overrides(d.checks)
    if not found:
        return None
    blocks = []
    for f in found:
        app = _app_of(f.subject)
        who = next((a.provenance.actor for a in d.apps if a.app == app and a.provenance.actor), None)
        run = next((a.provenance.run_url for a in d.apps if a.app == app and a.provenance.run_url), None)
        reason = str(f.evidence.get("override_reason") or f.waiver_reason or "no reason given")
        gate = f.rule.removeprefix("gate-").removesuffix("-override")
        by = f"by **{escape(who)}**" if who else "by an unknown actor (no CI actor recorded)"
        blocks.append(
            f"> ⚠️ **{escape(gate.capitalize())} overridden** {by}{' in ' + link('this CI run', run) if run else ''}"
            f"{' for ' + escape(app) if app else ''}.\n>\n"
            f"> **Why:** {escape(reason)}\n>\n"
            f"> {escape(f.message)}\n>\n"
            "> Reviewers: approve only if you agree the promotion cannot wait.\n"
        )
    return Part("\n".join(blocks))


def other_commits(d: Description) -> Part | None:
    if not d.others:
        return None
    people = sorted({c.author or "unknown" for c in d.others})
    rows = [
        f"- {link(code(c.sha[:12]), d.links.commit(c.sha) if d.links else None)} "
        f"{escape(c.message.splitlines()[0] if c.message else '', newlines=' ')} ({escape(c.author or 'unknown')})"
        for c in d.others[:20]
    ]
    more = f"- … and {len(d.others) - 20} more\n" if len(d.others) > 20 else ""
    return Part(
        f"👥 **Others committed to this branch:** {escape(', '.join(people))}. promoter keeps their commits: it "
        f"adds its own on top and never resets this branch while they are on it.\n\n" + "\n".join(rows) + "\n" + more
    )


def images(d: Description) -> Part:
    rows = ["| App | From | To | Tag | Digest |", "| --- | --- | --- | --- | --- |"]
    for a in d.apps:
        digest = code(short_digest(a.digest) or "") if a.digest else "—"
        tag = code(a.tag) if a.tag else "—"
        rows.append(
            f"| {escape(a.app)} | {code(_label(a.previous))} | {code(_label(a.image))}"
            f"{' (rollback)' if a.rollback else ''} | {tag} | {digest} |"
        )
    full = ["<details><summary>Full image references</summary>", ""]
    for a in d.apps:
        full.append(f"- {escape(a.app)}: {code(a.previous or 'unknown')} → {code(a.image)}")
    full += ["", "</details>"]
    chains = []
    for a in d.apps:
        if a.chain:
            steps = " → ".join(code(_label(c)) for c in a.chain)
            chains.append(
                f"- {escape(a.app)}: {steps} → **{code(_label(a.image))}** (now). Approvals given to an earlier "
                "image do not cover this one."
            )
    text = "\n".join(rows) + "\n\n" + "\n".join(full) + "\n"
    if chains:
        text += f"\nImages this {d.pull} has carried:\n\n" + "\n".join(chains) + "\n"
    return Part(text)


def left_out(d: Description) -> Part | None:
    """Apps the train would have carried but a gate blocked: listed, never silently dropped."""
    if not d.left_out:
        return None
    rows = ["| App | Image | Blocked by | To proceed |", "| --- | --- | --- | --- |"]
    for x in d.left_out:
        why = "<br>".join(escape(r[:600]) for r in x.reasons) or "—"
        # A reviewer runs these from the repository's root: the CI runner's checkout path means nothing there.
        how = "<br>".join(escape(_RUNNER_REPO.sub("", h)[:400]) for h in x.help if h) or "—"
        rows.append(f"| {escape(x.app)} | {code(_label(x.image))} | {why} | {how} |")
    n = len(d.left_out)
    return Part(
        f"### Left out of this train ({n})\n\n"
        f"{'These apps run' if n != 1 else 'This app runs'} another image in the environment before "
        f"{code(d.env)}, but a gate blocks {'them' if n != 1 else 'it'}: {'they are' if n != 1 else 'it is'} not on "
        f"this branch. The next run of the train adds {'them' if n != 1 else 'it'} once the gates pass.\n\n"
        + "\n".join(rows)
        + "\n"
    )


_RUNNER_REPO = re.compile(r" --repo (?:'[^']*'|[^\s`]+)(?=[\s`]|$)")
_SAFE_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~%/+-]*)?$")
_REVISION = re.compile(r"^[0-9a-f]{7,64}$")
_PR_LABELS = 20
_PR_VALUE = 200


def _label_code(text: object) -> str:
    """Untrusted text (an image's labels) as an inline code span that cannot break out of a table cell."""
    # No backtick (would end the span), no bare pipe (would end the cell), no `<!--` (the marker's opening).
    value = " ".join(str(text).split()).replace("`", "'").replace("|", "\\|").replace("<!--", "< !--")
    if len(value) > _PR_VALUE:
        value = value[: _PR_VALUE - 1] + "…"
    return f"`{value}`" if value else "—"


def commit_url(source: str | None, revision: str | None) -> str | None:
    """The web page of `revision` in the `source` repository an image's labels name (GitHub, GitLab, Gitea)."""
    if not source or not revision or not _SAFE_URL.match(source) or not _REVISION.match(revision):
        return None
    base = source.rstrip("/").removesuffix(".git")
    return f"{base}/-/commit/{revision}" if "gitlab" in base.split("/")[2] else f"{base}/commit/{revision}"


def verified_images(d: Description) -> Part | None:
    """What the image_exists gate verified in the registry: digest, platforms, date, labels, source commit."""
    if d.checks is None:
        return None
    found = [
        (s.id, s.details["verified_image"])
        for s in d.checks.subjects
        if isinstance(s.details.get("verified_image"), dict)
    ]
    if not found:
        return None
    from promoter.registry.manifest import ImageFacts

    out = []
    for subject, data in found[:5]:
        app = _app_of(subject)
        provenance = next((a.provenance for a in d.apps if a.app == app), None)
        f = ImageFacts.from_dict(data)
        kind = "index" if "index" in f.media_type or "list" in f.media_type else "image manifest"
        rows = [
            "| | |",
            "|---|---|",
            f"| Digest | `{f.digest}` ({kind}, in {_label_code(f.registry)}) |",
        ]
        if f.tag:
            named = f"the index `{f.tag_digest}`, which holds this digest" if f.tag_digest else "this digest"
            rows.append(f"| Tag | {_label_code(f.tag)} names {named} |")
        rows.append(f"| Platforms | {', '.join(_label_code(p) for p in f.platforms) or 'none stated'} |")
        rows.append(f"| Created | {_label_code(f.created) if f.created else 'not stated'} |")
        if f.source:
            rows.append(f"| Source | {f.source if _SAFE_URL.match(f.source) else _label_code(f.source)} |")
        if f.revision:
            url = commit_url(f.source, f.revision)
            shown = f"[`{f.revision[:12]}`]({url})" if url else _label_code(f.revision)
            if provenance and provenance.commit and f.revision != provenance.commit:
                shown += f" (this promotion ran for commit {_label_code(provenance.commit)}: not the same)"
            elif provenance and provenance.commit:
                shown += " (the commit this promotion ran for)"
            rows.append(f"| Revision | {shown} |")
        title = "### Image verified in the registry" + (f" ({escape(app)})" if app and len(d.apps) > 1 else "")
        section = title + "\n\n" + "\n".join(rows) + "\n"
        labels = sorted({**f.annotations, **f.labels}.items())
        if labels:
            table = ["| Label or annotation | Value |", "|---|---|"]
            table += [f"| {_label_code(k)} | {_label_code(v)} |" for k, v in labels[:_PR_LABELS]]
            more = f"\n… {len(labels) - _PR_LABELS} more not shown\n" if len(labels) > _PR_LABELS else ""
            section += (
                f"\n<details><summary>Labels and annotations ({len(labels)})</summary>\n\n"
                + "\n".join(table)
                + "\n"
                + more
                + "\n</details>\n"
            )
        out.append(section)
    return Part("\n".join(out))


def summary(d: Description) -> Part:
    added = sum(f.added for f in d.files)
    removed = sum(f.removed for f in d.files)
    n = len(d.files)
    lines = ["### Summary", ""]
    # A forge that listed only part of the branch's files: the count is a floor, and says so.
    least = "at least " if d.compare_truncated else ""
    line = f"**{least}{n} file{'s' if n != 1 else ''}** changed ({least}+{added} −{removed})"
    objects = sum(d.review.objects.values())
    if d.review.objects:
        kinds = ", ".join(
            f"{c} {escape(k)}" for k, c in sorted(d.review.objects.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        line += f" · **{objects} rendered object{'s' if objects != 1 else ''}** changed: {kinds}"
    elif d.checks is not None:
        line += " · no rendered object changes"
    lines.append(line)
    refs = []
    if d.links and d.head:
        if d.merge_base:
            refs.append(link("compare view", d.links.compare(d.merge_base, d.head)))
        refs.append(f"head {link(code(d.head[:12]), d.links.commit(d.head))}")
    elif d.head:
        refs.append(f"head {code(d.head[:12])}")
    if d.merge_base:
        base = code(d.merge_base[:12])
        refs.append(f"base {code(d.base_branch)} at {link(base, d.links.commit(d.merge_base) if d.links else None)}")
    if refs:
        lines += ["", " · ".join(refs)]
    if d.compare_truncated:
        lines += ["", "> The forge listed only part of this branch's changes; open the compare view for all of them."]
    if n > 10:
        folders: dict[str, list[int]] = {}
        for f in d.files:
            folder = f.path.rsplit("/", 1)[0] if "/" in f.path else "."
            acc = folders.setdefault(folder, [0, 0, 0])
            acc[0] += 1
            acc[1] += f.added
            acc[2] += f.removed
        shown = sorted(folders.items(), key=lambda kv: (-kv[1][0], kv[0]))
        rows = ["| Folder | Files | + | − |", "| --- | ---: | ---: | ---: |"]
        rows += [f"| {code(k)} | {v[0]} | {v[1]} | {v[2]} |" for k, v in shown[:_FOLDERS_SHOWN]]
        if len(shown) > _FOLDERS_SHOWN:
            rest = shown[_FOLDERS_SHOWN:]
            rows.append(f"| … {len(rest)} more folders | {sum(v[0] for _, v in rest)} | | |")
        lines += [
            "",
            f"<details><summary>Files by folder ({len(folders)} folders)</summary>",
            "",
            *rows,
            "",
            "</details>",
        ]
    elif d.files:
        lines += [""] + [
            f"- {code(f.path)} ({f.status}, +{f.added} −{f.removed})" for f in sorted(d.files, key=lambda f: f.path)
        ]
    return Part("\n".join(lines) + "\n")


def gates(d: Description) -> Part | None:
    if d.checks is None:
        return None
    rows = _gate_rows(d.checks)
    if not rows:
        return Part(f"### Gates\n\nNo promotion gates are configured for {code(d.env)}.\n")
    table = ["| Gate | App | Result | Evidence |", "| --- | --- | --- | --- |"]
    table += [f"| {escape(g)} | {escape(a)} | {r} | {escape(e)} |" for g, a, r, e in rows]
    return Part("### Gates\n\n" + "\n".join(table) + "\n")


def checks(d: Description) -> Part | None:
    if d.checks is None:
        return None
    findings = _validation_findings(d.checks)
    subjects = [s for s in d.checks.subjects if s.kind != "gate"]
    resources = sum(1 for s in subjects if s.kind == "resource")
    renders = [s for s in subjects if s.kind == "render"]
    head = [
        "### Validation and policies",
        "",
        f"Checked {resources} rendered object{'s' if resources != 1 else ''}"
        + (f" from {len(renders)} render{'s' if len(renders) != 1 else ''}" if renders else "")
        + f" at the head of this {d.pull}.",
    ]
    if not findings:
        return Part("\n".join(head) + " No findings.\n")
    baseline = any(f.baseline for f in findings)
    fresh = [f for f in findings if f.baseline != "existing"]
    existing = [f for f in findings if f.baseline == "existing"]
    counts: dict[str, int] = {}
    for f in findings:
        key = "waived" if f.waived else f.severity.value
        counts[key] = counts.get(key, 0) + 1
    tally = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    if baseline:
        tally += f" · {len(fresh)} new, {len(existing)} already on {code(d.base_branch)}"
    head += ["", tally]

    def row(f: Finding) -> str:
        where = "—"
        if f.location is not None:
            text = f"{f.location.file}:{f.location.line}" if f.location.line else f.location.file
            url = d.links.file(d.head, f.location.file, f.location.line) if d.links and d.head else None
            where = link(code(text), url)
        elif f.target:
            where = code(f.target)
        sev = "💤 waived" if f.waived else f"{_ICON[f.severity]} {f.severity.value}"
        cells = [sev, code(f.rule), where, escape(f.message[:1000])]
        if baseline:
            cells.append(f.baseline or "—")
        return "| " + " | ".join(cells) + " |"

    header = "| Severity | Rule | Where | Message |" + (" New? |" if baseline else "")
    rule = "| --- | --- | --- | --- |" + (" --- |" if baseline else "")

    def compose(limit: int | None) -> str:
        budget = len(findings) if limit is None else limit
        a, b = fresh[:budget], existing[: max(0, budget - len(fresh))]
        out = list(head)
        if a:
            table = [header, rule, *(row(f) for f in a)]
            if len(a) > _INLINE_FINDINGS:
                out += ["", f"<details><summary>Findings ({len(fresh)})</summary>", "", *table, "", "</details>"]
            else:
                out += ["", *table]
        if b:
            out += ["", f"<details><summary>Findings already on {escape(d.base_branch)} ({len(existing)})</summary>"]
            out += ["", header, rule, *(row(f) for f in b), "", "</details>"]
        hidden = len(findings) - len(a) - len(b)
        if hidden:
            out += ["", f"> … {hidden} more findings not shown (description size limit): run `promoter check` for all."]
        return "\n".join(out) + "\n"

    full = compose(None)

    def shrink(budget: int) -> str:
        size = d.limit.size
        lo, hi, best = 0, len(findings), compose(0)
        while lo <= hi:
            mid = (lo + hi) // 2
            text = compose(mid)
            if size(text) <= budget:
                best, lo = text, mid + 1
            else:
                hi = mid - 1
        return best

    return Part(full, shrink)


def rendered(d: Description) -> Part | None:
    if d.checks is None and not d.review.rendered_diff:
        return None
    notes = []
    for s in _unsettled_renders(d.checks):
        notes.append(f"- ⚠️ {code(s.target or s.id)} was **not rendered**: {escape(s.reason or 'no reason given')}")
    for line in d.review.unrendered:
        notes.append(f"- ⚠️ **not rendered**: {escape(line)}")
    prefix = ("\n".join(notes) + "\n\n") if notes else ""
    empty = "Nothing rendered differs between the base and this branch." if not notes else "No rendered diff."
    size = d.limit.size

    def make(budget: int | None) -> str:
        block = _diff_block(
            "Rendered objects",
            "Rendered diff (secret values hidden)",
            d.review.rendered_diff,
            _INLINE_RENDERED_LINES,
            budget,
            size,
            empty,
        )
        title, _, rest = block.partition("\n\n")
        return f"{title}\n\n{prefix}{rest}"

    return Part(make(None), lambda b: make(max(0, b - size(prefix))))


def file_changes(d: Description) -> Part:
    size = d.limit.size

    def make(budget: int | None) -> str:
        return _diff_block(
            "File changes",
            "File diff (secret values hidden)",
            d.file_diff,
            _INLINE_DIFF_LINES,
            budget,
            size,
            "This branch changes no files against its base.",
        )

    return Part(make(None), make)


def provenance(d: Description) -> Part:
    server = d.links.root.rsplit("/", 2)[0] if d.links else None
    rows = ["| App | Built from | Commit | CI run | Actor |", "| --- | --- | --- | --- | --- |"]
    any_known = False
    for a in d.apps:
        p: Provenance = a.provenance
        if p.empty:
            rows.append(f"| {escape(a.app)} | — | — | — | — |")
            continue
        any_known = True
        repo = link(escape(p.source_repo), p.repo_url(server)) if p.source_repo else "—"
        commit = link(code(p.commit[:12]), p.commit_url(server, d.forge)) if p.commit else "—"
        run = link("run", p.run_url) if p.run_url else "—"
        rows.append(f"| {escape(a.app)} | {repo} | {commit} | {run} | {escape(p.actor or '—')} |")
    note = "" if any_known else "\nNot run in CI (no GITHUB_* or CI_* variables) and no --source-* flags given.\n"
    return Part("### Provenance\n\n" + "\n".join(rows) + "\n" + note)


def rollback_command(app: str, env: str, previous: str | None, rerun: list[str] | None = None) -> str:
    target = shlex.quote(previous) if previous else "'<previous image>'"
    extra = " ".join(shlex.quote(x) for x in (rerun or []))
    return f"promoter rollback --app {shlex.quote(app)} --env {shlex.quote(env)} --image {target} --pr" + (
        f" {extra}" if extra else ""
    )


def _frozen(checks: CheckResult | None) -> bool:
    return any(f.rule in ("gate-freeze", "gate-freeze-override") for f in (checks.findings if checks else []))


def _freeze_configured(checks: CheckResult | None) -> bool:
    return any(s.kind == "gate" and s.id.startswith("gate/freeze/") for s in (checks.subjects if checks else []))


def rollback(d: Description) -> Part:
    frozen = _frozen(d.checks)
    lines = [
        "### Rollback",
        "",
        f"After this {d.pull} is merged, pasting this (in the GitOps checkout) opens a rollback {d.pull}:",
        "",
        "```sh",
    ]
    for a in d.apps:
        cmd = rollback_command(a.app, d.env, a.previous, d.rerun)
        if frozen:
            cmd += " --override-freeze '<why this cannot wait>'"
        lines.append(cmd)
    lines.append("```")
    if frozen:
        lines += ["", f"{code(d.env)} is frozen now: the command carries `--override-freeze`, recorded for reviewers."]
    elif _freeze_configured(d.checks):
        lines += [
            "",
            f"During a freeze window of {code(d.env)} add `--override-freeze '<reason>'` (recorded for reviewers).",
        ]
    if any(not a.previous for a in d.apps):
        lines += ["", "promoter could not tell what ran before for an app marked `<previous image>`: fill it in."]
    return Part("\n".join(lines) + "\n")


def history(d: Description) -> Part | None:
    if not d.history:
        return None
    rows = ["| Image | Since | Commit | |", "| --- | --- | --- | --- |"]
    for h in d.history:
        since = h.since.strftime("%Y-%m-%d %H:%M UTC") if h.since else "—"
        commit = link(code(h.commit[:12]), d.links.commit(h.commit) if d.links else None) if h.commit else "—"
        mark = "⬅️ rolling back to this" if h.chosen else ("running now" if h.current else "")
        rows.append(f"| {code(h.label)} | {since} | {commit} | {mark} |")
    return Part(f"### History of {code(d.env)} this rollback chose from\n\n" + "\n".join(rows) + "\n")


SECTIONS: list[Section] = [
    heading,
    verdict,
    overrides,
    other_commits,
    images,
    left_out,  # issue 17: a release train's blocked apps
    verified_images,  # issue 13: what the image_exists gate verified in the registry
    summary,
    gates,
    checks,
    rendered,
    file_changes,
    provenance,
    rollback,
    history,
]


def compose(d: Description, sections: list[Section] | None = None) -> str:
    """The description: every section, and the marker last; within `d.limit`, shortening what may shrink."""
    parts = [p for p in (s(d) for s in (sections or SECTIONS)) if p is not None]
    marker = render_marker(d.env, d.apps, d.head, pure=d.pure, draft_by_promoter=d.draft_by_promoter)
    size, cap = d.limit.size, d.limit.cap

    def assemble(texts: list[str], note: str = "") -> str:
        return "\n".join(texts) + note + "\n" + marker + "\n"

    texts = [p.text for p in parts]
    body = assemble(texts)
    if size(body) <= cap:
        return body
    note = (
        f"\n> **Note:** this description was shortened to stay under the forge's {d.limit.describe()} limit; "
        "the branch and the compare view hold the full change.\n"
    )
    movable = [i for i, p in enumerate(parts) if p.shrink is not None]
    fixed = size(assemble([t if parts[i].shrink is None else "" for i, t in enumerate(texts)], note))
    available = max(0, cap - fixed - 64 * len(movable))
    # Water-filling: small sections keep everything, the big ones share what is left.
    order = sorted(movable, key=lambda i: size(texts[i]))
    remaining = available
    for n, i in enumerate(order):
        share = remaining // (len(order) - n)
        if size(texts[i]) <= share:
            remaining -= size(texts[i])
        else:
            shrink = parts[i].shrink
            assert shrink is not None
            texts[i] = shrink(share)
            remaining -= min(share, size(texts[i]))
    body = assemble(texts, note)
    if size(body) > cap:  # the fixed parts alone are too long: cut whole lines before the marker
        suffix = note + "\n" + marker + "\n"
        closers = 64  # room for the fences and </details> a cut may leave open
        head, _ = _clip("\n".join(texts), max(0, cap - size(suffix) - closers), size)
        body = _close_open(head) + suffix
    return body


def _close_open(text: str) -> str:
    """`text` with a code fence or <details> left open by a cut closed again, so the rest still renders."""
    fence: str | None = None
    depth = 0
    for line in text.splitlines():
        m = re.match(r"^(`{3,})", line)
        if fence is None and m:
            fence = m.group(1)
        elif fence is not None and line.strip() == fence:
            fence = None
        elif fence is None:
            depth += line.count("<details>") - line.count("</details>")
    out = text if text.endswith("\n") or not text else text + "\n"
    if fence is not None:
        out += fence + "\n"
    return out + "\n</details>\n" * max(0, depth)
