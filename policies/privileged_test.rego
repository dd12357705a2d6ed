package main

import rego.v1

import data.lib

privileged_daemonset(sc) := {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ds"}, "spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "a:1", "securityContext": sc}]}}}}

test_privileged_fails_when_true if {
	count(privileged(lib.containers(privileged_daemonset({"privileged": true})))) == 1
}

test_privileged_passes_when_false if {
	count(privileged(lib.containers(privileged_daemonset({"privileged": false})))) == 0
}

test_privileged_passes_when_unset if {
	count(privileged(lib.containers(privileged_daemonset({})))) == 0
}
