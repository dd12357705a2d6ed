package main

import rego.v1

# METADATA
# title: Image from a registry outside the allowlist
# description: >-
#   Images pulled from arbitrary registries bypass the organisation's scanning, signing and
#   retention, and a typo-squatted name on a public registry is an easy supply-chain attack.
#   With policies.allowed_registries set in .promoter.yaml (passed as
#   data.promoter.allowed_registries; entries are registry hosts like ghcr.io or repository
#   prefixes like ghcr.io/acme), every image must come from one of them. Without an allowlist the
#   rule passes.
# custom:
#   kinds: data.lib.pod_kinds
#   id: registry-allowlist
#   severity: error
deny_registry_allowlist contains msg if {
	allowed := data.promoter.allowed_registries
	count(allowed) > 0
	some c in data.lib.input_containers
	not data.lib.image_allowed(c.image, allowed)
	msg := sprintf(`container "%s" pulls "%s" from %s, which is not an allowed registry (allowed: %s)`, [c.name, c.image, data.lib.image_registry(c.image), concat(", ", allowed)])
}
