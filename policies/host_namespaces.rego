package main

import rego.v1

# METADATA
# title: Host network, PID or IPC namespace
# description: >-
#   hostNetwork lets a pod bind the node's ports and see its traffic, bypassing NetworkPolicy;
#   hostPID lets it see and signal every process on the node; hostIPC lets it read other
#   processes' shared memory. Each removes an isolation boundary between the pod and the node.
# custom:
#   kinds: data.lib.pod_kinds
#   id: host-namespaces
#   severity: error
deny_host_namespaces contains msg if {
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	data.lib.input_pod_spec[field] == true
	msg := sprintf("the pod shares the node's namespace: %s: true", [field])
}
