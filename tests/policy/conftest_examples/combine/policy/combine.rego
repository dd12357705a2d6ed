# With --combine the input is every file at once: [{"path": ..., "contents": ...}, ...].
package main

import rego.v1

deployments := [d |
	some file in input
	d := file.contents
	d.kind == "Deployment"
]

deny contains msg if {
	some file in input
	svc := file.contents
	svc.kind == "Service"
	not selects_a_deployment(svc)
	msg := sprintf("Service %s (%s) selects no Deployment's pods", [svc.metadata.name, file.path])
}

selects_a_deployment(svc) if {
	some d in deployments
	labels := d.spec.template.metadata.labels
	every key, value in svc.spec.selector {
		labels[key] == value
	}
}
