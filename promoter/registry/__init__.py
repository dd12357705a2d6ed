"""Registry: reading container images from OCI distribution registries (manifests, indexes, configs).

One noun per module: `endpoint` (an image name → the API URL and repository path, Docker Hub's
rules), `settings` (the `.promoter.yaml` `registries:` section), `credentials` (where a login
comes from), `auth` (the Bearer token and Basic challenges), `client` (bounded HTTP with
deadline and rate-limit handling), `manifest` (media types, platforms, what an image says about
itself) and `verification` (is this tag/digest the image we think it is).
"""
