package main

import rego.v1

# METADATA
# title: Capabilities not dropped
# description: >-
#   Container runtimes grant a default set of Linux capabilities (CHOWN, SETUID, NET_RAW, ...)
#   that most programs never use; NET_RAW alone allows ARP and DNS spoofing inside the cluster
#   network. Drop ALL and add back only what the program needs
#   (securityContext.capabilities.drop: [ALL]).
# custom:
#   kinds: data.lib.pod_kinds
#   id: capabilities-drop
#   severity: warning
warn_capabilities_drop contains msg if {
	some c in data.lib.input_containers
	not drops_all(c)
	msg := sprintf(`container "%s" does not drop all capabilities (securityContext.capabilities.drop: [ALL])`, [c.name])
}

drops_all(c) if {
	some cap in c.securityContext.capabilities.drop
	upper(cap) == "ALL"
}
