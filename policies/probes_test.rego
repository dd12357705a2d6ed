package main

import rego.v1

probes_deployment(container) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [container]}}}}

probe_spec := {"httpGet": {"path": "/healthz", "port": 8080}}

test_probes_fails_without_probes if {
	count(probes(probes_deployment({"name": "app", "image": "a:1"}))) == 2
}

test_probes_fails_without_liveness if {
	probes(probes_deployment({"name": "app", "image": "a:1", "readinessProbe": probe_spec})) == {`container "app" has no livenessProbe`}
}

test_probes_passes_with_both if {
	count(probes(probes_deployment({"name": "app", "image": "a:1", "readinessProbe": probe_spec, "livenessProbe": probe_spec}))) == 0
}

test_probes_skips_jobs if {
	job := {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:1"}]}}}}
	count(probes(job)) == 0
}
