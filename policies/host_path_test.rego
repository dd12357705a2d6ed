package main

import rego.v1

import data.lib

hostpath_job(volumes) := {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:1"}], "volumes": volumes}}}}

test_host_path_fails_on_host_path_volume if {
	count(host_path(lib.pod_spec(hostpath_job([{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}])))) == 1
}

test_host_path_passes_on_empty_dir if {
	count(host_path(lib.pod_spec(hostpath_job([{"name": "scratch", "emptyDir": {}}])))) == 0
}
