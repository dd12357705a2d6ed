package main

import rego.v1

import data.lib

nonroot_deployment(pod_sc, container_sc) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {
	"securityContext": pod_sc,
	"containers": [{"name": "app", "image": "a:1", "securityContext": container_sc}],
}}}}

nonroot_check(pod_sc, container_sc) := count(run_as_non_root(lib.pod_spec(d), lib.containers(d))) if {
	d := nonroot_deployment(pod_sc, container_sc)
}

test_run_as_non_root_fails_when_unset if {
	nonroot_check({}, {}) == 1
}

test_run_as_non_root_fails_when_container_overrides_pod if {
	nonroot_check({"runAsNonRoot": true}, {"runAsNonRoot": false}) == 1
}

test_run_as_non_root_fails_on_uid_zero if {
	nonroot_check({"runAsNonRoot": true, "runAsUser": 0}, {}) == 1
}

test_run_as_non_root_passes_from_pod_level if {
	nonroot_check({"runAsNonRoot": true}, {}) == 0
}

test_run_as_non_root_passes_from_container_level if {
	nonroot_check({}, {"runAsNonRoot": true, "runAsUser": 1000}) == 0
}
