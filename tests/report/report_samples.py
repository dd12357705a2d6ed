"""CheckResults built by hand for the report-format tests: every severity, waived, no location, hostile text."""

from __future__ import annotations

from promoter.model.finding import (
    CheckResult,
    Finding,
    Location,
    Severity,
    Status,
    Subject,
)

# Everything a report format must survive: its own metacharacters and XML/Markdown/terminal ones.
NASTY = "100% sure: a,b\nsecond line <b>&amp;</b> ]]> | pipe `tick` @team \x01\x1b[31mred\r\nend"

DEPLOY = "apps/v1/Deployment/shop/checkout"
CRD = "example.com/v1/Widget/shop/w"
SERVICE = "v1/Service/shop/checkout"
DEV = "apps/checkout/overlays/dev"
PROD = "apps/checkout/overlays/prod"


def sample_result() -> CheckResult:
    return CheckResult(
        findings=[
            Finding(
                "schema",
                Severity.ERROR,
                "spec.replicas: 'three' is not of type 'integer'",
                Location("apps/checkout/base/deployment.yaml", 12, 5, 12),
                source="schema",
                subject=DEPLOY,
                target=DEV,
                help="Fix the field to match the Kubernetes schema.",
            ),
            Finding(
                "schema",
                Severity.ERROR,
                NASTY,
                Location("apps/checkout/base/deployment.yaml", 30),
                source="schema",
                subject=DEPLOY,
                target=DEV,
            ),
            Finding(
                "image-latest",
                Severity.WARNING,
                "image ghcr.io/acme/checkout:latest uses a moving tag",
                Location("apps/checkout/overlays/dev/kustomization.yaml", 7),
                source="policy",
                subject=SERVICE,
                target=DEV,
            ),
            Finding(
                "render-failed",
                Severity.ERROR,
                "kustomize build failed:\nmissing resource ../base2",
                None,
                source="render",
                target=PROD,
            ),
            Finding(
                "gate-soak",
                Severity.ERROR,
                "dev soak 2h < 24h",
                None,
                source="gate",
                waived=True,
                waiver_reason="hotfix, INC-42: approved",
            ),
            Finding(
                "deprecated-api",
                Severity.INFO,
                "policy/v1beta1 is gone in 1.25",
                Location("dir with space/100%.yaml", None),
                source="schema",
            ),
        ],
        subjects=[
            Subject(DEPLOY, "resource", DEV, Location("apps/checkout/base/deployment.yaml", 1), Status.FAILED),
            Subject(SERVICE, "resource", DEV, Location("apps/checkout/base/service.yaml", 1), Status.PASSED),
            Subject(CRD, "resource", DEV, None, Status.SKIPPED, "no schema for example.com/v1 Widget"),
            Subject("render:" + PROD, "render", PROD, None, Status.ERROR, "kustomize build failed"),
        ],
        targets=[DEV, PROD],
    )


def many(n: int, severity: Severity, *, rule: str = "schema", message: str = "bad field") -> list[Finding]:
    return [Finding(rule, severity, f"{message} {i}", Location("apps/a.yaml", i + 1)) for i in range(n)]
