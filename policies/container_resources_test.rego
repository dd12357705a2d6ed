package main

import rego.v1

resources_deployment(resources) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:1", "resources": resources}]}}}}

test_container_resources_fails_without_limits if {
	warn_container_resources == {`container "app" has no resources.limits.cpu, resources.limits.memory`} with input as resources_deployment({"requests": {"cpu": "1", "memory": "1Gi"}})
}

test_container_resources_fails_without_any if {
	count(warn_container_resources) == 1 with input as resources_deployment({})
}

test_container_resources_passes_with_all_four if {
	count(warn_container_resources) == 0 with input as resources_deployment({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}})
}
