package main

import rego.v1

# METADATA
# title: API version deprecated in the target Kubernetes version
# description: >-
#   A deprecated apiVersion still works but has a removal date: manifests that keep it break at a
#   later cluster upgrade, when nobody remembers them. Migrating while both versions are served
#   is a quiet change; migrating after removal is an outage. The target version is
#   validation.kubernetes_version in .promoter.yaml.
# custom:
#   id: api-deprecated
#   severity: warning
warn_api_deprecated contains msg if {
	# Every apiVersion in the table is a beta: the test is cheaper than building the table.
	contains(input.apiVersion, "beta")
	e := data.lib.api_removals[input.apiVersion][input.kind]
	version := data.promoter.kubernetes_version
	data.lib.version_at_least(version, e.deprecated)
	not data.lib.version_at_least(version, e.removed)
	msg := sprintf("%s %s is deprecated since Kubernetes %s and removed in %s: use %s", [input.apiVersion, input.kind, e.deprecated, e.removed, e.replacement])
}
