package main

import rego.v1

caps_pod(sc) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": "a:1", "securityContext": sc}]}}

test_capabilities_drop_fails_when_unset if {
	count(warn_capabilities_drop) == 1 with input as caps_pod({})
}

test_capabilities_drop_fails_when_dropping_some if {
	count(warn_capabilities_drop) == 1 with input as caps_pod({"capabilities": {"drop": ["NET_RAW"]}})
}

test_capabilities_drop_passes_when_dropping_all if {
	count(warn_capabilities_drop) == 0 with input as caps_pod({"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}})
}
