package main

import rego.v1

import data.lib

caps_pod(sc) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": "a:1", "securityContext": sc}]}}

test_capabilities_drop_fails_when_unset if {
	count(capabilities_drop(lib.containers(caps_pod({})))) == 1
}

test_capabilities_drop_fails_when_dropping_some if {
	count(capabilities_drop(lib.containers(caps_pod({"capabilities": {"drop": ["NET_RAW"]}})))) == 1
}

test_capabilities_drop_passes_when_dropping_all if {
	count(capabilities_drop(lib.containers(caps_pod({"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}})))) == 0
}
