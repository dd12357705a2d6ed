"""`promoter plan` cuts a check into shards; `check --plan --shard` runs each; `report merge` joins them into
the result one `check --all` gives, in every report format (examples/ in a real git repository, real kustomize
and Helm, the policy pack)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promoter.model.errors import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

from .test_check_command import BASE_DEPLOY, edit

PLAIN = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: legacy-{i}
  namespace: legacy
spec:
  selector:
    matchLabels: {{app: legacy-{i}}}
  template:
    metadata:
      labels: {{app: legacy-{i}}}
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/legacy:{i}.0.0
          ports:
            - containerPort: {port}
"""


@pytest.fixture
def busy_repo(example_repo: Path, git_cmd) -> Path:
    """examples/ with findings a shard alone cannot see whole: an error in the kustomize base every
    overlay renders (one finding, three targets), plus plain folders, one with a schema error."""
    edit(example_repo, BASE_DEPLOY, "containerPort: 8080", 'containerPort: "8080"')
    edit(example_repo, BASE_DEPLOY, "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")
    for i in range(6):
        f = example_repo / "legacy" / f"team{i}" / "deployment.yaml"
        f.parent.mkdir(parents=True)
        f.write_text(PLAIN.format(i=i, port='"http"' if i == 3 else 8080))
    git_cmd(example_repo, "add", "-A")
    git_cmd(example_repo, "commit", "-qm", "findings across targets")
    return example_repo


def _finding_key(f: dict) -> tuple:
    return (
        f["fingerprint"],
        f["rule"],
        f["severity"],
        json.dumps(f["location"], sort_keys=True),
        f["message"],
        tuple(sorted(f["targets"])),
        tuple(f["envs"]),
        f["waived"],
    )


def _subjects(data: dict) -> list[str]:
    return sorted(json.dumps(s, sort_keys=True) for s in data["subjects"])


