package main

import rego.v1

import data.lib

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
#   id: registry-allowlist
#   severity: error
deny_registry_allowlist contains msg if {
	allowed := data.promoter.allowed_registries
	count(allowed) > 0
	some msg in registry_allowlist(lib.input_containers, allowed)
}

registry_allowlist(containers, allowed) := {msg |
	some c in containers
	not lib.image_allowed(c.image, allowed)
	msg := concat("", [
		`container "`, c.name, `" pulls "`, c.image, `" from `, lib.image_registry(c.image),
		", which is not an allowed registry (allowed: ", concat(", ", allowed), ")",
	])
}
