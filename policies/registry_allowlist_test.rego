package main

import rego.v1

registry_pod(image) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": image}]}}

test_registry_allowlist_fails_outside_allowlist if {
	deny_registry_allowlist == {`container "app" pulls "nginx:1.27" from docker.io, which is not an allowed registry (allowed: ghcr.io/acme)`} with input as registry_pod("nginx:1.27")
		with data.promoter.allowed_registries as ["ghcr.io/acme"]
}

test_registry_allowlist_fails_on_other_org if {
	count(deny_registry_allowlist) == 1 with input as registry_pod("ghcr.io/evil/app:1") with data.promoter.allowed_registries as ["ghcr.io/acme"]
}

test_registry_allowlist_passes_by_prefix if {
	count(deny_registry_allowlist) == 0 with input as registry_pod("ghcr.io/acme/app:1") with data.promoter.allowed_registries as ["ghcr.io/acme"]
}

test_registry_allowlist_passes_by_host if {
	count(deny_registry_allowlist) == 0 with input as registry_pod("ghcr.io/other/app:1") with data.promoter.allowed_registries as ["ghcr.io"]
}

test_registry_allowlist_passes_without_allowlist if {
	count(deny_registry_allowlist) == 0 with input as registry_pod("nginx:1.27") with data.promoter.allowed_registries as []
}
