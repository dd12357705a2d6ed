package main

import rego.v1

test_host_namespaces_fails_on_host_network if {
	deny_host_namespaces == {"the pod shares the node's namespace: hostNetwork: true"} with input as {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"hostNetwork": true, "containers": [{"name": "a", "image": "a:1"}]}}
}

test_host_namespaces_fails_on_each if {
	count(deny_host_namespaces) == 3 with input as {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"hostNetwork": true, "hostPID": true, "hostIPC": true, "containers": [{"name": "a", "image": "a:1"}]}}
}

test_host_namespaces_passes_when_false if {
	count(deny_host_namespaces) == 0 with input as {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"hostNetwork": false, "containers": [{"name": "a", "image": "a:1"}]}}
}