def test_a_plan_in_four_shards_merges_to_what_one_all_run_finds(run_cli, busy_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "ci"
    out.mkdir()
    plan_file = out / "plan.json"
    res = run_cli("plan", "--repo", str(busy_repo), "--all", "--shards", "4", "--output", f"json={plan_file}")
    assert res.exit_code == EXIT_OK, res.stderr
    plan = json.loads(plan_file.read_text())
    assert plan["shards"] == 4 and len(plan["targets"]) == 12  # 3 overlays, 3 charts, 6 plain folders

    shard_of: dict[str, int] = {}
    reports = []
    for k in range(1, 5):
        report = out / f"shard-{k}.json"
        res = run_cli(
            "check",
            "--repo",
            str(busy_repo),
            "--plan",
            str(plan_file),
            "--shard",
            f"{k}/4",
            "--output",
            f"json={report}",
        )
        assert res.exit_code in (EXIT_OK, EXIT_FINDINGS), res.stderr
        part = json.loads(report.read_text())
        assert part["stats"]["shard"] == f"{k}/4"
        for t in part["targets"]:
            assert t not in shard_of, f"{t} checked by two shards"
            shard_of[t] = k
        reports.append(str(report))
    # The shards cover the plan exactly, each as the plan says.
    assert shard_of == {t["id"]: t["shard"] for t in plan["targets"]}
    assert len(set(shard_of.values())) >= 3

    merged = out / "merged.json"
    res = run_cli(
        "report",
        "merge",
        *reports,
        "--output",
        f"json={merged}",
        "--output",
        f"sarif={out / 'merged.sarif'}",
        "--output",
        f"codequality={out / 'merged-cq.json'}",
        "--output",
        f"junit={out / 'merged.xml'}",
    )
    assert res.exit_code == EXIT_FINDINGS, res.stderr  # the base's schema error blocks, as in one run
    whole = out / "all.json"
    res = run_cli(
        "check",
        "--repo",
        str(busy_repo),
        "--all",
        "--output",
        f"json={whole}",
        "--output",
        f"sarif={out / 'all.sarif'}",
        "--output",
        f"codequality={out / 'all-cq.json'}",
        "--output",
        f"junit={out / 'all.xml'}",
    )
    assert res.exit_code == EXIT_FINDINGS, res.stderr
    one, joined = json.loads(whole.read_text()), json.loads(merged.read_text())

    assert sorted(map(_finding_key, joined["findings"])) == sorted(map(_finding_key, one["findings"]))
    assert _subjects(joined) == _subjects(one)
    assert joined["targets"] == one["targets"] and joined["counts"] == one["counts"]
    assert joined["passed"] is one["passed"] is False
    # The merge did real work: a finding in the shared base reached from overlays that different shards checked.
    spread = [f for f in joined["findings"] if len({shard_of[t] for t in f["targets"]}) > 1]
    assert spread, "no finding spans shards: the test would not show merging"
    assert any(f["rule"] == "schema" and f["location"]["file"] == BASE_DEPLOY for f in spread)

    sarif_one, sarif_joined = (json.loads((out / n).read_text()) for n in ("all.sarif", "merged.sarif"))
    results = [
        sorted(json.dumps(r, sort_keys=True) for r in s["runs"][0]["results"]) for s in (sarif_one, sarif_joined)
    ]
    assert results[0] == results[1] and results[0]
    cq = [
        sorted(i["fingerprint"] for i in json.loads((out / n).read_text())) for n in ("all-cq.json", "merged-cq.json")
    ]
    assert cq[0] == cq[1]
    assert (out / "merged.xml").read_text().count("<testcase") == (out / "all.xml").read_text().count("<testcase")


def test_default_shards_are_balanced_the_same_way_on_every_job(run_cli, busy_repo: Path) -> None:
    """Without a plan each job cuts alike (costs from file sizes, CRs not counted): together they cover all."""
    from promoter.flows.check import select_targets
    from promoter.flows.workspace import open_workspace
    from promoter.render.shards import assign, target_costs

    _, config = open_workspace(busy_repo, None)
    targets = select_targets(busy_repo.resolve(), config, base=None, all_=True).targets
    cut = assign(busy_repo.resolve(), targets, 3)
    # A CRLF checkout of the same files (Windows runners with autocrlf) cuts identically.
    crlf = {t.id: c for t, c in zip(targets, target_costs(busy_repo.resolve(), targets).values(), strict=True)}
    for f in busy_repo.rglob("*.yaml"):
        f.write_bytes(f.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    assert target_costs(busy_repo.resolve(), targets) == crlf
    assert assign(busy_repo.resolve(), targets, 3) == cut
    loads = [sum(c for t, c in crlf.items() if cut[t] == k) for k in (1, 2, 3)]
    assert max(loads) - min(loads) <= max(crlf.values())  # greedy: no shard exceeds another by more than one target


def test_promotions_plan_lists_environments_behind(run_cli, example_repo: Path, git_cmd) -> None:
    edit(example_repo, "apps/checkout-api/overlays/dev/kustomization.yaml", 'newTag: "1.4.2"', 'newTag: "1.4.3"')
    git_cmd(example_repo, "commit", "-qam", "dev: 1.4.3")
    res = run_cli("plan", "--repo", str(example_repo), "--all", "--work", "promote", "--output", "github-matrix")
    assert res.exit_code == EXIT_OK, res.stderr
    matrix = json.loads(res.stdout)
    assert {"app": "checkout-api", "from": "dev", "to": "stage"} in matrix["include"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shard", "1/3"], "the plan cuts the work into 4 shards, not 3"),
        ([], "give --shard K/4 too"),
        (["--shard", "1/4", "--base", "main"], "was made with --all"),
    ],
)
def test_check_refuses_a_plan_it_cannot_follow(run_cli, example_repo: Path, tmp_path: Path, args, message) -> None:
    plan = tmp_path / "plan.json"
    run_cli("plan", "--repo", str(example_repo), "--all", "--output", f"json={plan}")
    res = run_cli("check", "--repo", str(example_repo), "--plan", str(plan), *args)
    assert res.exit_code == EXIT_USAGE and message in res.stderr, res.stderr


def test_merge_refuses_what_is_not_a_shard_report(run_cli, tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"hello": 1}')
    res = run_cli("report", "merge", str(bad))
    assert res.exit_code == EXIT_USAGE and "not a promoter JSON report" in res.stderr


def _shards(run_cli, repo: Path, plan: Path, total: int, out: Path, tag: str = "s") -> list[Path]:
    reports = []
    for k in range(1, total + 1):
        report = out / f"{tag}{k}.json"
        res = run_cli(
            "check", "--repo", str(repo), "--plan", str(plan), "--shard", f"{k}/{total}", "-o", f"json={report}"
        )
        assert res.exit_code in (EXIT_OK, EXIT_FINDINGS), res.stderr
        reports.append(report)
    return reports


def test_merge_fails_closed_on_a_missing_shard_or_shards_of_another_plan(
    run_cli, busy_repo: Path, tmp_path: Path
) -> None:
    """A shard that crashed before writing its report must not vanish from the merge (the merge job
    runs `if: always()`), and shards of two plans do not add up to one check."""
    plan = tmp_path / "plan.json"
    assert run_cli("plan", "--repo", str(busy_repo), "--all", "--shards", "3", "-o", f"json={plan}").exit_code == 0
    s = _shards(run_cli, busy_repo, plan, 3, tmp_path)
    blocking = [r for r in s if json.loads(r.read_text())["counts"]["error"]]
    assert blocking, "the repository's findings fall in some shard"
    rest = [str(r) for r in s if r != blocking[0]]
    k = s.index(blocking[0]) + 1

    res = run_cli("report", "merge", *rest, "-o", f"json={tmp_path / 'm.json'}")
    assert res.exit_code == EXIT_USAGE, res.stdout
    assert f"shard {k}/3 missing: a shard that failed before writing its report; rerun it" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and not (tmp_path / "m.json").exists()

    # Asked for: the incomplete set merges, and says what it lacks.
    res = run_cli("report", "merge", "--allow-missing", *rest, "-o", f"json={tmp_path / 'm.json'}")
    assert res.exit_code in (EXIT_OK, EXIT_FINDINGS) and f"without shards {k}/3" in res.stderr
    assert json.loads((tmp_path / "m.json").read_text())["stats"]["shards_missing"] == [f"{k}/3"]

    # Another N: another plan.
    plan2 = tmp_path / "plan2.json"
    assert run_cli("plan", "--repo", str(busy_repo), "--all", "--shards", "2", "-o", f"json={plan2}").exit_code == 0
    t = _shards(run_cli, busy_repo, plan2, 2, tmp_path, tag="t")
    res = run_cli("report", "merge", str(s[0]), str(t[1]))
    assert (
        res.exit_code == EXIT_USAGE and "the shards come from different plans (cut into 2 and 3 shards)" in res.stderr
    )

    # The same N, another cut (a plan that gives a target to another shard): refused, even complete.
    edited = json.loads(plan.read_text())
    moved = next(x for x in edited["targets"] if x["shard"] == 1)
    moved["shard"] = 2
    plan3 = tmp_path / "plan3.json"
    plan3.write_text(json.dumps(edited))
    u = _shards(run_cli, busy_repo, plan3, 3, tmp_path, tag="u")
    res = run_cli("report", "merge", str(s[0]), str(u[1]), str(s[2]))
    assert res.exit_code == EXIT_USAGE and "they cut the targets differently" in res.stderr, res.stderr
    # Each set alone is whole.
    assert run_cli("report", "merge", *map(str, u)).exit_code == EXIT_FINDINGS

    # An unsharded report among shards.
    whole = tmp_path / "all.json"
    run_cli("check", "--repo", str(busy_repo), "--all", "-o", f"json={whole}")
    res = run_cli("report", "merge", *map(str, s), str(whole))
    assert res.exit_code == EXIT_USAGE and f"{whole} is not a shard's report" in res.stderr
