"""`promoter check` end to end on a copy of examples/ in a real git repository, with the packaged kubectl
(kustomize) and Helm SDK."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from promoter.model.errors import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

DEV = "apps/checkout-api/overlays/dev"
STAGE = "apps/checkout-api/overlays/stage"
PROD = "apps/checkout-api/overlays/prod"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASE_DEPLOY = "apps/checkout-api/base/deployment.yaml"


def check_json(run_cli, repo: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict]:
    res = run_cli("check", "--repo", str(repo), *args, "--output", "json", env=env)
    assert res.stdout.strip(), res.stderr
    return res.exit_code, json.loads(res.stdout)


def edit(repo: Path, rel: str, old: str, new: str) -> None:
    f = repo / rel
    text = f.read_text()
    assert old in text, (rel, old)
    f.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("base", ["main", "HEAD"])
def test_one_line_overlay_change_renders_only_that_overlay(run_cli, example_repo: Path, base: str) -> None:
    edit(example_repo, f"{DEV}/kustomization.yaml", 'newTag: "1.4.2"', 'newTag: "1.4.3"')
    code, data = check_json(run_cli, example_repo, "--base", base)
    assert code == EXIT_OK and data["passed"] is True
    assert data["targets"] == [DEV]
    assert (
        data["stats"]["rendered"] == 1 and data["stats"]["targets_total"] == 6 and data["stats"]["changed_files"] == 1
    )
    deploy = [s for s in data["subjects"] if s["id"] == "apps/v1/Deployment/checkout-dev/checkout-api"]
    assert deploy and deploy[0]["status"] == "passed" and deploy[0]["location"]["file"] == BASE_DEPLOY


def test_a_change_committed_on_a_branch_counts_like_a_pull_request(run_cli, example_repo: Path, git_cmd) -> None:
    git_cmd(example_repo, "checkout", "-q", "-b", "promote-prod")
    edit(example_repo, f"{PROD}/replicas.yaml", "replicas: 4", "replicas: 5")
    git_cmd(example_repo, "commit", "-qam", "prod: 5 replicas")
    code, data = check_json(run_cli, example_repo, "--base", "main")
    assert code == EXIT_OK and data["targets"] == [PROD] and data["stats"]["rendered"] == 1


def test_base_change_renders_every_overlay_using_it(run_cli, example_repo: Path) -> None:
    edit(example_repo, BASE_DEPLOY, "cpu: 100m", "cpu: 150m")
    code, data = check_json(run_cli, example_repo, "--base", "main")
    assert code == EXIT_OK and data["targets"] == [DEV, PROD, STAGE] and data["stats"]["rendered"] == 3


def test_nothing_changed_checks_nothing_and_passes(run_cli, example_repo: Path) -> None:
    code, data = check_json(run_cli, example_repo, "--base", "HEAD")
    assert code == EXIT_OK and data["targets"] == [] and data["stats"]["rendered"] == 0


def test_broken_manifest_exits_3_with_the_file_in_every_format(run_cli, example_repo: Path, tmp_path: Path) -> None:
    edit(example_repo, BASE_DEPLOY, "replicas: 2", 'replicas: "three"')
    edit(example_repo, f"{PROD}/replicas.yaml", "replicas: 4", 'replicas: "4"')
    out = tmp_path / "out"
    res = run_cli(
        "check",
        "--repo",
        str(example_repo),
        "--base",
        "main",
        "-o",
        f"json={out}.json",
        "-o",
        f"sarif={out}.sarif",
        "-o",
        f"junit={out}.xml",
        "-o",
        f"codequality={out}.cq.json",
        "-o",
        "github",
    )
    assert res.exit_code == EXIT_FINDINGS, res.stderr
    data = json.loads(Path(f"{out}.json").read_text())
    errors = [f for f in data["findings"] if f["severity"] == "error"]
    # each finding points at the line that wrote the bad field: the base for dev/stage (one finding, reached
    # through both overlays), prod's own patch for prod
    assert sorted((f["targets"], f["envs"], f["location"]["file"], f["location"]["line"]) for f in errors) == [
        ([DEV, STAGE], ["dev", "stage"], BASE_DEPLOY, 6),
        ([PROD], ["prod"], f"{PROD}/replicas.yaml", 7),
    ]
    assert all(f["baseline"] == "new" for f in errors)
    sarif = json.loads(Path(f"{out}.sarif").read_text())
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
        for loc in r["locations"]
    }
    assert {BASE_DEPLOY, f"{PROD}/replicas.yaml"} <= uris
    lines = {
        r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for r in sarif["runs"][0]["results"]
        if r["level"] == "error"
    }
    assert lines == {6, 7}
    junit = ET.parse(f"{out}.xml").getroot()
    assert junit.iter("failure") and BASE_DEPLOY in ET.tostring(junit, encoding="unicode")
    assert {i["location"]["path"] for i in json.loads(Path(f"{out}.cq.json").read_text())} >= {BASE_DEPLOY}
    assert f"file={BASE_DEPLOY},line=6" in res.stdout  # GitHub annotation


def test_deleted_file_still_referenced_fails_at_the_referencing_line(run_cli, example_repo: Path) -> None:
    (example_repo / "apps/checkout-api/base/service.yaml").unlink()
    code, data = check_json(run_cli, example_repo, "--base", "main")
    assert code == EXIT_FINDINGS and data["targets"] == [DEV, PROD, STAGE]
    failed = [f for f in data["findings"] if f["rule"] == "render-failed"]
    assert len(failed) == 3
    assert {(f["location"]["file"], f["location"]["line"]) for f in failed} == {
        ("apps/checkout-api/base/kustomization.yaml", 5)
    }


def test_renamed_file_with_its_reference_updated_passes(run_cli, example_repo: Path, git_cmd) -> None:
    git_cmd(example_repo, "mv", "apps/checkout-api/base/service.yaml", "apps/checkout-api/base/svc.yaml")
    edit(example_repo, "apps/checkout-api/base/kustomization.yaml", "- service.yaml", "- svc.yaml")
    code, data = check_json(run_cli, example_repo, "--base", "main")
    assert code == EXIT_OK and data["targets"] == [DEV, PROD, STAGE] and data["stats"]["rendered"] == 3
    svc = [s for s in data["subjects"] if s["id"] == "v1/Service/checkout-prod/checkout-api"]
    assert svc and svc[0]["location"]["file"] == "apps/checkout-api/base/svc.yaml"


def test_kustomization_that_does_not_parse_is_a_finding_with_its_line(run_cli, example_repo: Path) -> None:
    (example_repo / f"{STAGE}/kustomization.yaml").write_text("resources:\n  - ../../base\nimages: [\n")
    res = run_cli("check", "--repo", str(example_repo), "--base", "main", "-o", "json")
    assert res.exit_code == EXIT_FINDINGS and "Traceback" not in res.stderr
    (f,) = [f for f in json.loads(res.stdout)["findings"] if f["severity"] == "error"]
    assert (f["rule"], f["location"]["file"], f["location"]["line"]) == ("yaml", f"{STAGE}/kustomization.yaml", 4)


def test_untracked_plain_manifest_folder_is_checked_as_it_is(run_cli, example_repo: Path) -> None:
    folder = example_repo / "clusters/prod"
    folder.mkdir(parents=True)
    (folder / "ns.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: [\n"
    )
    code, data = check_json(run_cli, example_repo, "--base", "main")
    assert code == EXIT_FINDINGS and data["targets"] == ["clusters/prod"]
    (f,) = [f for f in data["findings"] if f["severity"] == "error"]
    assert (f["location"]["file"], f["location"]["line"]) == ("clusters/prod/ns.yaml", 11)


def test_values_change_renders_the_chart_in_process(run_cli, example_repo: Path) -> None:
    edit(example_repo, "apps/web/env/values-dev.yaml", "replicaCount: 1", "replicaCount: 2")
    code, data = check_json(run_cli, example_repo, "--base", "main")
    assert code == EXIT_OK and data["targets"] == ["apps/web/chart@dev"]
    assert data["stats"]["rendered"] == 1 and data["stats"]["skipped"] == 0
    assert data["stats"]["tools"]["helm"].startswith("Helm SDK v4") and "packaged" in data["stats"]["tools"]["helm"]
    deploy = next(s for s in data["subjects"] if s["id"].startswith("apps/v1/Deployment/"))
    assert deploy["location"]["file"] == "apps/web/chart/templates/deployment.yaml"


def test_helm_that_cannot_run_fails_the_check_never_silent(run_cli, example_repo: Path, git_cmd) -> None:
    code, data = check_json(run_cli, example_repo, "--all", env={"PROMOTER_HELM": "/nonexistent/helm"})
    assert code == EXIT_FINDINGS
    missing = [f for f in data["findings"] if f["rule"] == "render-tool-missing"]
    assert {t for f in missing for t in f["targets"]} == {f"apps/web/chart@{e}" for e in ("dev", "stage", "prod")}
    assert all(f["severity"] == "error" and "/nonexistent/helm" in f["message"] for f in missing)
    assert data["stats"]["tools"]["kustomize"].startswith("kubectl v1.")


def test_repository_in_a_subfolder_of_a_git_work_tree(run_cli, new_repo, git_cmd) -> None:
    files = {
        f"deploy/gitops/{p.relative_to(EXAMPLES).as_posix()}": p.read_text() for p in EXAMPLES.rglob("*") if p.is_file()
    }
    outer = new_repo({"README.md": "outer project\n", **files}, name="outer")
    edit(outer, f"deploy/gitops/{DEV}/kustomization.yaml", 'newTag: "1.4.2"', 'newTag: "1.4.3"')
    (outer / "README.md").write_text("changed outside the GitOps folder\n")
    code, data = check_json(run_cli, outer / "deploy/gitops", "--base", "main")
    assert code == EXIT_OK and data["targets"] == [DEV] and data["stats"]["changed_files"] == 1
    assert all(not s["location"]["file"].startswith("deploy/") for s in data["subjects"] if s["location"])


def test_env_filter_and_all(run_cli, example_repo: Path) -> None:
    code, data = check_json(run_cli, example_repo, "--all", "--env", "prod")
    assert code == EXIT_OK
    assert sorted(data["targets"]) == sorted([PROD, "apps/web/chart@prod"])
    code, data = check_json(run_cli, example_repo, "--all")
    assert data["stats"]["targets"] == 6


def test_shards_cover_every_target_exactly_once(run_cli, example_repo: Path) -> None:
    _, everything = check_json(run_cli, example_repo, "--all")
    seen: list[str] = []
    for k in (1, 2, 3):
        _, part = check_json(run_cli, example_repo, "--all", "--shard", f"{k}/3")
        seen.extend(part["targets"])
    assert sorted(seen) == sorted(everything["targets"]) and len(seen) == len(set(seen))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base", "no-such-branch"], "--base no-such-branch: no such commit"),
        (["--base", "main", "--all"], "exactly one of --base REF or --all"),
        ([], "exactly one of --base REF or --all"),
        (["--all", "--shard", "4/3"], "--shard '4/3': K must be between 1 and N"),
        (["--all", "--shard", "x"], "--shard 'x': expected K/N"),
        (["--all", "--env", "qa"], "unknown environment 'qa'"),
        (["--all", "--output", "yaml"], "unknown format 'yaml'"),
        (["--all", "--schema-dir", "/no/such/folder"], "--schema-dir /no/such/folder: no such folder"),
        (["--all", "--kubernetes-version", "9.9"], "--kubernetes-version: no packaged schemas for Kubernetes 9.9"),
        (
            ["--all", "--validator", "nope"],
            "'nope' is not one of 'builtin', 'kubeconform', 'auto'. (see 'promoter check --help')",
        ),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(run_cli, example_repo: Path, args: list[str], message: str) -> None:
    res = run_cli("check", "--repo", str(example_repo), *args)
    assert res.exit_code == EXIT_USAGE
    assert message in res.stderr and len(res.stderr.strip().splitlines()) == 1 and res.stdout == ""


def test_a_report_file_that_is_a_folder_is_refused_before_the_check_runs(
    run_cli, example_repo: Path, monkeypatch
) -> None:
    monkeypatch.setattr(
        "promoter.render.renderer.Renderer.render_all", lambda *a, **k: pytest.fail("rendered before refusing")
    )
    folder = example_repo / "apps"
    res = run_cli("check", "--repo", str(example_repo), "--all", "--output", "text", "--output", f"sarif={folder}")
    assert (res.exit_code, res.stdout) == (EXIT_USAGE, "")
    assert (
        res.stderr
        == f"promoter: error: --output sarif={folder}: {folder} is a folder; name the report file inside it\n"
    )


@pytest.mark.parametrize(
    ("validation", "message"),
    [
        (
            "validation:\n  kubernetes_version: '2.1'\n",
            ".promoter.yaml: validation.kubernetes_version: no packaged schemas for Kubernetes 2.1",
        ),
        (
            "validation:\n  schema_dirs: [schemas/crds]\n",
            ".promoter.yaml: validation.schema_dirs: schema folder schemas/crds does not exist",
        ),
        ("validation:\n  validator: kubeconform\n", "kubeconform was asked for but is not on PATH"),
    ],
)
def test_validation_settings_validation_would_refuse_fail_before_rendering(
    run_cli, example_repo: Path, monkeypatch: pytest.MonkeyPatch, validation: str, message: str
) -> None:
    config = example_repo / ".promoter.yaml"
    text = config.read_text()
    start, end = text.index("validation:\n"), text.index("\n# The built-in policy pack")
    config.write_text(text[:start] + validation + text[end:])
    monkeypatch.setattr("promoter.validate.kubeconform.find_kubeconform", lambda: None)  # absent even where installed
    # Nothing may be rendered first: a renderer that runs would fail this test.
    monkeypatch.setattr(
        "promoter.render.renderer.Renderer.render_all", lambda *a, **k: pytest.fail("rendered before refusing")
    )
    res = run_cli("check", "--repo", str(example_repo), "--all")
    assert (res.exit_code, res.stdout) == (EXIT_USAGE, "")
    assert message in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_kubernetes_version_flag_is_the_version_policies_judge_apis_by(run_cli, example_repo: Path) -> None:
    hpa = (
        "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n  namespace: web\n"
        "spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 1\n  maxReplicas: 3\n"
    )
    (example_repo / "extra").mkdir()
    (example_repo / "extra/hpa.yaml").write_text(hpa)
    _, data = check_json(run_cli, example_repo, "--base", "main", "--kubernetes-version", "1.25")
    rules = {f["rule"] for f in data["findings"]}
    # Removed in 1.26: the configured 1.32 would call it removed; the flag's 1.25 only deprecated.
    assert "api-deprecated" in rules and "api-removed" not in rules
    assert data["stats"]["kubernetes_version"] == "1.25.0"


def test_values_that_break_the_chart_schema_point_at_the_values_line(run_cli, example_repo: Path) -> None:
    edit(example_repo, "apps/web/env/values-prod.yaml", "tag: '2.7.0'", "tag: 27")
    code, data = check_json(run_cli, example_repo, "--base", "main")
    assert code == EXIT_FINDINGS and data["targets"] == ["apps/web/chart@prod"]
    (f,) = [f for f in data["findings"] if f["rule"] == "values-schema"]
    assert (f["location"]["file"], f["location"]["line"], f["target"]) == (
        "apps/web/env/values-prod.yaml",
        5,
        "apps/web/chart@prod",
    )


REPLICAS_POLICY = """package main

