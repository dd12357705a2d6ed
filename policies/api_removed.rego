package main

import rego.v1

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
	# Every apiVersion in the table is a beta: the test is cheaper than building the table.
	contains(input.apiVersion, "beta")
	e := data.lib.api_removals[input.apiVersion][input.kind]
	version := data.promoter.kubernetes_version
	data.lib.version_at_least(version, e.removed)
	msg := sprintf("%s %s was removed in Kubernetes %s (target is %s): use %s", [input.apiVersion, input.kind, e.removed, version, e.replacement])
}
