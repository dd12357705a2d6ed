# The Kubernetes API versions that were deprecated and then removed (from the upstream
# deprecation guide: https://kubernetes.io/docs/reference/using-api/deprecation-guide/).
package lib

import rego.v1

# apiVersion -> kind -> deprecated in, removed in (Kubernetes minor versions), and the replacement:
# indexed the way rules look it up, so a resource costs two key lookups whatever the table size.
api_removals := {
	"extensions/v1beta1": {
		"Deployment": {"deprecated": "1.9", "removed": "1.16", "replacement": "apps/v1"},
		"DaemonSet": {"deprecated": "1.9", "removed": "1.16", "replacement": "apps/v1"},
		"ReplicaSet": {"deprecated": "1.9", "removed": "1.16", "replacement": "apps/v1"},
		"NetworkPolicy": {"deprecated": "1.9", "removed": "1.16", "replacement": "networking.k8s.io/v1"},
		"PodSecurityPolicy": {"deprecated": "1.10", "removed": "1.16", "replacement": "Pod Security Admission (no API object)"},
		"Ingress": {"deprecated": "1.14", "removed": "1.22", "replacement": "networking.k8s.io/v1"},
	},
	"apps/v1beta1": {
		"Deployment": {"deprecated": "1.9", "removed": "1.16", "replacement": "apps/v1"},
		"StatefulSet": {"deprecated": "1.9", "removed": "1.16", "replacement": "apps/v1"},
	},
	"apps/v1beta2": {
		"Deployment": {"deprecated": "1.9", "removed": "1.16", "replacement": "apps/v1"},
		"StatefulSet": {"deprecated": "1.9", "removed": "1.16", "replacement": "apps/v1"},
		"DaemonSet": {"deprecated": "1.9", "removed": "1.16", "replacement": "apps/v1"},
		"ReplicaSet": {"deprecated": "1.9", "removed": "1.16", "replacement": "apps/v1"},
	},
	"networking.k8s.io/v1beta1": {
		"Ingress": {"deprecated": "1.19", "removed": "1.22", "replacement": "networking.k8s.io/v1"},
		"IngressClass": {"deprecated": "1.19", "removed": "1.22", "replacement": "networking.k8s.io/v1"},
	},
	"admissionregistration.k8s.io/v1beta1": {
		"MutatingWebhookConfiguration": {"deprecated": "1.16", "removed": "1.22", "replacement": "admissionregistration.k8s.io/v1"},
		"ValidatingWebhookConfiguration": {"deprecated": "1.16", "removed": "1.22", "replacement": "admissionregistration.k8s.io/v1"},
	},
	"apiextensions.k8s.io/v1beta1": {
		"CustomResourceDefinition": {"deprecated": "1.16", "removed": "1.22", "replacement": "apiextensions.k8s.io/v1"},
	},
	"apiregistration.k8s.io/v1beta1": {
		"APIService": {"deprecated": "1.19", "removed": "1.22", "replacement": "apiregistration.k8s.io/v1"},
	},
	"certificates.k8s.io/v1beta1": {
		"CertificateSigningRequest": {"deprecated": "1.19", "removed": "1.22", "replacement": "certificates.k8s.io/v1"},
	},
	"coordination.k8s.io/v1beta1": {
		"Lease": {"deprecated": "1.19", "removed": "1.22", "replacement": "coordination.k8s.io/v1"},
	},
	"rbac.authorization.k8s.io/v1beta1": {
		"ClusterRole": {"deprecated": "1.17", "removed": "1.22", "replacement": "rbac.authorization.k8s.io/v1"},
		"ClusterRoleBinding": {"deprecated": "1.17", "removed": "1.22", "replacement": "rbac.authorization.k8s.io/v1"},
		"Role": {"deprecated": "1.17", "removed": "1.22", "replacement": "rbac.authorization.k8s.io/v1"},
		"RoleBinding": {"deprecated": "1.17", "removed": "1.22", "replacement": "rbac.authorization.k8s.io/v1"},
	},
	"scheduling.k8s.io/v1beta1": {
		"PriorityClass": {"deprecated": "1.14", "removed": "1.22", "replacement": "scheduling.k8s.io/v1"},
	},
	"storage.k8s.io/v1beta1": {
		"CSIDriver": {"deprecated": "1.19", "removed": "1.22", "replacement": "storage.k8s.io/v1"},
		"CSINode": {"deprecated": "1.17", "removed": "1.22", "replacement": "storage.k8s.io/v1"},
		"StorageClass": {"deprecated": "1.19", "removed": "1.22", "replacement": "storage.k8s.io/v1"},
		"VolumeAttachment": {"deprecated": "1.19", "removed": "1.22", "replacement": "storage.k8s.io/v1"},
		"CSIStorageCapacity": {"deprecated": "1.24", "removed": "1.27", "replacement": "storage.k8s.io/v1"},
	},
	"batch/v1beta1": {
		"CronJob": {"deprecated": "1.21", "removed": "1.25", "replacement": "batch/v1"},
	},
	"discovery.k8s.io/v1beta1": {
		"EndpointSlice": {"deprecated": "1.21", "removed": "1.25", "replacement": "discovery.k8s.io/v1"},
	},
	"events.k8s.io/v1beta1": {
		"Event": {"deprecated": "1.19", "removed": "1.25", "replacement": "events.k8s.io/v1"},
	},
	"autoscaling/v2beta1": {
		"HorizontalPodAutoscaler": {"deprecated": "1.22", "removed": "1.25", "replacement": "autoscaling/v2"},
	},
	"policy/v1beta1": {
		"PodDisruptionBudget": {"deprecated": "1.21", "removed": "1.25", "replacement": "policy/v1"},
		"PodSecurityPolicy": {"deprecated": "1.21", "removed": "1.25", "replacement": "Pod Security Admission (no API object)"},
	},
	"node.k8s.io/v1beta1": {
		"RuntimeClass": {"deprecated": "1.20", "removed": "1.25", "replacement": "node.k8s.io/v1"},
	},
	"autoscaling/v2beta2": {
		"HorizontalPodAutoscaler": {"deprecated": "1.23", "removed": "1.26", "replacement": "autoscaling/v2"},
	},
	"flowcontrol.apiserver.k8s.io/v1beta1": {
		"FlowSchema": {"deprecated": "1.23", "removed": "1.26", "replacement": "flowcontrol.apiserver.k8s.io/v1"},
		"PriorityLevelConfiguration": {"deprecated": "1.23", "removed": "1.26", "replacement": "flowcontrol.apiserver.k8s.io/v1"},
	},
	"flowcontrol.apiserver.k8s.io/v1beta2": {
		"FlowSchema": {"deprecated": "1.26", "removed": "1.29", "replacement": "flowcontrol.apiserver.k8s.io/v1"},
		"PriorityLevelConfiguration": {"deprecated": "1.26", "removed": "1.29", "replacement": "flowcontrol.apiserver.k8s.io/v1"},
	},
	"flowcontrol.apiserver.k8s.io/v1beta3": {
		"FlowSchema": {"deprecated": "1.29", "removed": "1.32", "replacement": "flowcontrol.apiserver.k8s.io/v1"},
		"PriorityLevelConfiguration": {"deprecated": "1.29", "removed": "1.32", "replacement": "flowcontrol.apiserver.k8s.io/v1"},
	},
}
