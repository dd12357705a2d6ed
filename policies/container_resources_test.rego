package main

import rego.v1

import data.lib

resources_deployment(resources) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:1", "resources": resources}]}}}}

test_container_resources_fails_without_limits if {
	msgs := container_resources(lib.containers(resources_deployment({"requests": {"cpu": "100m", "memory": "64Mi"}})))
	msgs == {`container "app" has no resources.limits.cpu, resources.limits.memory`}
}

test_container_resources_fails_without_anything if {
	count(container_resources(lib.containers(resources_deployment({})))) == 1
}

test_container_resources_passes_when_complete if {
	full := {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}}
	count(container_resources(lib.containers(resources_deployment(full)))) == 0
}
