package main

import rego.v1

old_cronjob := {"apiVersion": "batch/v1beta1", "kind": "CronJob", "metadata": {"name": "c"}}

old_hpa := {"apiVersion": "autoscaling/v2beta2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"}}

test_api_removed_fails_after_removal if {
	api_removed(old_cronjob, "1.32.0") == {"batch/v1beta1 CronJob was removed in Kubernetes 1.25 (target is 1.32.0): use batch/v1"}
}

test_api_removed_fails_for_extensions_ingress if {
	count(api_removed({"apiVersion": "extensions/v1beta1", "kind": "Ingress"}, "1.22")) == 1
}

test_api_removed_fails_for_flowcontrol_v1beta3_at_132 if {
	count(api_removed({"apiVersion": "flowcontrol.apiserver.k8s.io/v1beta3", "kind": "FlowSchema"}, "v1.32.1")) == 1
}

test_api_removed_passes_before_removal if {
	count(api_removed(old_cronjob, "1.24.0")) == 0
}

test_api_removed_passes_current_api if {
	count(api_removed({"apiVersion": "batch/v1", "kind": "CronJob"}, "1.32.0")) == 0
}

test_api_deprecated_fails_between_deprecation_and_removal if {
	count(api_deprecated(old_hpa, "1.24.0")) == 1
}

test_api_deprecated_passes_before_deprecation if {
	count(api_deprecated(old_hpa, "1.22.0")) == 0
}

test_api_deprecated_passes_after_removal if {
	# Once removed, api-removed reports it; api-deprecated stays quiet.
	count(api_deprecated(old_hpa, "1.26.0")) == 0
}
