package main

import rego.v1

# METADATA
# title: Privileged container
# description: >-
#   A privileged container gets every capability and all of the host's devices: it is root on
#   the node in all but name, and a compromise of it is a compromise of the node and of every
#   pod scheduled there. Only node agents that truly need it (CNI, storage drivers) should run
#   privileged, and they should be waived explicitly with a reason.
# custom:
#   kinds: data.lib.pod_kinds
#   id: privileged
#   severity: error
deny_privileged contains msg if {
	some c in data.lib.input_containers
	c.securityContext.privileged == true
	msg := sprintf(`container "%s" runs privileged (securityContext.privileged: true)`, [c.name])
}
