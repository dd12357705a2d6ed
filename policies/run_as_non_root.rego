package main

import rego.v1

# METADATA
# title: Container may run as root
# description: >-
#   A process running as UID 0 inside a container is root on the node's kernel, one container
#   escape away from the host. Set securityContext.runAsNonRoot: true (on the pod or on each
#   container) so the kubelet refuses to start an image whose user is root, and never set
#   runAsUser: 0.
# custom:
#   kinds: data.lib.pod_kinds
#   id: run-as-non-root
#   severity: error
deny_run_as_non_root contains msg if {
	some c in data.lib.input_containers
	not data.lib.effective_security(data.lib.input_pod_spec, c, "runAsNonRoot") == true
	msg := sprintf(`container "%s" does not set securityContext.runAsNonRoot: true (on the container or the pod)`, [c.name])
}

deny_run_as_non_root contains msg if {
	some c in data.lib.input_containers
	data.lib.effective_security(data.lib.input_pod_spec, c, "runAsUser") == 0
	msg := sprintf(`container "%s" sets runAsUser: 0 (root)`, [c.name])
}
