package main

import rego.v1

plain_secret := {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "type": "Opaque", "data": {"password": "aHVudGVyMg=="}, "stringData": {"user": "admin"}}

test_secret_plaintext_fails_on_data_and_string_data if {
	msgs := deny_secret_plaintext with input as plain_secret
	count(msgs) == 1
	some msg in msgs
	contains(msg, "keys: password, user")
	contains(msg, "SOPS")
	contains(msg, "SealedSecret")
	contains(msg, "ExternalSecret")
}

test_secret_plaintext_passes_with_sops_block if {
	sops := object.union(plain_secret, {
		"data": {"password": "ENC[AES256_GCM,data:abc=,iv:def=,tag:ghi=,type:str]"},
		"stringData": {},
		"sops": {"mac": "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]", "lastmodified": "2026-01-01T00:00:00Z", "version": "3.9.0"},
	})
	count(deny_secret_plaintext) == 0 with input as sops
}

test_secret_plaintext_passes_with_enc_values_only if {
	count(deny_secret_plaintext) == 0 with input as {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"password": "ENC[AES256_GCM,data:abc=,iv:def=,tag:ghi=,type:str]"}}
}

test_secret_plaintext_passes_on_empty_secret if {
	count(deny_secret_plaintext) == 0 with input as {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"}, "type": "kubernetes.io/service-account-token"}
}

test_secret_plaintext_passes_on_sealed_secret if {
	count(deny_secret_plaintext) == 0 with input as {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "db"}, "spec": {"encryptedData": {"password": "AgBy3i4OJSWK+PiTySYZZA=="}}}
}

test_secret_plaintext_passes_on_external_secret if {
	count(deny_secret_plaintext) == 0 with input as {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "db"}, "spec": {"data": [{"secretKey": "password", "remoteRef": {"key": "db/password"}}]}}
}
