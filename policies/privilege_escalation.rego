package main

import rego.v1

# METADATA
# title: Privilege escalation allowed
# description: >-
#   Unless allowPrivilegeEscalation is false, a process in the container can gain more privileges
#   than its parent (setuid binaries, file capabilities), which turns a foothold as an unprivileged
#   user into root inside the container. Kubernetes defaults it to true; the Pod Security
#   "restricted" profile requires false on every container.
# custom:
#   kinds: data.lib.pod_kinds
#   id: privilege-escalation
#   severity: warning
warn_privilege_escalation contains msg if {
	some c in data.lib.input_containers
	not c.securityContext.allowPrivilegeEscalation == false
	msg := sprintf(`container "%s" does not set securityContext.allowPrivilegeEscalation: false`, [c.name])
}
