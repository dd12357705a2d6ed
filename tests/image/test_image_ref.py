"""ImageRef: the reference grammar (valid and invalid), Docker Hub normalisation, format round-trip."""

from __future__ import annotations

import pytest

from promoter.model.errors import UsageError
from promoter.model.image import ImageRef, check_digest, check_tag, try_parse

D256 = "sha256:" + "0123456789abcdef" * 4
D512 = "sha512:" + "0123456789abcdef" * 8


@pytest.mark.parametrize(
    ("raw", "registry", "path", "tag", "digest", "repository"),
    [
        ("nginx", None, "nginx", None, None, "docker.io/library/nginx"),
        ("nginx:1.25", None, "nginx", "1.25", None, "docker.io/library/nginx"),
        ("bitnami/redis:7.2", None, "bitnami/redis", "7.2", None, "docker.io/bitnami/redis"),
        ("localhost/app", "localhost", "app", None, None, "localhost/app"),
        ("localhost:5000/team/app:dev", "localhost:5000", "team/app", "dev", None, "localhost:5000/team/app"),
        (
            "registry.example.com:443/a/b/c/app:v1.2.3",
            "registry.example.com:443",
            "a/b/c/app",
            "v1.2.3",
            None,
            "registry.example.com:443/a/b/c/app",
        ),
        ("[::1]:5000/app:1", "[::1]:5000", "app", "1", None, "[::1]:5000/app"),
        ("[fe80::1]/team/app", "[fe80::1]", "team/app", None, None, "[fe80::1]/team/app"),
        (f"ghcr.io/acme/api@{D256}", "ghcr.io", "acme/api", None, D256, "ghcr.io/acme/api"),
        (f"ghcr.io/acme/api:1.4.2@{D256}", "ghcr.io", "acme/api", "1.4.2", D256, "ghcr.io/acme/api"),
        (f"quay.io/org/app@{D512}", "quay.io", "org/app", None, D512, "quay.io/org/app"),
        ("a/b__c/d-e/f.g:T_ag-1.0", None, "a/b__c/d-e/f.g", "T_ag-1.0", None, "docker.io/a/b__c/d-e/f.g"),
        ("nginx:" + "x" * 128, None, "nginx", "x" * 128, None, "docker.io/library/nginx"),
    ],
)
def test_valid_references_parse_into_their_parts(raw, registry, path, tag, digest, repository):
    ref = ImageRef.parse(raw)
    assert (ref.registry, ref.path, ref.tag, ref.digest) == (registry, path, tag, digest)
    assert ref.repository == repository
    assert str(ref) == raw  # format round-trip: what was written comes back byte for byte
    assert ImageRef.parse(str(ref)) == ref


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("nginx@sha256:" + "0" * 63, "must have 64 hex characters, got 63"),
        ("nginx@sha256:" + "0" * 65, "must have 64 hex characters, got 65"),
        ("nginx@sha512:" + "0" * 64, "must have 128 hex characters, got 64"),
        ("nginx@sha256:" + "g" * 64, "non-hex"),
        ("nginx@sha256:" + "A" * 64, "lowercase"),
        ("nginx@md5:" + "0" * 32, "unsupported digest algorithm 'md5'"),
        ("nginx@sha1:" + "0" * 40, "unsupported digest algorithm 'sha1'"),
        ("nginx@" + "0" * 64, "must look like sha256:"),
        ("nginx@", "must look like sha256:"),
        ("Nginx:1", "must be lowercase"),
        ("ghcr.io/Acme/api:1", "must be lowercase"),
        ("ACME/app", "must be lowercase"),
        ("nginx:", "tag is empty"),
        ("nginx:" + "x" * 129, "129 characters long (at most 128)"),
        ("nginx:.hidden", "may hold only letters"),
        ("nginx:-dash", "may hold only letters"),
        ("nginx:1+build", "may hold only letters"),
        ("ngi nx:1", "whitespace"),
        ("nginx:1\t", "whitespace"),
        (" nginx", "whitespace"),
        ("nginx:1\nrm -rf /", "newline"),
        ("nginx:1\r", "newline"),
        ("nginx:1;rm", "shell metacharacter(s) ;"),
        ("nginx|cat", "shell metacharacter(s) |"),
        ("nginx&", "shell metacharacter(s) &"),
        ("nginx:$TAG", "shell metacharacter(s) $"),
        ("nginx:`id`", "shell metacharacter(s) `"),
        ("nginx:$(id)", "shell metacharacter(s) $ ( )"),
        ("", "empty"),
        (":1", "repository name is empty"),
        (f"@{D256}", "repository name is empty"),
        ("a//b", "path component '' is malformed"),
        ("-a/b", "path component '-a' is malformed"),
        ("a" * 256, "longer than 255"),
        ("bad_host.example.com/app", "not a valid host"),
        (f"nginx@{D256}@{D256}", "more than one '@'"),
    ],
)
def test_invalid_references_name_what_is_wrong(raw, why):
    with pytest.raises(UsageError) as exc:
        ImageRef.parse(raw)
    msg = str(exc.value)
    assert why in msg
    assert msg.startswith(f"invalid image reference {raw!r}")
    assert "\n" not in msg.replace(repr(raw), "")  # one line, apart from the echoed input's escapes
    assert try_parse(raw) is None


