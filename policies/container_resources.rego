package main

import rego.v1

# METADATA
# title: Missing CPU or memory requests and limits
# description: >-
#   The scheduler places pods by their requests, and the kubelet evicts and throttles by their
#   limits. A container without a memory limit can take a node's memory and get its neighbours
#   OOM-killed; one without requests lands on nodes that cannot run it and is the first to be
#   evicted. Set requests and limits for cpu and memory on every container.
# custom:
#   kinds: data.lib.pod_kinds
#   id: container-resources
#   severity: warning
warn_container_resources contains msg if {
	some c in data.lib.input_containers
	not all_resources_set(object.get(c, "resources", {}))
	missing := [concat(".", p) |
		some p in [["requests", "cpu"], ["requests", "memory"], ["limits", "cpu"], ["limits", "memory"]]
		not c.resources[p[0]][p[1]]
	]
	count(missing) > 0
	msg := sprintf(`container "%s" has no resources.%s`, [c.name, concat(", resources.", missing)])
}

all_resources_set(r) if {
	r.requests.cpu
	r.requests.memory
	r.limits.cpu
	r.limits.memory
}
