package main

import rego.v1

import data.lib

# METADATA
# title: Container may run as root
# description: >-
#   A process running as UID 0 inside a container is root on the node's kernel, one container
#   escape away from the host. Set securityContext.runAsNonRoot: true (on the pod or on each
#   container) so the kubelet refuses to start an image whose user is root, and never set
#   runAsUser: 0.
# custom:
#   id: run-as-non-root
#   severity: error
deny_run_as_non_root contains msg if {
	some msg in run_as_non_root(lib.input_pod_spec, lib.input_containers)
}

run_as_non_root(spec, containers) := {msg |
	some c in containers
	not lib.effective_security(spec, c, "runAsNonRoot") == true
	msg := sprintf(`container "%s" does not set securityContext.runAsNonRoot: true (on the container or the pod)`, [c.name])
} | {msg |
	some c in containers
	lib.effective_security(spec, c, "runAsUser") == 0
	msg := sprintf(`container "%s" sets runAsUser: 0 (root)`, [c.name])
}