@pytest.mark.parametrize(
    "spelling",
    [
        "nginx",
        "library/nginx",
        "docker.io/library/nginx",
        "index.docker.io/library/nginx",
        "registry-1.docker.io/library/nginx",
        "docker.io/nginx",
        "nginx:1.0",
        f"nginx@{D256}",
    ],
)
def test_docker_hub_spellings_all_name_the_same_repository(spelling):
    ref = ImageRef.parse(spelling)
    assert ref.repository == "docker.io/library/nginx"
    assert ref.same_repository("nginx")
    assert ref.same_repository(ImageRef.parse("docker.io/library/nginx:other"))


def test_docker_hub_normalisation_keeps_user_repositories_apart():
    assert ImageRef.parse("bitnami/nginx").repository == "docker.io/bitnami/nginx"
    assert not ImageRef.parse("bitnami/nginx").same_repository("nginx")
    assert not ImageRef.parse("ghcr.io/library/nginx").same_repository("nginx")
    assert not ImageRef.parse("nginx-unprivileged").same_repository("nginx")


def test_registry_hosts_compare_case_insensitively_but_keep_their_spelling():
    ref = ImageRef.parse("GHCR.io/acme/api:1")
    assert ref.same_repository("ghcr.io/acme/api")
    assert str(ref) == "GHCR.io/acme/api:1"


def test_parse_repository_refuses_tag_and_digest():
    assert ImageRef.parse_repository("ghcr.io/acme/api").name == "ghcr.io/acme/api"
    for raw in ("ghcr.io/acme/api:1", f"ghcr.io/acme/api@{D256}"):
        with pytest.raises(UsageError, match="without tag or digest"):
            ImageRef.parse_repository(raw)


def test_with_and_views():
    ref = ImageRef.parse(f"ghcr.io/acme/api:1@{D256}")
    assert str(ref.with_(tag=None)) == f"ghcr.io/acme/api@{D256}"
    assert str(ref.with_(digest=None, tag="2")) == "ghcr.io/acme/api:2"
    assert ref.short_digest == "sha256:0123456789ab"
    assert ImageRef.parse("nginx").short_digest is None
    assert ref.name == "ghcr.io/acme/api"


def test_check_helpers_return_valid_input_unchanged():
    assert check_digest(D512) == D512
    assert check_tag("v1.0_rc-1") == "v1.0_rc-1"
    with pytest.raises(UsageError, match="tag is empty"):
        check_tag("")


@pytest.mark.parametrize("value", [None, 3, 1.5, "", "x" * 600, "not an image!"])
def test_try_parse_never_raises(value):
    assert try_parse(value) is None
