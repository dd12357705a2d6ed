"""The promotion pull request's words: title, body, commit message and the hidden machine-readable marker."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from promoter.model.finding import CheckResult

MARKER_PREFIX = "<!-- promoter:"
_MARKER_RE = re.compile(r"<!-- promoter:(\{.*?\}) -->", re.DOTALL)
COMMIT_TRAILER = "Promoted-by: promoter"
GITHUB_BODY_LIMIT = 65_536
_INLINE_DIFF_LINES = 60  # longer diffs are collapsed in <details>
_INLINE_RENDERED_LINES = 40


@dataclass
class PromotedApp:
    """One app this pull request carries to the environment."""

    app: str
    image: str  # the reference being promoted, as given (registry/path[:tag][@digest])
    tag: str | None = None
    digest: str | None = None
    previous: str | None = None  # what the environment ran before: the rollback target

    def to_marker(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "image": self.image,
            "digest": self.digest,
            "tag": self.tag,
            "from": self.previous,
        }

    @classmethod
    def from_marker(cls, data: Mapping[str, Any]) -> PromotedApp:
        return cls(
            app=str(data.get("app", "")),
            image=str(data.get("image", "")),
            tag=data.get("tag"),
            digest=data.get("digest"),
            previous=data.get("from"),
        )

    def same_image(self, other: PromotedApp) -> bool:
        """Same app and same image content: the digest decides when there is one, else the tag."""
        if self.app != other.app:
            return False
        if self.digest or other.digest:
            return self.digest == other.digest and (self.tag or None) == (other.tag or None)
        return self.image == other.image


@dataclass
class Provenance:
    source_repo: str | None = None
    commit: str | None = None
    run_url: str | None = None
    actor: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Provenance:
        """From GitHub Actions (GITHUB_*) or GitLab CI (CI_*) variables; empty elsewhere."""
        if environ.get("GITHUB_ACTIONS") or environ.get("GITHUB_RUN_ID"):
            server = environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
            repo = environ.get("GITHUB_REPOSITORY")
            run = environ.get("GITHUB_RUN_ID")
            return cls(
                source_repo=repo,
                commit=environ.get("GITHUB_SHA"),
                run_url=f"{server}/{repo}/actions/runs/{run}" if repo and run else None,
                actor=environ.get("GITHUB_TRIGGERING_ACTOR") or environ.get("GITHUB_ACTOR"),
            )
        if environ.get("GITLAB_CI") or environ.get("CI_PIPELINE_URL"):
            return cls(
                source_repo=environ.get("CI_PROJECT_PATH"),
                commit=environ.get("CI_COMMIT_SHA"),
                run_url=environ.get("CI_JOB_URL") or environ.get("CI_PIPELINE_URL"),
                actor=environ.get("GITLAB_USER_LOGIN"),
            )
        return cls()

    def merged(self, **flags: str | None) -> Provenance:
        """Flags given on the command line win over what CI says."""
        return Provenance(
            **{k: flags.get(k) or getattr(self, k) for k in ("source_repo", "commit", "run_url", "actor")}
        )

    def to_dict(self) -> dict[str, str | None]:
        return {
            "source_repo": self.source_repo,
            "commit": self.commit,
            "run_url": self.run_url,
            "actor": self.actor,
        }


# ---- marker ---------------------------------------------------------------------------------
def render_marker(env: str, apps: list[PromotedApp], head: str | None) -> str:
    data: dict[str, Any] = {
        "v": 1,
        "env": env,
        "apps": [a.to_marker() for a in apps],
        "head": head,
    }
    if len(apps) == 1:
        data.update({k: v for k, v in apps[0].to_marker().items()})
    # "-->" would end the comment early; it cannot occur outside JSON strings, and inside one
    # the escaped form decodes to the same text.
    text = json.dumps(data, sort_keys=True, separators=(",", ":")).replace("-->", "--\\u003e")
    return f"{MARKER_PREFIX}{text} -->"


def parse_marker(body: str | None) -> dict[str, Any] | None:
    """The marker a promoter-opened PR carries, or None (not ours, or edited beyond recognition)."""
    if not body:
        return None
    found = _MARKER_RE.findall(body)
    for raw in reversed(found):  # the last one wins: the body ends with it
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("apps"), list):
            return data
    return None


def marker_apps(marker: Mapping[str, Any] | None) -> list[PromotedApp]:
    if not marker:
        return []
    return [PromotedApp.from_marker(a) for a in marker.get("apps", []) if isinstance(a, dict)]


# ---- title and commit message ------------------------------------------------------------
def title_digest(digest: str | None) -> str | None:
    if not digest:
        return None
    algo, _, hexpart = digest.partition(":")
    return f"{algo}:{hexpart[:6]}…"


def _version(app: PromotedApp) -> str:
    short = title_digest(app.digest)
    if app.tag and short:
        return f"{app.tag} ({short})"
    return app.tag or short or app.image


def pull_title(env: str, apps: list[PromotedApp]) -> str:
    if len(apps) == 1:
        return f"promote {apps[0].app} to {env}: {_version(apps[0])}"
    listed = ", ".join(
        f"{a.app} {a.tag or title_digest(a.digest) or ''}".strip() for a in sorted(apps, key=lambda a: a.app)
    )
    title = f"promote {len(apps)} apps to {env}: {listed}"
    return title if len(title) <= 200 else title[:199] + "…"


def commit_message(env: str, apps: list[PromotedApp]) -> str:
    lines = [pull_title(env, apps), ""]
    for a in apps:
        lines.append(f"{a.app}: {a.previous or '(unknown)'} -> {a.image}")
    lines += [
        "",
        COMMIT_TRAILER,
        f"Promoter-Target: {env}/{','.join(sorted(a.app for a in apps))}",
    ]
    return "\n".join(lines) + "\n"


def is_promoter_commit(message: str) -> bool:
    return COMMIT_TRAILER in message


# ---- body --------------------------------------------------------------------------------
def rollback_command(app: str, env: str, previous: str | None) -> str:
    return f"promoter rollback --app {app} --env {env} --to {previous or '<previous image>'}"


_SECRET_KEYS = re.compile(r"^(\s*)(data|stringData):\s*$")
_KIND = re.compile(r"^\s*kind:\s*['\"]?(\w+)")


def mask_secrets(diff: str) -> str:
    """Hide values under `data:`/`stringData:` of Secrets in a unified diff of rendered YAML.

    Objects are cut at `---` separators and hunk headers; keys come sorted in rendered output,
    so `data:` often precedes `kind:`: a segment whose kind is unknown is masked too.
    """
    lines = diff.splitlines(keepends=True)
    segments: list[list[int]] = [[]]
    for i, line in enumerate(lines):
        body = line[1:] if line[:1] in " +-" and not line.startswith(("---", "+++")) else line
        if line.startswith("@@") or body.strip() == "---":
            segments.append([])
            continue
        segments[-1].append(i)
    out = list(lines)
    for seg in segments:
        kinds = set()
        for i in seg:
            m = _KIND.match(lines[i][1:])
            if m:
                kinds.add(m.group(1))
        if kinds and "Secret" not in kinds:
            continue
        indent: int | None = None
        for i in seg:
            prefix, body = lines[i][:1], lines[i][1:]
            m = _SECRET_KEYS.match(body)
            if m:
                indent = len(m.group(1))
                continue
            if indent is None:
                continue
            stripped = body.lstrip(" ")
            depth = len(body) - len(stripped)
            if stripped.strip() == "":
                continue
            if depth <= indent:
                indent = None
                continue
            key, sep, value = stripped.partition(":")
            if sep and value.strip():
                end = "\n" if body.endswith("\n") else ""
                out[i] = f"{prefix}{' ' * depth}{key}: '***'{end}"
            elif not sep:
                out[i] = f"{prefix}{' ' * depth}'***'" + ("\n" if body.endswith("\n") else "")
    return "".join(out)


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    return "`" * max(3, longest + 1)


def _clip_lines(text: str, max_chars: int | None) -> tuple[str, int]:
    """Whole lines of `text` within max_chars, and how many lines were cut."""
    if max_chars is None or len(text) <= max_chars:
        return text, 0
    kept: list[str] = []
    used = 0
    lines = text.splitlines(keepends=True)
    for line in lines:
        if used + len(line) > max_chars:
            break
        kept.append(line)
        used += len(line)
    return "".join(kept), len(lines) - len(kept)


def _code_section(title: str, summary: str, text: str, inline_lines: int, max_chars: int | None) -> str:
    overhead = 200 + len(title) + len(summary)
    body, cut = _clip_lines(text, None if max_chars is None else max(0, max_chars - overhead))
    if body and not body.endswith("\n"):
        body += "\n"
    fence = _fence(body)
    note = f"… {cut} more lines not shown (description size limit); see the branch diff\n" if cut else ""
    block = f"{fence}diff\n{body}{note}{fence}\n"
    count = text.count("\n") + (0 if text.endswith("\n") else 1)
    if count > inline_lines or cut:
        block = f"<details><summary>{summary} ({count} lines)</summary>\n\n{block}\n</details>\n"
    return f"### {title}\n\n{block}"


def _checks_section(checks: CheckResult, max_chars: int | None) -> str:
    try:
        from promoter.report.markdown import markdown_summary
    except ImportError:
        markdown_summary = None  # type: ignore[assignment]
    if markdown_summary is not None:
        return markdown_summary(checks, title="Validation, policies and gates", max_chars=max_chars) + "\n"
    counts = checks.counts()
    lines = [
        "### Validation, policies and gates",
        "",
        f"{'❌ failed' if checks.failed else '✅ passed'}: {counts['error']} errors, {counts['warning']} warnings, {counts['waived']} waived",
        "",
        "| Severity | Rule | Message | Where |",
        "|---|---|---|---|",
    ]
    for f in checks.ranked():
        where = str(f.location) if f.location else (f.subject or "")
        message = f.message.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {'waived' if f.waived else f.severity.value} | `{f.rule}` | {message} | {where} |")
    text = "\n".join(lines) + "\n"
    clipped, cut = _clip_lines(text, max_chars)
    return clipped + (f"\n… {cut} more findings not shown\n" if cut else "")


def _table(env: str, apps: list[PromotedApp]) -> str:
    rows = ["| App | Environment | From → To | Tag | Digest |", "|---|---|---|---|---|"]
    for a in apps:
        algo, _, hexpart = (a.digest or "").partition(":")
        digest = f"`{algo}:{hexpart[:12]}`" if a.digest else "—"
        tag = f"`{a.tag}`" if a.tag else "—"
        rows.append(f"| {a.app} | {env} | `{a.previous or 'unknown'}` → `{a.image}` | {tag} | {digest} |")
    return "\n".join(rows) + "\n"


_SAFE_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~%/+-]*)?$")
_REVISION = re.compile(r"^[0-9a-f]{7,64}$")
_PR_LABELS = 20
_PR_VALUE = 200


def _code(text: object) -> str:
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


def _verified_images(checks: CheckResult | None, provenance: Provenance | None) -> str:
    """What the image_exists gate verified in the registry: digest, platforms, date, labels, source commit."""
    if checks is None:
        return ""
    from promoter.registry.manifest import ImageFacts

    found = [s.details["verified_image"] for s in checks.subjects if isinstance(s.details.get("verified_image"), dict)]
    out = []
    for data in found[:5]:
        f = ImageFacts.from_dict(data)
        kind = "index" if "index" in f.media_type or "list" in f.media_type else "image manifest"
        rows = [
            "| | |",
            "|---|---|",
            f"| Digest | `{f.digest}` ({kind}, in {_code(f.registry)}) |",
        ]
        if f.tag:
            named = f"the index `{f.tag_digest}`, which holds this digest" if f.tag_digest else "this digest"
            rows.append(f"| Tag | {_code(f.tag)} names {named} |")
        rows.append(f"| Platforms | {', '.join(_code(p) for p in f.platforms) or 'none stated'} |")
        rows.append(f"| Created | {_code(f.created) if f.created else 'not stated'} |")
        if f.source:
            rows.append(f"| Source | {f.source if _SAFE_URL.match(f.source) else _code(f.source)} |")
        if f.revision:
            url = commit_url(f.source, f.revision)
            shown = f"[`{f.revision[:12]}`]({url})" if url else _code(f.revision)
            if provenance and provenance.commit and f.revision != provenance.commit:
                shown += f" (this promotion ran for commit {_code(provenance.commit)}: not the same)"
            elif provenance and provenance.commit:
                shown += " (the commit this promotion ran for)"
            rows.append(f"| Revision | {shown} |")
        section = "### Image verified in the registry\n\n" + "\n".join(rows) + "\n"
        labels = sorted({**f.annotations, **f.labels}.items())
        if labels:
            table = ["| Label or annotation | Value |", "|---|---|"]
            table += [f"| {_code(k)} | {_code(v)} |" for k, v in labels[:_PR_LABELS]]
            more = f"\n… {len(labels) - _PR_LABELS} more not shown\n" if len(labels) > _PR_LABELS else ""
            section += (
                f"\n<details><summary>Labels and annotations ({len(labels)})</summary>\n\n"
                + "\n".join(table)
                + "\n"
                + more
                + "\n</details>\n"
            )
        out.append(section)
    return "\n".join(out)


def _provenance(p: Provenance) -> str:
    items = [
        ("Source repository", p.source_repo),
        ("Commit", f"`{p.commit}`" if p.commit else None),
        ("CI run", p.run_url),
        ("Actor", p.actor),
    ]
    shown = [f"- {k}: {v}" for k, v in items if v]
    return (
        "### Provenance\n\n"
        + ("\n".join(shown) if shown else "- not run in CI (no GITHUB_* or CI_* variables, no flags)")
        + "\n"
    )


def pull_body(
    *,
    env: str,
    apps: list[PromotedApp],
    file_diff: str,
    head: str | None,
    rendered_diff: str | None = None,
    checks: CheckResult | None = None,
    provenance: Provenance | None = None,
    superseded: list[PromotedApp] | None = None,
    limit: int = GITHUB_BODY_LIMIT,
) -> str:
    """The description a reviewer reads; at most `limit` characters, the marker always kept."""
    head_part = f"## Promote {', '.join(a.app for a in apps)} to {env}\n\n" + _table(env, apps)
    if superseded:
        olds = ", ".join(f"`{s.app}` `{s.image}`" for s in superseded)
        head_part += f"\nThis update supersedes {olds}, which this pull request promoted before.\n"
    verified = _verified_images(checks, provenance)
    if verified:
        head_part += "\n" + verified
    tail = _provenance(provenance or Provenance()) + "\n### Rollback\n\n```sh\n"
    tail += "".join(rollback_command(a.app, env, a.previous) + "\n" for a in apps) + "```\n"
    marker = render_marker(env, apps, head)

    shrinkable: list[Callable[[int | None], str]] = [
        lambda cap: _code_section("File changes", "File diff", file_diff, _INLINE_DIFF_LINES, cap),
    ]
    if rendered_diff:
        masked = mask_secrets(rendered_diff)
        shrinkable.append(
            lambda cap: _code_section(
                "Rendered objects",
                "Rendered diff (Secret values masked)",
                masked,
                _INLINE_RENDERED_LINES,
                cap,
            )
        )
    if checks is not None:
        shrinkable.append(lambda cap: _checks_section(checks, cap))

    def assemble(parts: list[str], note: str = "") -> str:
        return "\n".join([head_part, *parts, tail]) + note + "\n" + marker + "\n"

    parts = [f(None) for f in shrinkable]
    body = assemble(parts)
    if len(body) <= limit:
        return body
    note = f"\n> **Note:** this description was shortened to fit the {limit:,}-character limit; the branch holds the full change.\n"
    fixed = len(assemble([""] * len(parts), note))
    available = max(0, limit - fixed - 64)
    # Water-filling: small sections keep everything, the big ones share what is left.
    caps: list[int | None] = [None] * len(parts)
    order = sorted(range(len(parts)), key=lambda i: len(parts[i]))
    remaining = available
    for n, i in enumerate(order):
        share = remaining // (len(order) - n)
        if len(parts[i]) <= share:
            remaining -= len(parts[i])
        else:
            caps[i] = share
            remaining -= share
    parts = [f(cap) if cap is not None else p for f, cap, p in zip(shrinkable, caps, parts, strict=False)]
    body = assemble(parts, note)
    if len(body) > limit:  # the fixed parts alone are too long: cut before the marker
        suffix = note + "\n" + marker + "\n"
        body = body[: max(0, limit - len(suffix))] + suffix
    return body
