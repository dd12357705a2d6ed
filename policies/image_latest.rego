package main

import rego.v1

import data.lib

# METADATA
# title: Image without a tag, or tagged latest
# description: >-
#   An image reference without a tag means ":latest", and ":latest" is a moving pointer: the same
#   manifest deploys different code on every pull, a rollback redeploys whatever latest is today,
#   and nothing in Git records what ran. Pin a version tag, or better a digest
#   (image@sha256:...), so the manifest in Git is the exact thing that runs.
# custom:
#   id: image-latest
#   severity: error
deny_image_latest contains msg if {
	some msg in image_latest(lib.input_containers)
}

image_latest(containers) := {msg |
	some c in containers
	not lib.image_has_digest(c.image)
	unpinned_tag(c.image)
	msg := sprintf(`container "%s" uses image "%s" without a version: pin a tag other than latest, or a digest`, [c.name, c.image])
}

unpinned_tag(image) if not lib.image_has_tag(image)

unpinned_tag(image) if lib.image_tag(image) == "latest"
