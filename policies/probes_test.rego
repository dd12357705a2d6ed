package main

import rego.v1

import data.lib

probe_spec := {"httpGet": {"path": "/healthz", "port": 8080}}

test_probes_fails_without_probes if {
	count(probes("Deployment", [{"name": "app", "image": "a:1"}])) == 2
}

test_probes_fails_without_liveness if {
	probes("Deployment", [{"name": "app", "image": "a:1", "readinessProbe": probe_spec}]) == {`container "app" has no livenessProbe`}
}

test_probes_passes_with_both if {
	count(probes("Deployment", [{"name": "app", "image": "a:1", "readinessProbe": probe_spec, "livenessProbe": probe_spec}])) == 0
}

test_probes_skips_jobs if {
	job := {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:1"}]}}}}
	count(probes(job.kind, lib.main_containers(job))) == 0
}
