package main

import rego.v1

import data.lib

escalation_statefulset(sc) := {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"}, "spec": {"template": {"spec": {"containers": [{"name": "db", "image": "pg:16", "securityContext": sc}]}}}}

test_privilege_escalation_fails_when_unset if {
	count(privilege_escalation(lib.containers(escalation_statefulset({})))) == 1
}

test_privilege_escalation_fails_when_true if {
	count(privilege_escalation(lib.containers(escalation_statefulset({"allowPrivilegeEscalation": true})))) == 1
}

test_privilege_escalation_passes_when_false if {
	count(privilege_escalation(lib.containers(escalation_statefulset({"allowPrivilegeEscalation": false})))) == 0
}
