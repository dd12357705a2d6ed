package main

import rego.v1

import data.lib

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
	some msg in api_deprecated(input, data.promoter.kubernetes_version)
}

api_deprecated(obj, version) := {msg |
	e := lib.api_entry(obj)
	lib.version_at_least(version, e.deprecated)
	not lib.version_at_least(version, e.removed)
	msg := concat("", [
		obj.apiVersion, " ", obj.kind, " is deprecated since Kubernetes ", e.deprecated,
		" and removed in ", e.removed, ": use ", e.replacement,
	])
}
