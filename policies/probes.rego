package main

import rego.v1

# METADATA
# title: Missing readiness or liveness probe
# description: >-
#   Without a readiness probe a pod receives traffic as soon as its process starts, before it can
#   serve, and a rolling update can replace working pods with broken ones without stopping.
#   Without a liveness probe a hung process is never restarted. Long-running workloads
#   (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController) should declare both
#   on every main container; Jobs and CronJobs are exempt because they run to completion.
# custom:
#   kinds: data.lib.long_running_kinds
#   id: probes
#   severity: warning
warn_probes contains msg if {
	input.kind in data.lib.long_running_kinds
	some c in data.lib.input_main_containers
	some probe in ["readinessProbe", "livenessProbe"]
	not c[probe]
	msg := sprintf(`container "%s" has no %s`, [c.name, probe])
}
