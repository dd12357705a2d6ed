package main

import rego.v1

test_host_path_fails_on_host_path_volume if {
	deny_host_path == {`volume "logs" mounts the node's path /var/log (hostPath)`} with input as {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"volumes": [{"name": "logs", "hostPath": {"path": "/var/log"}}], "containers": [{"name": "a", "image": "a:1"}]}}
}

test_host_path_passes_on_empty_dir if {
	count(deny_host_path) == 0 with input as {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"volumes": [{"name": "tmp", "emptyDir": {}}], "containers": [{"name": "a", "image": "a:1"}]}}
}
