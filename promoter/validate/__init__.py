"""Validation of rendered resources (built-in or kubeconform) and of Helm values, as one CheckResult."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from promoter.config.model import DEFAULT_KUBERNETES_VERSION
from promoter.model.errors import ConfigError, UsageError
from promoter.model.finding import CheckResult, Finding, Severity, repo_relative
from promoter.model.resource import Resource

Validator = Literal["builtin", "kubeconform", "auto"]
VALIDATORS = ("builtin", "kubeconform", "auto")


@dataclass
class ValidateOptions:
    """How resources are validated; `from_config` reads `validation:` of `.promoter.yaml`."""

    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    strict: bool = True
    strict_missing: bool = False
    validator: Validator = "builtin"
    schema_dirs: list[Path] = field(default_factory=list)
    repo: Path = field(default_factory=Path.cwd)
    skip_kinds: list[str] = field(default_factory=list)
    find_repo_crds: bool = True  # scan repository files for CustomResourceDefinitions

    @classmethod
    def from_config(cls, config: Any, repo: Path, **overrides: Any) -> ValidateOptions:
        """Options from `config.validation`; keyword overrides (CLI flags) win when not None."""
        v: dict[str, Any] = dict(getattr(config, "validation", None) or {})
        opts = cls(
            kubernetes_version=str(v.get("kubernetes_version", DEFAULT_KUBERNETES_VERSION)),
            strict=bool(v.get("strict", True)),
            strict_missing=bool(v.get("strict_missing", False)),
            validator=v.get("validator", "builtin"),
            schema_dirs=[repo / d for d in v.get("schema_dirs", [])],
            repo=repo,
            skip_kinds=list(v.get("skip_kinds", [])),
        )
        given = {k: val for k, val in overrides.items() if val is not None}
        if "schema_dirs" in given:
            given["schema_dirs"] = [p if Path(p).is_absolute() else repo / p for p in given["schema_dirs"]]
        unknown = set(given) - set(cls.__dataclass_fields__)
        if unknown:
            raise TypeError(f"unknown validation option(s): {', '.join(sorted(unknown))}")
        opts = replace(opts, **given)
        if opts.validator not in VALIDATORS:
            raise ConfigError(f"validation.validator: {opts.validator!r} is not one of {', '.join(VALIDATORS)}")
        return opts

    def preflight(self, *, version_from: str, config_file: str | None) -> None:
        """Refuse, before anything is rendered, what validation would refuse after: an unknown
        Kubernetes version (named as `version_from`: the flag or the config key), a configured
        schema folder that is not there, kubeconform asked for but absent."""
        from promoter.validate.schemas import resolve_version

        resolve_version(self.kubernetes_version, what=version_from)
        for d in self.schema_dirs:
            if not d.is_dir():
                raise ConfigError(
                    f"{config_file or '.promoter.yaml'}: validation.schema_dirs: schema folder {repo_relative(d, self.repo)} does not exist"
                )
        if choose_validator(self) == "kubeconform":
            from promoter.validate.kubeconform import INSTALL_HINT, find_kubeconform

            if find_kubeconform() is None:
                raise UsageError(f"kubeconform was asked for but is not on PATH: {INSTALL_HINT}")


def schema_source(resources: list[Resource], options: ValidateOptions) -> tuple[Any, list[Finding]]:
    """The SchemaSource for `options` with CRDs from the resources and the repository, plus a note finding
    when the configured Kubernetes version is served by the nearest packaged one."""
    from promoter.validate.schemas import (
        SchemaSource,
        find_crds,
        is_crd,
        resolve_version,
    )

    version = resolve_version(options.kubernetes_version)
    source = SchemaSource(
        version=version, strict=options.strict, schema_dirs=list(options.schema_dirs), repo=options.repo
    )
    source.add_crds(r.obj for r in resources if is_crd(r.obj))
    # Only kinds Kubernetes itself does not define need the repository's CRDs: skip the scan otherwise.
    unknown = {(r.api_version, r.kind) for r in resources if r.api_version and r.kind}
    unknown = {k for k in unknown if not source.is_builtin(*k) and not source.has_custom(*k)}
    if unknown and options.find_repo_crds and options.repo.is_dir():
        source.add_crds(find_crds(options.repo))
    notes = []
    if version.note:
        notes.append(Finding(rule="schema-version", severity=Severity.INFO, message=version.note, source="schema"))
    return source, notes


def choose_validator(options: ValidateOptions) -> str:
    """builtin or kubeconform: `auto` picks kubeconform when it is on PATH."""
    if options.validator == "auto":
        return "kubeconform" if shutil.which("kubeconform") else "builtin"
    return options.validator


def validate(resources: list[Resource], options: ValidateOptions) -> CheckResult:
    """Validate rendered resources against the Kubernetes/CRD/catalog schemas; one Subject per resource."""
    source, notes = schema_source(resources, options)
    backend = choose_validator(options)
    if backend == "kubeconform":
        from promoter.validate.kubeconform import run_kubeconform

        result = run_kubeconform(
            resources, source, strict_missing=options.strict_missing, skip_kinds=options.skip_kinds
        )
    else:
        from promoter.validate.builtin import validate_resources

        result = validate_resources(
            resources, source, strict_missing=options.strict_missing, skip_kinds=options.skip_kinds
        )
    result.findings[:0] = notes
    result.stats["validator"] = backend
    result.stats["kubernetes_version"] = source.version.version
    return result


def validate_values(chart_dir: Path, values_files: list[Path], repo: Path) -> CheckResult:
    """Effective Helm values (chart values.yaml + `values_files` in order) against the chart's values.schema.json."""
    from promoter.validate.values import validate_chart_values

    return validate_chart_values(chart_dir, values_files, repo)


__all__ = ["ValidateOptions", "validate", "validate_values", "choose_validator", "schema_source"]
