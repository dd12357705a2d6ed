package main

import rego.v1

nonroot_deployment(pod_sc, container_sc) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {
	"securityContext": pod_sc,
	"containers": [{"name": "app", "image": "a:1", "securityContext": container_sc}],
}}}}

test_run_as_non_root_fails_when_unset if {
	count(deny_run_as_non_root) == 1 with input as nonroot_deployment({}, {})
}

test_run_as_non_root_fails_when_container_overrides_pod if {
	count(deny_run_as_non_root) == 1 with input as nonroot_deployment({"runAsNonRoot": true}, {"runAsNonRoot": false})
}

test_run_as_non_root_fails_on_uid_zero if {
	count(deny_run_as_non_root) == 1 with input as nonroot_deployment({"runAsNonRoot": true, "runAsUser": 0}, {})
}

test_run_as_non_root_passes_from_pod_level if {
	count(deny_run_as_non_root) == 0 with input as nonroot_deployment({"runAsNonRoot": true}, {})
}

test_run_as_non_root_passes_from_container_level if {
	count(deny_run_as_non_root) == 0 with input as nonroot_deployment({}, {"runAsNonRoot": true, "runAsUser": 1000})
}