import rego.v1

deny contains msg if {
  input.kind == "Deployment"
  input.spec.replicas < 3
  msg := sprintf("%s: at least 3 replicas", [input.metadata.name])
}
"""


def test_policy_folder_is_evaluated_on_the_rendered_objects(run_cli, example_repo: Path, tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "replicas.rego").write_text(REPLICAS_POLICY)
    edit(example_repo, f"{DEV}/kustomization.yaml", 'newTag: "1.4.2"', 'newTag: "1.4.3"')
    edit(example_repo, f"{PROD}/replicas.yaml", "replicas: 4", "replicas: 5")
    code, data = check_json(run_cli, example_repo, "--base", "main", "--policy", str(policies), "--fail-on", "any")
    assert code == EXIT_FINDINGS
    denied = [f for f in data["findings"] if f["severity"] == "error"]
    # dev inherits 2 replicas from the base: denied; prod's patch sets 5: allowed
    assert [(f["target"], f["location"]["file"]) for f in denied] == [(DEV, BASE_DEPLOY)]
    assert "at least 3 replicas" in denied[0]["message"]
    # main's dev had 2 replicas already: an existing finding, which --fail-on new (the default) lets through
    assert denied[0]["baseline"] == "existing"
    code, data = check_json(run_cli, example_repo, "--base", "main", "--policy", str(policies))
    assert code == EXIT_OK and data["fail_on"] == "new" and data["stats"]["existing"] >= 1


def test_hand_written_prod_bump_that_skips_stage_fails_its_gates(run_cli, example_repo: Path) -> None:
    # dev's image (1.4.2 at dev's digest) runs in dev only; stage still runs 1.4.1: prod may not take it
    dev_digest = "sha256:3f2a9c1d5be4e0a7c8b6f1e2d3c4b5a69788766554433221100ffeeddccbbaa9"
    edit(example_repo, f"{PROD}/kustomization.yaml", 'newTag: "1.4.1"', 'newTag: "1.4.2"')
    edit(
        example_repo,
        f"{PROD}/kustomization.yaml",
        "sha256:1b7e4f0c2d9a8b6e5f4d3c2b1a09f8e7d6c5b4a3928170605f4e3d2c1b0a9f8e",
        dev_digest,
    )
    code, data = check_json(run_cli, example_repo, "--base", "main")
    assert code == EXIT_FINDINGS and data["targets"] == [PROD]
    gate = [f for f in data["findings"] if f["rule"] == "gate-promotion-order"]
    assert len(gate) == 1 and gate[0]["location"]["file"] == f"{PROD}/kustomization.yaml"
    assert any(s["kind"] == "gate" for s in data["subjects"])
    # gates belong to one environment and are reported once across shards
    _, dev_only = check_json(run_cli, example_repo, "--base", "main", "--env", "dev")
    assert not [f for f in dev_only["findings"] if f["rule"].startswith("gate-")]
    _, second = check_json(run_cli, example_repo, "--base", "main", "--shard", "2/2")
    assert not [f for f in second["findings"] if f["rule"].startswith("gate-")]


def test_git_missing_is_a_tool_failure_exit_1(run_cli, example_repo: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    res = run_cli("check", "--repo", str(example_repo), "--base", "main", env={"PATH": str(empty)})
    assert res.exit_code == 1
    assert res.stderr.strip() == "promoter: error: git is not on PATH"


def test_the_diff_is_read_from_git_once_for_selection_and_gates(run_cli, example_repo: Path, monkeypatch) -> None:
    import promoter.history.git as gitrepo

    calls: list[str] = []
    real = gitrepo.run_git
    monkeypatch.setattr(gitrepo, "run_git", lambda cwd, *args, **kw: calls.append(args[0]) or real(cwd, *args, **kw))
    edit(example_repo, f"{PROD}/kustomization.yaml", 'newTag: "1.4.1"', 'newTag: "1.4.2"')  # prod's gates judge it
    code, data = check_json(run_cli, example_repo, "--base", "main")
    assert data["targets"] == [PROD] and any(s["kind"] == "gate" for s in data["subjects"])
    assert (calls.count("diff"), calls.count("ls-files"), calls.count("merge-base")) == (1, 1, 1)


def test_path_prefix_puts_the_folder_in_front_of_every_report_path(run_cli, example_repo: Path, tmp_path: Path) -> None:
    # The GitOps repository is the folder deploy/ of the CI checkout: every format must name deploy/….
    edit(example_repo, BASE_DEPLOY, "replicas: 2", 'replicas: "three"')
    out = tmp_path / "out"
    res = run_cli(
        "check",
        "--repo",
        str(example_repo),
        "--base",
        "main",
        "--path-prefix",
        "./deploy/",
        "-o",
        f"json={out}.json",
        "-o",
        f"sarif={out}.sarif",
        "-o",
        f"junit={out}.xml",
        "-o",
        f"codequality={out}.cq.json",
        "-o",
        "github",
    )
    assert res.exit_code == EXIT_FINDINGS, res.stderr
    want = f"deploy/{BASE_DEPLOY}"
    assert f"file={want},line=6" in res.stdout
    sarif = json.loads(Path(f"{out}.sarif").read_text())
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
        for loc in r["locations"]
    }
    assert want in uris and all(u.startswith("deploy/") for u in uris)
    paths = {i["location"]["path"] for i in json.loads(Path(f"{out}.cq.json").read_text())}
    assert want in paths and all(p.startswith("deploy/") for p in paths)
    files = {c.get("file") for c in ET.parse(f"{out}.xml").getroot().iter("testcase") if c.get("file")}
    assert want in files and all(f.startswith("deploy/") for f in files)
    data = json.loads(Path(f"{out}.json").read_text())
    assert all(f["location"]["file"].startswith("deploy/") for f in data["findings"] if f["location"])


@pytest.mark.parametrize("prefix", ["/abs", "../up", "a/../../b"])
def test_path_prefix_must_stay_inside_the_checkout(run_cli, example_repo: Path, prefix: str) -> None:
    res = run_cli("check", "--repo", str(example_repo), "--all", "--path-prefix", prefix)
    assert res.exit_code == EXIT_USAGE and "--path-prefix" in res.stderr and res.stdout == ""


def test_fail_on_chooses_which_findings_fail_the_check(run_cli, example_repo: Path) -> None:
    # examples/ passes with warnings (policies ask for hardening the example does not have).
    code, data = check_json(run_cli, example_repo, "--all")
    assert code == EXIT_OK and data["counts"]["warning"] > 0 and data["counts"]["error"] == 0
    assert check_json(run_cli, example_repo, "--all", "--fail-on", "warning")[0] == EXIT_FINDINGS
    edit(example_repo, BASE_DEPLOY, "replicas: 2", 'replicas: "three"')
    assert check_json(run_cli, example_repo, "--all")[0] == EXIT_FINDINGS
    assert check_json(run_cli, example_repo, "--all", "--fail-on", "never")[0] == EXIT_OK
