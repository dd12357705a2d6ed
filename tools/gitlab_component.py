"""Generate the GitLab CI/CD component form (templates/*.yml) from .gitlab-ci-template.yml.

One source for both forms: each component is one of the template's hidden jobs with its
`extends:` chain resolved as GitLab resolves it (mappings merged, everything else replaced), its
PROMOTER_* variables turned into `spec:inputs`, and the scripts copied unchanged.

    python3 tools/gitlab_component.py          # rewrite templates/
    python3 tools/gitlab_component.py --check  # exit 1 when templates/ is stale (the tests run this)
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / ".gitlab-ci-template.yml"
OUT = ROOT / "templates"
# component -> (hidden job, variables the user must give, what it is for)
COMPONENTS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "promoter-check": (".promoter-check", (), "gate a merge request of the GitOps repository"),
    "promoter-bump": (
        ".promoter-bump",
        ("PROMOTER_APP", "PROMOTER_ENV", "PROMOTER_IMAGE"),
        "open or update the promotion merge request of a new image",
    ),
    "promoter-promote": (
        ".promoter-promote",
        (),
        "carry the image one environment runs to the next (one app, a release train, or what a merge promoted)",
    ),
}
DESCRIBE = {
    "PROMOTER_SOURCE": "What to install: a gitops-promoter version, a pip requirement, a git URL at a ref or a path; empty: the image's promoter.",
    "PROMOTER_CI_IMAGE": "The job image: Python and git.",
    "PROMOTER_REPO": "The GitOps repository folder inside the project.",
    "PROMOTER_FAIL_ON": "Which findings fail the job: error, warning or never.",
    "PROMOTER_CHECK_ARGS": "More options for promoter check.",
    "PROMOTER_FORGE_REPO": "The GitOps project, GROUP/PROJECT (default: forge.repository in .promoter.yaml).",
    "PROMOTER_OVERRIDE_FREEZE": "A reason to promote during a change freeze (recorded in the merge request).",
    "PROMOTER_ARGS": "More options for the command.",
    "PROMOTER_APP": "The app name from .promoter.yaml.",
    "PROMOTER_MODE": "app: one app (app, from, to); all: every app whose `to` lags `from`, a release train; next: what the merged merge request promoted, to the next environment.",
    "PROMOTER_ENV": "The environment to promote into.",
    "PROMOTER_IMAGE": "The built image, repo:tag@sha256:….",
    "PROMOTER_FROM": "The environment whose image is promoted (mode app or all).",
    "PROMOTER_TO": "The environment to promote into (default: the one after from).",
}
OPTIONS = {"PROMOTER_FAIL_ON": ["error", "warning", "never"], "PROMOTER_MODE": ["app", "all", "next"]}
NOT_INPUTS = {"PROMOTER_VENV", "PROMOTER_RESOURCE_GROUP"}  # internal


def merge(base: Any, override: Any) -> Any:
    """GitLab's `extends` merge: mappings deep-merged, any other value replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for k, v in override.items():
            out[k] = merge(base[k], v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(override)


def resolve(doc: dict[str, Any], name: str) -> dict[str, Any]:
    job = doc[name]
    parent = job.get("extends")
    body = {k: v for k, v in job.items() if k != "extends"}
    return merge(resolve(doc, parent), body) if parent else copy.deepcopy(body)


def input_name(variable: str) -> str:
    return variable.removeprefix("PROMOTER_").lower().replace("_", "-")


def component(doc: dict[str, Any], name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    hidden, required, _ = COMPONENTS[name]
    job = resolve(doc, hidden)
    variables = {**doc.get("variables", {}), **job.get("variables", {})}
    inputs: dict[str, Any] = {
        "job-name": {"default": name, "description": "The job's name."},
        "stage": {"default": job["stage"], "description": "The stage the job runs in."},
    }
    bound: dict[str, str] = {}
    for var in (*required, *variables):
        if var in NOT_INPUTS or not var.startswith("PROMOTER_") or var in bound:
            if var not in bound:
                bound[var] = variables[var]
            continue
        spec: dict[str, Any] = {"description": DESCRIBE[var]}
        if var not in required:
            spec["default"] = str(variables[var])
        if var in OPTIONS:
            spec["options"] = OPTIONS[var]
        inputs[input_name(var)] = spec
        bound[var] = f"$[[ inputs.{input_name(var)} ]]"
    for var, value in variables.items():  # GIT_DEPTH and the like stay as they are
        bound.setdefault(var, value)
    job["variables"] = bound
    job["stage"] = "$[[ inputs.stage ]]"
    ordered = {
        k: job[k]
        for k in (
            "stage",
            "image",
            "variables",
            "rules",
            "resource_group",
            "before_script",
            "script",
            "after_script",
            "artifacts",
        )
        if k in job
    }
    ordered.update({k: v for k, v in job.items() if k not in ordered})
    return {"spec": {"inputs": inputs}}, {"$[[ inputs.job-name ]]": ordered}


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def render(name: str) -> str:
    doc = yaml.safe_load(SOURCE.read_text())
    spec, job = component(doc, name)
    head = (
        f"# GitLab CI/CD component: {COMPONENTS[name][2]}.\n"
        f"# Generated from .gitlab-ci-template.yml by tools/gitlab_component.py: edit the template, then run it.\n"
    )
    dump = lambda d: yaml.dump(d, Dumper=_Dumper, sort_keys=False, width=200, allow_unicode=True)  # noqa: E731
    return head + dump(spec) + "---\n" + dump(job)


def main(argv: list[str]) -> int:
    stale = []
    for name in COMPONENTS:
        path = OUT / f"{name}.yml"
        text = render(name)
        if "--check" in argv:
            if not path.is_file() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            OUT.mkdir(exist_ok=True)
            path.write_text(text)
    if stale:
        print(f"stale: {', '.join(stale)}: run python3 tools/gitlab_component.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
