"""The CI files as shipped: valid against the platforms' schemas (check-jsonschema's vendored copies),
injection-safe, consistent with each other and with the CLI, and pinned to the released version."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from promoter import __distribution__, __version__
from tests.conftest import ROOT, invoke

TEMPLATE = ROOT / ".gitlab-ci-template.yml"
COMPONENTS = sorted((ROOT / "templates").glob("*.yml"))
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml")) + sorted(
    (ROOT / "docs" / "examples").glob("github-*.yml")
)
GITLAB_EXAMPLES = sorted((ROOT / "docs" / "examples").glob("gitlab-*.yml"))


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_action_metadata_passes_the_github_actions_schema() -> None:
    proc = check_jsonschema("vendor.github-actions", ROOT / "action.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_schema_check_catches_what_github_refuses(tmp_path: Path) -> None:
    # The mistake the shipped action.yml once had: an output without a description.
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    del action["outputs"]["pr-number"]["description"]
    bad = tmp_path / "action.yml"
    bad.write_text(yaml.safe_dump(action))
    proc = check_jsonschema("vendor.github-actions", bad)
    assert proc.returncode == 1 and "'description' is a required property" in proc.stdout


def test_gitlab_template_passes_the_gitlab_ci_schema() -> None:
    proc = check_jsonschema("vendor.gitlab-ci", TEMPLATE, *GITLAB_EXAMPLES)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda p: p.name)
def test_components_pass_the_schema_and_declare_every_input_they_use(component: Path, tmp_path: Path) -> None:
    header, jobs = list(yaml.safe_load_all(component.read_text()))
    files = []
    for i, doc in enumerate((header, jobs)):
        files.append(tmp_path / f"doc{i}.yml")
        files[-1].write_text(yaml.safe_dump(doc))
    proc = check_jsonschema("vendor.gitlab-ci", *files)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    inputs = header["spec"]["inputs"]
    for name, spec in inputs.items():
        assert set(spec) <= {"default", "description", "options", "type", "regex"}, (name, spec)
        assert spec["description"]
    used = set(re.findall(r"\$\[\[ inputs\.([a-z0-9-]+) \]\]", component.read_text().split("\n---\n", 1)[1]))
    assert used == set(inputs)


def test_components_are_generated_from_the_template() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gitlab_component.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert {p.stem for p in COMPONENTS} == {"promoter-check", "promoter-bump", "promoter-promote"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_pass_the_github_workflows_schema(workflow: Path) -> None:
    proc = check_jsonschema("vendor.github-workflows", workflow)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_there_are_example_workflows_for_every_command_a_user_pastes() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {
        "release.yml",
        "github-check.yml",
        "github-promote.yml",
        "github-pipeline.yml",
        "github-sharded.yml",
    } <= names
    assert {p.name for p in GITLAB_EXAMPLES} >= {
        "gitlab-gitops.yml",
        "gitlab-pipeline.yml",
        "gitlab-sharded.yml",
        "gitlab-sharded-jobs.yml",
    }


SHARDED = [
    ROOT / "docs" / "examples" / n for n in ("github-sharded.yml", "gitlab-sharded.yml", "gitlab-sharded-jobs.yml")
]


@pytest.mark.parametrize("example", SHARDED, ids=lambda p: p.name)
def test_sharded_examples_call_options_that_exist(example: Path) -> None:
    """Every `promoter …` line of the fan-out examples names options its command has."""
    doc = yaml.safe_load(example.read_text())
    scripts: list[str] = []
    for job in (doc.get("jobs") or doc).values():
        if not isinstance(job, dict):
            continue
        for step in job.get("steps") or []:
            scripts.append(step.get("run", ""))
        scripts.extend(s for s in job.get("script") or [] if isinstance(s, str))
    seen = 0
    for script in scripts:
        for words in _commands(script):
            seen += 1
            sub = words[1:3] if words[1] == "report" else words[1:2]
            help_text = invoke(*sub, "--help").stdout
            for w in words[len(sub) + 1 :]:
                if w.startswith("--"):
                    assert re.search(rf"{re.escape(w.split('=')[0])}\b", help_text), f"promoter {sub} has no option {w}"
    assert seen >= 1


def test_the_generated_matrices_pass_the_platforms_schemas(tmp_path: Path) -> None:
    """What `promoter plan` prints goes into the CI files: a GitHub matrix in the sharded workflow, a
    GitLab child pipeline (with the example's hidden jobs copied in) valid against GitLab's schema."""
    import json

    repo = tmp_path / "gitops"
    (repo / ".gitlab").mkdir(parents=True)
    (repo / ".gitlab" / "promoter-shards.yml").write_text((SHARDED[2]).read_text())
    app = repo / "apps" / "web" / "dev"
    app.mkdir(parents=True)
    (app / "deploy.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n")
    res = invoke("plan", "--repo", str(repo), "--all", "--shards", "3", "--output", "github-matrix")
    assert res.exit_code == 0, res.stderr
    matrix = json.loads(res.stdout)
    assert [e["shard"] for e in matrix["include"]] == ["1/3", "2/3", "3/3"]
    workflow = yaml.safe_load(SHARDED[0].read_text())
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as true
    workflow["jobs"]["check"]["strategy"]["matrix"] = matrix
    gh = tmp_path / "wf.yml"
    gh.write_text(yaml.safe_dump(workflow))
    proc = check_jsonschema("vendor.github-workflows", gh)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    child = tmp_path / "child.yml"
    res = invoke("plan", "--repo", str(repo), "--all", "--shards", "3", "--output", f"gitlab-parallel={child}")
    assert res.exit_code == 0, res.stderr
    proc = check_jsonschema("vendor.gitlab-ci", child)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    jobs = yaml.safe_load(child.read_text())
    assert jobs["promoter-check"]["parallel"]["matrix"] == [{"PROMOTER_SHARD": ["1/3", "2/3", "3/3"]}]
    assert jobs["promoter-check"]["extends"] in jobs and jobs["promoter-merge"]["extends"] in jobs


def test_the_pipeline_examples_use_inputs_and_modes_that_exist() -> None:
    """build → bump dev (github-promote.yml); merge → next; schedule → next again and status; a train by hand."""
    inputs = set(yaml.safe_load((ROOT / "action.yml").read_text())["inputs"])
    workflow = yaml.safe_load((ROOT / "docs/examples/github-pipeline.yml").read_text())
    steps = {
        name: [s for s in job["steps"] if s.get("uses", "").startswith("acme/promoter@")]
        for name, job in workflow["jobs"].items()
    }
    for used in steps.values():
        for step in used:
            assert set(step["with"]) <= inputs, step["with"]
    assert steps["next"][0]["with"]["next"] is True and steps["next"][0]["with"]["pr"] is True
    assert steps["train"][0]["with"]["all"] is True and steps["status"][0]["with"]["command"] == "status"
    assert set(workflow[True]) == {"push", "schedule", "workflow_dispatch"}  # YAML reads `on:` as True
    assert workflow["permissions"]["statuses"] == "read" and workflow["permissions"]["checks"] == "read"
    gitlab = yaml.safe_load((ROOT / "docs/examples/gitlab-pipeline.yml").read_text())
    template = yaml.safe_load(TEMPLATE.read_text())
    for name, job in gitlab.items():
        if isinstance(job, dict) and "extends" in job:
            assert job["extends"] in template, name
    modes = {
        j["variables"]["PROMOTER_MODE"]
        for j in gitlab.values()
        if isinstance(j, dict) and "PROMOTER_MODE" in j.get("variables", {})
    }
    assert modes == {"next", "all"}
    assert [r["if"] for r in gitlab["promote-next"]["rules"]][1] == '$CI_PIPELINE_SOURCE == "schedule"'


def test_action_runs_no_input_through_a_shell() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    for step in action["runs"]["steps"]:
        # Pasting ${{ … }} into a script is script injection; values go through env:.
        assert "${{" not in step.get("run", ""), step
    run = next(s for s in action["runs"]["steps"] if s.get("id") == "run")
    assert run["env"]["PROMOTER_ACTION_INPUTS"] == "${{ toJSON(inputs) }}"


def test_action_leaves_the_job_alone() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    steps = action["runs"]["steps"]
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["uses"] == "actions/setup-python@v6" and setup["with"]["update-environment"] is False
    assert any(s.get("uses") == "actions/cache@v5" for s in steps)
    text = (ROOT / "action.yml").read_text()
    assert "GITHUB_PATH" not in text and "GITHUB_ENV" not in text
    for step in steps:
        assert "pip install" not in step.get("run", "") or "--constraint" in step["run"]


def test_every_template_pins_the_released_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == __distribution__ == "gitops-promoter" and project["version"] == __version__
    assert project["scripts"] == {"promoter": "promoter.cli:main"}
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["inputs"]["source"]["default"] == __version__
    assert yaml.safe_load(TEMPLATE.read_text())["variables"]["PROMOTER_SOURCE"] == __version__
    for component in COMPONENTS:
        assert next(yaml.safe_load_all(component.read_text()))["spec"]["inputs"]["source"]["default"] == __version__
    # the README's snippets and the docs' examples name the same release
    for doc in (ROOT / "README.md", *WORKFLOWS, *GITLAB_EXAMPLES):
        for pinned in re.findall(
            r"(?:promoter@v|ref: v|promoter-[a-z]+@|PROMOTER_SOURCE: \"?|source: \"?|gitops-promoter==|PROMOTER_VERSION: \"?)"
            r"(\d+\.\d+\.\d+)",
            doc.read_text(),
        ):
            assert pinned == __version__, (doc.name, pinned)


def test_constraints_pin_every_runtime_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for line in (ROOT / "action" / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not pinned: {line}"
            pins[name.lower().replace("_", "-").replace(".", "-")] = version
    for dep in project["dependencies"]:
        name = re.split(r"[<>=!~\[; ]", dep, maxsplit=1)[0].lower().replace("_", "-").replace(".", "-")
        assert name in pins, f"{name} is a dependency but action/constraints.txt does not pin it"


def _commands(script: str) -> list[list[str]]:
    out = []
    for chunk in re.split(r"\n(?=\S)", script.replace("\\\n", " ")):
        for line in chunk.splitlines():
            line = re.sub(r"\$\{[A-Z_]+:\+([^}]*)\}", r"\1", line)  # ${VAR:+--flag "$VAR"} -> --flag "$VAR"
            words = shlex.split(line, comments=True) if line.strip() else []
            if words and words[0] == "promoter" and len(words) > 1 and not words[1].startswith("-"):
                out.append(words)
    return out


def test_gitlab_jobs_call_options_that_exist_and_have_rules() -> None:
    doc = yaml.safe_load(TEMPLATE.read_text())
    jobs = {k: v for k, v in doc.items() if k.startswith(".promoter-") and k != ".promoter-publish"}
    assert set(jobs) == {".promoter-check", ".promoter-bump", ".promoter-promote"}
    seen = 0
    for name, job in jobs.items():
        for script in job["script"]:
            for words in _commands(script):
                seen += 1
                help_text = invoke(words[1], "--help").stdout
                for w in words[2:]:
                    if w.startswith("--"):
                        assert re.search(rf"{re.escape(w.split('=')[0])}\b", help_text), (
                            f"{name}: promoter {words[1]} has no option {w}"
                        )
    assert seen == 5  # check, bump, and promote's three forms (app, all, next)
    promote = doc[".promoter-promote"]["script"][0]
    for mode, flags in (("next", "--next --merged-sha"), ("all", "--all --from"), ("app", "--app")):
        block = promote[promote.index(f"{mode})") :]
        assert block.index(flags) < block.index(";;"), mode
    assert doc[".promoter-promote"]["variables"]["PROMOTER_MODE"] == "app"
    assert doc[".promoter-check"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert doc[".promoter-check"]["variables"]["GIT_DEPTH"] == "0"
    publish = doc[".promoter-publish"]
    assert "$CI_DEFAULT_BRANCH" in publish["rules"][0]["if"] and "merge_request_event" in publish["rules"][0]["if"]
    assert doc[".promoter-bump"]["resource_group"] == "promoter-$PROMOTER_ENV"
    # A promotion into an environment shares its bump jobs' lock when the target is known; otherwise
    # (mode next, no PROMOTER_TO) one fixed group, never `promoter-` (one lock for every environment).
    promote = doc[".promoter-promote"]
    assert promote["resource_group"] == "$PROMOTER_RESOURCE_GROUP"
    assert promote["variables"]["PROMOTER_RESOURCE_GROUP"] == "promoter-promote"
    known, other = promote["rules"]
    assert known["variables"] == {"PROMOTER_RESOURCE_GROUP": "promoter-$PROMOTER_TO"}
    assert known["if"] == publish["rules"][0]["if"] + ' && $PROMOTER_MODE != "next" && $PROMOTER_TO'
    assert other == publish["rules"][0]
    bump_group = doc[".promoter-bump"]["resource_group"].replace("$PROMOTER_ENV", "stage")
    assert known["variables"]["PROMOTER_RESOURCE_GROUP"].replace("$PROMOTER_TO", "stage") == bump_group
    assert publish["artifacts"]["reports"] == {"dotenv": "promotion.env"}
    assert doc[".promoter-check"]["artifacts"]["reports"] == {
        "junit": "promoter-junit.xml",
        "codequality": "gl-code-quality-report.json",
    }
    # an image with git: the slim Python images have none
    assert doc[".promoter"]["image"] == "$PROMOTER_CI_IMAGE" and "slim" not in doc["variables"]["PROMOTER_CI_IMAGE"]


def test_dockerfile_installs_promoter_with_git_and_no_cache() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim", text, re.M)
    assert "git" in text and "--no-cache-dir" in text and "ENTRYPOINT" in text and "constraints.txt" in text
    # root in the container on a checkout the host user owns: git must not refuse it as dubious ownership
    assert "git config --system --add safe.directory" in text


def test_readme_snippets_pass_their_schemas(tmp_path: Path) -> None:
    """What a user pastes from the README: GitHub workflows and GitLab pipelines, each valid."""
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    github = [b for b in blocks if "\njobs:" in b]
    gitlab = [b for b in blocks if b.startswith("include:")]
    assert len(github) >= 2 and len(gitlab) >= 2
    for kind, found in (("vendor.github-workflows", github), ("vendor.gitlab-ci", gitlab)):
        files = []
        for i, block in enumerate(found):
            files.append(tmp_path / f"{kind}-{i}.yml")
            files[-1].write_text(block)
        proc = check_jsonschema(kind, *files)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    # every action input the README's workflows use exists
    inputs = set(yaml.safe_load((ROOT / "action.yml").read_text())["inputs"])
    for block in github:
        for job in yaml.safe_load(block)["jobs"].values():
            for step in job["steps"]:
                if step.get("uses", "").startswith("acme/promoter@"):
                    assert set(step["with"]) <= inputs, step["with"]


def test_ci_installs_the_real_registry_after_updating_the_package_lists() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    install = script.index("apt-get install -y -qq docker-registry")
    assert script.rfind("apt-get update", 0, install) != -1
    # Installed before the README's test command runs.
    assert install < script.index("python3 -m pytest")


def test_ci_installs_what_the_ci_emulation_tests_need() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    npm = script.index("gitlab-ci-local@4.65.1")
    assert "rsync" in script[: script.index("python3 -m pytest")] and npm < script.index("python3 -m pytest")
    assert 'GITLAB_CI_LOCAL="$PWD/.ci/npm/' in script  # inside the checkout, nothing cached outside it
