package main

import rego.v1

# METADATA
# title: hostPath volume
# description: >-
#   A hostPath volume mounts a folder of the node into the pod. Writable, it can plant files the
#   node executes; read-only, it can still leak credentials, kubelet state or other pods' data
#   (/var/lib/kubelet, /etc, the container runtime socket). Use a PersistentVolumeClaim, a
#   ConfigMap/Secret or an emptyDir instead.
# custom:
#   kinds: data.lib.pod_kinds
#   id: host-path
#   severity: error
deny_host_path contains msg if {
	some v in object.get(data.lib.input_pod_spec, "volumes", [])
	v.hostPath
	msg := sprintf(`volume "%s" mounts the node's path %s (hostPath)`, [v.name, object.get(v.hostPath, "path", "")])
}
