package main

import rego.v1

probe_workload(kind, container) := {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "w"}, "spec": {"template": {"spec": {"containers": [container]}}}}

both := {"name": "app", "image": "a:1", "readinessProbe": {"tcpSocket": {"port": 80}}, "livenessProbe": {"tcpSocket": {"port": 80}}}

test_probes_fails_without_readiness if {
	warn_probes == {`container "app" has no readinessProbe`} with input as probe_workload("Deployment", object.remove(both, ["readinessProbe"]))
}

test_probes_fails_without_both if {
	count(warn_probes) == 2 with input as probe_workload("StatefulSet", {"name": "app", "image": "a:1"})
}

test_probes_passes_with_both if {
	count(warn_probes) == 0 with input as probe_workload("Deployment", both)
}

test_probes_passes_for_jobs if {
	count(warn_probes) == 0 with input as probe_workload("Job", {"name": "app", "image": "a:1"})
}
