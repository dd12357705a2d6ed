package main

import rego.v1

import data.lib

hostns_pod(spec) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": object.union({"containers": [{"name": "app", "image": "a:1"}]}, spec)}

test_host_namespaces_fails_on_each_field if {
	count(host_namespaces(lib.pod_spec(hostns_pod({"hostNetwork": true, "hostPID": true, "hostIPC": true})))) == 3
}

test_host_namespaces_passes_when_false if {
	count(host_namespaces(lib.pod_spec(hostns_pod({"hostNetwork": false})))) == 0
}

test_host_namespaces_passes_when_unset if {
	count(host_namespaces(lib.pod_spec(hostns_pod({})))) == 0
}
