package main

import rego.v1

privileged_pod(sc) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": "a:1", "securityContext": sc}]}}

test_privileged_fails_when_privileged if {
	deny_privileged == {`container "app" runs privileged (securityContext.privileged: true)`} with input as privileged_pod({"privileged": true})
}

test_privileged_passes_when_false if {
	count(deny_privileged) == 0 with input as privileged_pod({"privileged": false})
}

test_privileged_passes_when_unset if {
	count(deny_privileged) == 0 with input as privileged_pod({})
}
