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
#   id: secret-plaintext
#   severity: error
deny_secret_plaintext contains msg if {
	some msg in secret_plaintext(input)
}

secret_plaintext(obj) := {msg |
	obj.kind == "Secret"
	not is_object(obj.sops)
	keys := plaintext_keys(obj)
	count(keys) > 0
	msg := concat("", [
		"Secret holds plaintext values in Git (keys: ", concat(", ", sort(keys)), "); base64 is not encryption. ",
		"Encrypt the file with SOPS (sops --encrypt --encrypted-regex '^(data|stringData)$' --in-place FILE), ",
		"or replace it with a SealedSecret (kubeseal) or an ExternalSecret (External Secrets Operator)",
	])
}

# Keys whose value is not a SOPS ENC[...] envelope.
plaintext_keys(obj) := [key |
	some field in ["data", "stringData"]
	values := object.get(obj, field, {})
	# "some key, value in" inside a comprehension does not parse in rego-cpp 1.5.
	some key
	value := values[key]
	not sops_value(value)
]

sops_value(value) if startswith(value, "ENC[")
