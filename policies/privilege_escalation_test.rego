package main

import rego.v1

escalation_pod(sc) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": "a:1", "securityContext": sc}]}}

test_privilege_escalation_fails_when_unset if {
	count(warn_privilege_escalation) == 1 with input as escalation_pod({})
}

test_privilege_escalation_fails_when_true if {
	count(warn_privilege_escalation) == 1 with input as escalation_pod({"allowPrivilegeEscalation": true})
}

test_privilege_escalation_passes_when_false if {
	count(warn_privilege_escalation) == 0 with input as escalation_pod({"allowPrivilegeEscalation": false})
}
