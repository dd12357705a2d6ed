package main

import rego.v1

nonroot_deployment(pod_sc, container_sc) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {
	"securityContext": pod_sc,
	"containers": [{"name": "app", "image": "a:1", "securityContext": container_sc}],
}}}}

test_run_as_non_root_fails_when_unset if {
	count(run_as_non_root(nonroot_deployment({}, {}))) == 1
}

test_run_as_non_root_fails_when_container_overrides_pod if {
	count(run_as_non_root(nonroot_deployment({"runAsNonRoot": true}, {"runAsNonRoot": false}))) == 1
}

test_run_as_non_root_fails_on_uid_zero if {
	count(run_as_non_root(nonroot_deployment({"runAsNonRoot": true, "runAsUser": 0}, {}))) == 1
}

test_run_as_non_root_passes_from_pod_level if {
	count(run_as_non_root(nonroot_deployment({"runAsNonRoot": true}, {}))) == 0
}

test_run_as_non_root_passes_from_container_level if {
	count(run_as_non_root(nonroot_deployment({}, {"runAsNonRoot": true, "runAsUser": 1000}))) == 0
}
