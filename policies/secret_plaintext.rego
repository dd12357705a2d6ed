package main

import rego.v1

# METADATA
# title: Plaintext Secret in Git
# description: >-
#   A Secret's data is base64, an encoding anyone can reverse, not encryption: a Secret with data
#   or stringData committed to Git gives its values to everyone who can read the repository, its
#   forks and its history, forever. Commit it encrypted with SOPS (the file then carries a
#   top-level sops: block and ENC[AES256_GCM,...] values), or commit a SealedSecret (kubeseal) or
#   an ExternalSecret (External Secrets Operator) that references a secret store instead.
# custom:
#   kinds: [Secret]
#   id: secret-plaintext
#   severity: error
deny_secret_plaintext contains msg if {
	input.kind == "Secret"
	# object.get, not `not is_object(input.sops)`: OPA moves a missing reference out of the
	# negation, so that form is undefined (never fails) under OPA and conftest when sops is absent.
	not is_object(object.get(input, "sops", null))
	keys := [key |
		some field in ["data", "stringData"]
		some key, value in object.get(input, field, {})
		not startswith(value, "ENC[")
	]
	count(keys) > 0
	msg := sprintf(
		"Secret holds plaintext values in Git (keys: %s); base64 is not encryption. Encrypt the file with SOPS (sops --encrypt --encrypted-regex '^(data|stringData)$' --in-place FILE), or replace it with a SealedSecret (kubeseal) or an ExternalSecret (External Secrets Operator)",
		[concat(", ", sort(keys))],
	)
}
