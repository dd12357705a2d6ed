package main

import rego.v1

# METADATA
# title: Image not pinned by digest
# description: >-
#   A tag can be moved or re-pushed after review; a digest cannot. In environments configured to
#   require digests (an environment's gates.digest_required in .promoter.yaml, passed to policies as
#   data.promoter.require_digest), every image must carry @sha256:..., so what was tested in the
#   previous environment is byte for byte what runs here. Other environments skip this rule.
# custom:
#   kinds: data.lib.pod_kinds
#   id: image-digest
#   severity: error
deny_image_digest contains msg if {
	data.promoter.require_digest == true
	some c in data.lib.input_containers
	not contains(c.image, "@")
	msg := sprintf(`container "%s" uses image "%s" without a digest: this environment requires image@sha256:...`, [c.name, c.image])
}
