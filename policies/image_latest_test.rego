package main

import rego.v1

image_pod(image) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": image}]}}

test_image_latest_fails_on_latest_tag if {
	deny_image_latest == {`container "app" uses image "nginx:latest" without a version: pin a tag other than latest, or a digest`} with input as image_pod("nginx:latest")
}

test_image_latest_fails_without_tag if {
	count(deny_image_latest) == 1 with input as image_pod("ghcr.io/acme/app")
}

test_image_latest_fails_on_registry_port_without_tag if {
	count(deny_image_latest) == 1 with input as image_pod("localhost:5000/app")
}

test_image_latest_passes_with_version_tag if {
	count(deny_image_latest) == 0 with input as image_pod("ghcr.io/acme/app:1.4.2")
}

test_image_latest_passes_with_digest if {
	count(deny_image_latest) == 0 with input as image_pod("ghcr.io/acme/app@sha256:0123")
}

test_image_latest_passes_for_init_containers_with_tags if {
	count(deny_image_latest) == 0 with input as {"kind": "Pod", "spec": {"initContainers": [{"name": "i", "image": "busybox:1.36"}], "containers": [{"name": "a", "image": "a:1"}]}}
}
