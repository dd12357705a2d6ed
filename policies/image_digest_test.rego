package main

import rego.v1

test_image_digest_fails_on_tag_only if {
	count(deny_image_digest) == 1 with input as {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "ghcr.io/acme/a:1.0"}]}}
		with data.promoter.require_digest as true
}

test_image_digest_passes_with_digest if {
	count(deny_image_digest) == 0 with input as {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "ghcr.io/acme/a:1.0@sha256:abc"}]}}
		with data.promoter.require_digest as true
}

test_image_digest_passes_where_not_required if {
	count(deny_image_digest) == 0 with input as {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "ghcr.io/acme/a:1.0"}]}}
		with data.promoter.require_digest as false
}
