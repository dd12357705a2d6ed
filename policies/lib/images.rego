# Helpers shared by the default pack: the parts of an image reference.
package lib

import rego.v1

# The last path segment, "name[:tag][@digest]".
image_last(image) := parts[count(parts) - 1] if parts := split(image, "/")

image_has_digest(image) if contains(image, "@")

# The tag, when there is one (a registry port "host:5000/x" is not a tag).
image_tag(image) := tag if {
	name := split(image_last(image), "@")[0]
	parts := split(name, ":")
	count(parts) > 1
	tag := parts[1]
}

image_has_tag(image) if image_tag(image)

# The first segment names a registry when it looks like a host (has a dot or port, or is localhost).
image_has_registry(image) if {
	parts := split(image, "/")
	count(parts) > 1
	host_like(parts[0])
}

host_like(s) if contains(s, ".")

host_like(s) if contains(s, ":")

host_like(s) if s == "localhost"

image_registry(image) := split(image, "/")[0] if image_has_registry(image)

image_registry(image) := "docker.io" if not image_has_registry(image)

# The image with its registry spelled out, as Docker resolves short names.
image_full(image) := image if image_has_registry(image)

image_full(image) := concat("/", ["docker.io", image]) if {
	not image_has_registry(image)
	contains(image, "/")
}

image_full(image) := concat("/", ["docker.io", "library", image]) if {
	not image_has_registry(image)
	not contains(image, "/")
}

# An allowlist entry is a registry host ("ghcr.io") or a repository prefix ("ghcr.io/acme").
image_allowed(image, allowed) if {
	some entry in allowed
	image_registry(image) == trim_suffix(entry, "/")
}

image_allowed(image, allowed) if {
	some entry in allowed
	startswith(image_full(image), concat("", [trim_suffix(entry, "/"), "/"]))
}
