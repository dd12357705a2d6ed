package main

import rego.v1

# METADATA
# title: Image without a tag, or tagged latest
# description: >-
#   An image reference without a tag means ":latest", and ":latest" is a moving pointer: the same
#   manifest deploys different code on every pull, a rollback redeploys whatever latest is today,
#   and nothing in Git records what ran. Pin a version tag, or better a digest
#   (image@sha256:...), so the manifest in Git is the exact thing that runs.
# custom:
#   kinds: data.lib.pod_kinds
#   id: image-latest
#   severity: error
deny_image_latest contains msg if {
	some c in data.lib.input_containers
	not contains(c.image, "@")
	# The last path segment without a tag, or tagged latest ("host:5000/app" has a port, not a tag).
	regex.match(`(^|/)[^/:]+(:latest)?$`, c.image)
	msg := sprintf(`container "%s" uses image "%s" without a version: pin a tag other than latest, or a digest`, [c.name, c.image])
}
