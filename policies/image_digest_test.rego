package main

import rego.v1

import data.lib

digest_pod(image) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": image}]}}

test_image_digest_fails_on_tag_only if {
	count(image_digest(lib.containers(digest_pod("ghcr.io/acme/web:1.4.2")))) == 1
}

test_image_digest_passes_on_digest if {
	count(image_digest(lib.containers(digest_pod("ghcr.io/acme/web:1.4.2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")))) == 0
}
