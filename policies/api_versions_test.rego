package main

import rego.v1

old_cronjob := {"apiVersion": "batch/v1beta1", "kind": "CronJob", "metadata": {"name": "c"}}

old_hpa := {"apiVersion": "autoscaling/v2beta2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"}}

test_api_removed_fails_after_removal if {
	deny_api_removed == {"batch/v1beta1 CronJob was removed in Kubernetes 1.25 (target is 1.32.0): use batch/v1"} with input as old_cronjob
		with data.promoter.kubernetes_version as "1.32.0"
}

test_api_removed_fails_for_extensions_ingress if {
	count(deny_api_removed) == 1 with input as {"apiVersion": "extensions/v1beta1", "kind": "Ingress"}
		with data.promoter.kubernetes_version as "1.22"
}

test_api_removed_fails_for_flowcontrol_v1beta3_at_132 if {
	count(deny_api_removed) == 1 with input as {"apiVersion": "flowcontrol.apiserver.k8s.io/v1beta3", "kind": "FlowSchema"}
		with data.promoter.kubernetes_version as "v1.32.1"
}

test_api_removed_passes_before_removal if {
	count(deny_api_removed) == 0 with input as old_cronjob with data.promoter.kubernetes_version as "1.24.0"
}

test_api_removed_passes_current_api if {
	count(deny_api_removed) == 0 with input as {"apiVersion": "batch/v1", "kind": "CronJob"}
		with data.promoter.kubernetes_version as "1.32.0"
}

test_api_deprecated_fails_between_deprecation_and_removal if {
	count(warn_api_deprecated) == 1 with input as old_hpa with data.promoter.kubernetes_version as "1.24.0"
}

test_api_deprecated_passes_before_deprecation if {
	count(warn_api_deprecated) == 0 with input as old_hpa with data.promoter.kubernetes_version as "1.22.0"
}

test_api_deprecated_passes_after_removal if {
	# Once removed, api-removed reports it; api-deprecated stays quiet.
	count(warn_api_deprecated) == 0 with input as old_hpa with data.promoter.kubernetes_version as "1.26.0"
}
