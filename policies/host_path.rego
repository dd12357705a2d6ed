package main

import rego.v1

import data.lib

# METADATA
# title: hostPath volume
# description: >-
#   A hostPath volume mounts a folder of the node into the pod. Writable, it can plant files the
#   node executes; read-only, it can still leak credentials, kubelet state or other pods' data
#   (/var/lib/kubelet, /etc, the container runtime socket). Use a PersistentVolumeClaim, a
#   ConfigMap/Secret or an emptyDir instead.
# custom:
#   id: host-path
#   severity: error
deny_host_path contains msg if {
	some msg in host_path(lib.input_pod_spec)
}

host_path(spec) := {msg |
	some v in object.get(spec, "volumes", [])
	v.hostPath
	msg := sprintf(`volume "%s" mounts the node's path %s (hostPath)`, [v.name, v.hostPath.path])
}
