package main

import rego.v1

import data.lib

readonly_replicaset(sc) := {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs"}, "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:1", "securityContext": sc}]}}}}

test_readonly_root_filesystem_fails_when_unset if {
	count(readonly_root_filesystem(lib.containers(readonly_replicaset({})))) == 1
}

test_readonly_root_filesystem_passes_when_true if {
	count(readonly_root_filesystem(lib.containers(readonly_replicaset({"readOnlyRootFilesystem": true})))) == 0
}
