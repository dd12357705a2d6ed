package main

import rego.v1

import data.lib

pod_with_image(image) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": image}]}}

test_image_latest_fails_on_latest if {
	count(image_latest(lib.containers(pod_with_image("nginx:latest")))) == 1
}

test_image_latest_fails_without_tag if {
	count(image_latest(lib.containers(pod_with_image("ghcr.io/acme/web")))) == 1
}

test_image_latest_fails_with_registry_port_but_no_tag if {
	count(image_latest(lib.containers(pod_with_image("registry.local:5000/acme/web")))) == 1
}

test_image_latest_passes_on_version_tag if {
	count(image_latest(lib.containers(pod_with_image("ghcr.io/acme/web:1.4.2")))) == 0
}

test_image_latest_passes_on_digest if {
	count(image_latest(lib.containers(pod_with_image("ghcr.io/acme/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")))) == 0
}

test_image_latest_checks_init_containers_of_cronjobs if {
	cronjob := {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {
		"containers": [{"name": "main", "image": "busybox:1.36"}],
		"initContainers": [{"name": "init", "image": "busybox"}],
	}}}}}}
	count(image_latest(lib.containers(cronjob))) == 1
}
