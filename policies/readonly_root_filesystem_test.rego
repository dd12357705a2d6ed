package main

import rego.v1

test_readonly_root_filesystem_fails_when_unset if {
	count(warn_readonly_root_filesystem) == 1 with input as {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": "a:1"}]}}
}

test_readonly_root_filesystem_passes_when_true if {
	count(warn_readonly_root_filesystem) == 0 with input as {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": "a:1", "securityContext": {"readOnlyRootFilesystem": true}}]}}
}
