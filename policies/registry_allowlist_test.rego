package main

import rego.v1

import data.lib

registry_pod(image) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": image}]}}

test_registry_allowlist_fails_outside_allowlist if {
	registry_allowlist(lib.containers(registry_pod("nginx:1.27")), ["ghcr.io/acme"]) == {`container "app" pulls "nginx:1.27" from docker.io, which is not an allowed registry (allowed: ghcr.io/acme)`}
}

test_registry_allowlist_fails_on_prefix_lookalike if {
	count(registry_allowlist(lib.containers(registry_pod("ghcr.io/acme-evil/web:1")), ["ghcr.io/acme"])) == 1
}

test_registry_allowlist_passes_on_registry_host if {
	count(registry_allowlist(lib.containers(registry_pod("ghcr.io/acme/web:1.0")), ["ghcr.io"])) == 0
}

test_registry_allowlist_passes_on_repository_prefix if {
	count(registry_allowlist(lib.containers(registry_pod("ghcr.io/acme/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")), ["ghcr.io/acme/"])) == 0
}

test_registry_allowlist_passes_on_docker_hub_short_name if {
	count(registry_allowlist(lib.containers(registry_pod("nginx:1.27")), ["docker.io/library"])) == 0
}
