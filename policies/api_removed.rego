package main

import rego.v1

import data.lib

# METADATA
# title: API version removed in the target Kubernetes version
# description: >-
#   An apiVersion that the target cluster no longer serves is rejected by the API server: the
#   GitOps controller fails to apply the whole sync, often only after the cluster upgrade, in
#   production. The target version is validation.kubernetes_version in .promoter.yaml (passed as
#   data.promoter.kubernetes_version); move the object to the replacement apiVersion.
# custom:
#   id: api-removed
#   severity: error
deny_api_removed contains msg if {
	some msg in api_removed(input, data.promoter.kubernetes_version)
}

api_removed(obj, version) := {msg |
	e := lib.api_entry(obj)
	lib.version_at_least(version, e.removed)
	msg := concat("", [
		obj.apiVersion, " ", obj.kind, " was removed in Kubernetes ", e.removed,
		" (target is ", version, "): use ", e.replacement,
	])
}
