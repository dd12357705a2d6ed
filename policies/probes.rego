package main

import rego.v1

import data.lib

# METADATA
# title: Missing readiness or liveness probe
# description: >-
#   Without a readiness probe a pod receives traffic as soon as its process starts, before it can
#   serve, and a rolling update can replace working pods with broken ones without stopping.
#   Without a liveness probe a hung process is never restarted. Long-running workloads
#   (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController) should declare both
#   on every main container; Jobs and CronJobs are exempt because they run to completion.
# custom:
#   id: probes
#   severity: warning
warn_probes contains msg if {
	some msg in probes(input.kind, lib.input_main_containers)
}

probes(kind, containers) := {msg |
	kind in lib.long_running_kinds
	some c in containers
	some probe in ["readinessProbe", "livenessProbe"]
	not c[probe]
	msg := sprintf(`container "%s" has no %s`, [c.name, probe])
}
