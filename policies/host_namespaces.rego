package main

import rego.v1

import data.lib

# METADATA
# title: Host network, PID or IPC namespace
# description: >-
#   hostNetwork lets a pod bind the node's ports and see its traffic, bypassing NetworkPolicy;
#   hostPID lets it see and signal every process on the node; hostIPC lets it read other
#   processes' shared memory. Each removes an isolation boundary between the pod and the node.
# custom:
#   id: host-namespaces
#   severity: error
deny_host_namespaces contains msg if {
	some msg in host_namespaces(lib.input_pod_spec)
}

host_namespaces(spec) := {msg |
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	spec[field] == true
	msg := sprintf("the pod shares the node's namespace: %s: true", [field])
}
