# Helpers shared by the default pack: the parts of an image reference. Single-definition functions
# of builtins: they run for every container of every resource, so each call is kept cheap.
package lib

import rego.v1

# The registry host: the first segment when it looks like one (a dot or a port, or localhost).
image_registry(image) := parts[0] if {
	parts := split(image, "/")
	count(parts) > 1
	regex.match(`[.:]|^localhost$`, parts[0])
} else := "docker.io"

# The image with its registry spelled out, as Docker resolves short names.
image_full(image, registry) := image if startswith(image, concat("", [registry, "/"]))

else := concat("/", ["docker.io", image]) if contains(image, "/")

else := concat("/", ["docker.io", "library", image])

# An allowlist entry is a registry host ("ghcr.io") or a repository prefix ("ghcr.io/acme").
image_allowed(image, allowed) if {
	# Most images and entries name a registry host: a plain prefix test settles them without parsing.
	some entry in allowed
	prefix := trim_suffix(entry, "/")
	contains(split(prefix, "/")[0], ".")
	startswith(image, concat("", [prefix, "/"]))
} else if {
	registry := image_registry(image)
	some entry in allowed
	registry == trim_suffix(entry, "/")
} else if {
	full := image_full(image, image_registry(image))
	some entry in allowed
	startswith(full, concat("", [trim_suffix(entry, "/"), "/"]))
}
