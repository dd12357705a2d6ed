package main

import rego.v1

# METADATA
# title: Writable root filesystem
# description: >-
#   With a writable root filesystem an attacker can drop tools and binaries into the container and
#   modify the application in place, and the image no longer describes what runs. Set
#   securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the program must write
#   (/tmp, caches).
# custom:
#   kinds: data.lib.pod_kinds
#   id: readonly-root-filesystem
#   severity: warning
warn_readonly_root_filesystem contains msg if {
	some c in data.lib.input_containers
	not c.securityContext.readOnlyRootFilesystem == true
	msg := sprintf(`container "%s" does not set securityContext.readOnlyRootFilesystem: true`, [c.name])
}
