"""Scope: where an app's image lives in one environment (or under given paths): the one resolver
that bump, history, status and check use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from promoter.config.model import Config
from promoter.locate.paths import check_relative, rel_to, resolve_arg, safe_path
from promoter.locate.scan import chart_templates, skipped_dir, yaml_files, yaml_name
from promoter.model.commandline import command, workspace_options
from promoter.model.errors import UsageError
from promoter.model.image import ImageRef


@dataclass(frozen=True)
class Scope:
    """Folders or files scanned for references, or explicit (file, dotted key) targets; repository-relative.

    `app`, `env`, `image` (the app's repository, no tag or digest) and `chart` are set for an
    app's environment and None for a scope of paths given on the command line.
    """

    roots: tuple[str, ...]
    targets: tuple[tuple[str, str], ...]
    description: str
    app: str | None = None
    env: str | None = None
    image: ImageRef | None = None
    chart: str | None = None

    @property
    def repository(self) -> ImageRef:
        """The app's repository; only an app's environment has one."""
        if self.image is None:
            raise ValueError(f"{self.description}: a scope of paths has no app image")
        return self.image

    @property
    def paths(self) -> tuple[str, ...]:
        return self.roots + tuple(dict.fromkeys(f for f, _ in self.targets))

    def contains(self, rel: str, known: set[str] | None = None) -> bool:
        """Whether repository-relative `rel` is a file this scope reads, by the rules `scan.yaml_files`
        walks with. `known` (the repository's files) lets chart templates be told apart."""
        if any(rel == f for f, _ in self.targets):
            return True
        for root in self.roots:
            if rel == root:
                return True
            if root == ".":
                inner = rel
            elif rel.startswith(root + "/"):
                inner = rel[len(root) + 1 :]
            else:
                continue
            parts = PurePosixPath(inner).parts
            if any(skipped_dir(p) for p in parts[:-1]) or not yaml_name(parts[-1]):
                return False
            if known is not None:
                for i, name in enumerate(parts[:-1]):
                    chart_yaml = "/".join(((root,) if root != "." else ()) + parts[:i] + ("Chart.yaml",))
                    if chart_templates(chart_yaml in known, name):
                        return False
            return True
        return False

    def files(self, repo: Path) -> list[str]:
        """The files of the working tree this scope reads: YAML files under its roots that exist,
        then its explicit targets' files that exist, repository-relative."""
        roots = [repo / r for r in self.roots if (repo / r).exists()]
        files = [rel_to(repo, f) for f in yaml_files(repo, roots)] if roots else []
        files += [f for f, _ in self.targets if f not in files and safe_path(repo, f).is_file()]
        return files

    def require_on_disk(self, repo: Path, config: Config) -> Scope:
        """The same scope, each of its places checked to exist inside the repository (a bump needs them)."""
        if self.app is None:
            return self
        for f, _ in self.targets:
            if not safe_path(repo, f, what=f"{config.file}: apps.{self.app}.targets.{self.env} file").is_file():
                raise UsageError(f"{config.file}: apps.{self.app}.targets.{self.env}: file {f!r} does not exist")
        for root in self.roots:
            if not safe_path(repo, root, what=f"{config.file}: path of {self.app} in {self.env}").exists():
                raise UsageError(f"{config.file}: {self.app} in {self.env} lives at {root!r}, which does not exist")
        return self


def env_scope(config: Config, app: str, env: str) -> Scope:
    """The files an app's environment is read from, from configuration alone (they need not exist now)."""
    if config.file is None:
        raise UsageError("reading an app's image history needs a .promoter.yaml")
    a = config.app(app)
    config.env(env)
    image = ImageRef.parse_repository(a.image)
    if env in a.targets:
        targets = tuple((t.file, t.key) for t in a.targets[env])
        for f, _ in targets:
            check_relative(f, what=f"{config.file}: apps.{app}.targets.{env} file")
        return Scope((), targets, f"{app} in {env} (explicit targets)", app, env, image, a.chart)
    where = a.location(env, config.default_path)
    if where is None:
        raise UsageError(
            f"{config.file}: app {app} has no path for {env} (set apps.{app}.path, paths.{env}, or defaults.path)"
        )
    check_relative(where, what=f"{config.file}: path of {app} in {env}")
    root = PurePosixPath(where).as_posix().rstrip("/") or "."
    return Scope((root,), (), f"{app} in {env} ({where})", app, env, image, a.chart)


def path_scope(repo: Path, paths: list[str] | list[Path], *, base: Path | None = None, what: str = "path") -> Scope:
    """Folders or files named on the command line, each existing inside the repository.

    Every command resolves its PATH arguments here, by `paths.resolve_arg`'s one rule."""
    roots: list[str] = []
    for p in paths:
        rel = resolve_arg(repo, p, base=base, what=what)
        if not (repo / rel).exists():
            raise UsageError(f"{what} {str(p)!r} does not exist in {repo}")
        if rel not in roots:
            roots.append(rel)
    return Scope(tuple(roots), (), ", ".join(str(p) for p in paths))


def resolve_scope(
    repo: Path, config: Config, image: ImageRef, app: str | None, env: str | None, paths: list[str]
) -> Scope:
    """Where a bump of `image` looks: `--path`s, or the app's environment (which must exist on disk)."""
    if paths and (app or env):
        raise UsageError("give either --app and --env, or --path, not both")
    if paths:
        return path_scope(repo, paths, what="--path")
    if not (app and env):
        raise UsageError("say where to bump: --app APP --env ENV (with a .promoter.yaml), or --path DIR")
    if config.file is None:
        raise UsageError(
            f"--app/--env need a .promoter.yaml in {repo} (or --config FILE): "
            f"{command(['init'], workspace_options(repo))} proposes one; --path DIR needs none"
        )
    a = config.app(app)
    config.env(env)
    if not image.same_repository(a.image):
        raise UsageError(f"image {image.name} is not app {app}'s image ({a.image}, from {config.file})")
    return env_scope(config, app, env).require_on_disk(repo, config)
