package main

import rego.v1

import data.lib

# METADATA
# title: Missing CPU or memory requests and limits
# description: >-
#   The scheduler places pods by their requests, and the kubelet evicts and throttles by their
#   limits. A container without a memory limit can take a node's memory and get its neighbours
#   OOM-killed; one without requests lands on nodes that cannot run it and is the first to be
#   evicted. Set requests and limits for cpu and memory on every container.
# custom:
#   id: container-resources
#   severity: warning
warn_container_resources contains msg if {
	some msg in container_resources(lib.input_containers)
}

resource_settings := ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"]

container_resources(containers) := {msg |
	some c in containers
	missing := [s |
		some s in resource_settings
		parts := split(s, ".")
		not c.resources[parts[0]][parts[1]]
	]
	count(missing) > 0
	# concat, not sprintf: rego-cpp quotes computed strings passed to sprintf.
	msg := concat("", [`container "`, c.name, `" has no resources.`, concat(", resources.", missing)])
}
