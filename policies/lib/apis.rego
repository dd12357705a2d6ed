# The Kubernetes API versions that were deprecated and then removed, by kind (from the upstream
# deprecation guide: https://kubernetes.io/docs/reference/using-api/deprecation-guide/).
package lib

import rego.v1

# One entry per (apiVersion, kind): deprecated in, removed in (Kubernetes minor versions), and the replacement.
api_removals := [
	{"apiVersion": "extensions/v1beta1", "kind": "Deployment", "deprecated": "1.9", "removed": "1.16", "replacement": "apps/v1"},
	{"apiVersion": "extensions/v1beta1", "kind": "DaemonSet", "deprecated": "1.9", "removed": "1.16", "replacement": "apps/v1"},
	{"apiVersion": "extensions/v1beta1", "kind": "ReplicaSet", "deprecated": "1.9", "removed": "1.16", "replacement": "apps/v1"},
	{"apiVersion": "extensions/v1beta1", "kind": "NetworkPolicy", "deprecated": "1.9", "removed": "1.16", "replacement": "networking.k8s.io/v1"},
	{"apiVersion": "extensions/v1beta1", "kind": "PodSecurityPolicy", "deprecated": "1.10", "removed": "1.16", "replacement": "Pod Security Admission (no API object)"},
	{"apiVersion": "extensions/v1beta1", "kind": "Ingress", "deprecated": "1.14", "removed": "1.22", "replacement": "networking.k8s.io/v1"},
	{"apiVersion": "apps/v1beta1", "kind": "Deployment", "deprecated": "1.9", "removed": "1.16", "replacement": "apps/v1"},
	{"apiVersion": "apps/v1beta1", "kind": "StatefulSet", "deprecated": "1.9", "removed": "1.16", "replacement": "apps/v1"},
	{"apiVersion": "apps/v1beta2", "kind": "Deployment", "deprecated": "1.9", "removed": "1.16", "replacement": "apps/v1"},
	{"apiVersion": "apps/v1beta2", "kind": "StatefulSet", "deprecated": "1.9", "removed": "1.16", "replacement": "apps/v1"},
	{"apiVersion": "apps/v1beta2", "kind": "DaemonSet", "deprecated": "1.9", "removed": "1.16", "replacement": "apps/v1"},
	{"apiVersion": "apps/v1beta2", "kind": "ReplicaSet", "deprecated": "1.9", "removed": "1.16", "replacement": "apps/v1"},
	{"apiVersion": "networking.k8s.io/v1beta1", "kind": "Ingress", "deprecated": "1.19", "removed": "1.22", "replacement": "networking.k8s.io/v1"},
	{"apiVersion": "networking.k8s.io/v1beta1", "kind": "IngressClass", "deprecated": "1.19", "removed": "1.22", "replacement": "networking.k8s.io/v1"},
	{"apiVersion": "admissionregistration.k8s.io/v1beta1", "kind": "MutatingWebhookConfiguration", "deprecated": "1.16", "removed": "1.22", "replacement": "admissionregistration.k8s.io/v1"},
	{"apiVersion": "admissionregistration.k8s.io/v1beta1", "kind": "ValidatingWebhookConfiguration", "deprecated": "1.16", "removed": "1.22", "replacement": "admissionregistration.k8s.io/v1"},
	{"apiVersion": "apiextensions.k8s.io/v1beta1", "kind": "CustomResourceDefinition", "deprecated": "1.16", "removed": "1.22", "replacement": "apiextensions.k8s.io/v1"},
	{"apiVersion": "apiregistration.k8s.io/v1beta1", "kind": "APIService", "deprecated": "1.19", "removed": "1.22", "replacement": "apiregistration.k8s.io/v1"},
	{"apiVersion": "certificates.k8s.io/v1beta1", "kind": "CertificateSigningRequest", "deprecated": "1.19", "removed": "1.22", "replacement": "certificates.k8s.io/v1"},
	{"apiVersion": "coordination.k8s.io/v1beta1", "kind": "Lease", "deprecated": "1.19", "removed": "1.22", "replacement": "coordination.k8s.io/v1"},
	{"apiVersion": "rbac.authorization.k8s.io/v1beta1", "kind": "ClusterRole", "deprecated": "1.17", "removed": "1.22", "replacement": "rbac.authorization.k8s.io/v1"},
	{"apiVersion": "rbac.authorization.k8s.io/v1beta1", "kind": "ClusterRoleBinding", "deprecated": "1.17", "removed": "1.22", "replacement": "rbac.authorization.k8s.io/v1"},
	{"apiVersion": "rbac.authorization.k8s.io/v1beta1", "kind": "Role", "deprecated": "1.17", "removed": "1.22", "replacement": "rbac.authorization.k8s.io/v1"},
	{"apiVersion": "rbac.authorization.k8s.io/v1beta1", "kind": "RoleBinding", "deprecated": "1.17", "removed": "1.22", "replacement": "rbac.authorization.k8s.io/v1"},
	{"apiVersion": "scheduling.k8s.io/v1beta1", "kind": "PriorityClass", "deprecated": "1.14", "removed": "1.22", "replacement": "scheduling.k8s.io/v1"},
	{"apiVersion": "storage.k8s.io/v1beta1", "kind": "CSIDriver", "deprecated": "1.19", "removed": "1.22", "replacement": "storage.k8s.io/v1"},
	{"apiVersion": "storage.k8s.io/v1beta1", "kind": "CSINode", "deprecated": "1.17", "removed": "1.22", "replacement": "storage.k8s.io/v1"},
	{"apiVersion": "storage.k8s.io/v1beta1", "kind": "StorageClass", "deprecated": "1.19", "removed": "1.22", "replacement": "storage.k8s.io/v1"},
	{"apiVersion": "storage.k8s.io/v1beta1", "kind": "VolumeAttachment", "deprecated": "1.19", "removed": "1.22", "replacement": "storage.k8s.io/v1"},
	{"apiVersion": "batch/v1beta1", "kind": "CronJob", "deprecated": "1.21", "removed": "1.25", "replacement": "batch/v1"},
	{"apiVersion": "discovery.k8s.io/v1beta1", "kind": "EndpointSlice", "deprecated": "1.21", "removed": "1.25", "replacement": "discovery.k8s.io/v1"},
	{"apiVersion": "events.k8s.io/v1beta1", "kind": "Event", "deprecated": "1.19", "removed": "1.25", "replacement": "events.k8s.io/v1"},
	{"apiVersion": "autoscaling/v2beta1", "kind": "HorizontalPodAutoscaler", "deprecated": "1.22", "removed": "1.25", "replacement": "autoscaling/v2"},
	{"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget", "deprecated": "1.21", "removed": "1.25", "replacement": "policy/v1"},
	{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "deprecated": "1.21", "removed": "1.25", "replacement": "Pod Security Admission (no API object)"},
	{"apiVersion": "node.k8s.io/v1beta1", "kind": "RuntimeClass", "deprecated": "1.20", "removed": "1.25", "replacement": "node.k8s.io/v1"},
	{"apiVersion": "autoscaling/v2beta2", "kind": "HorizontalPodAutoscaler", "deprecated": "1.23", "removed": "1.26", "replacement": "autoscaling/v2"},
	{"apiVersion": "flowcontrol.apiserver.k8s.io/v1beta1", "kind": "FlowSchema", "deprecated": "1.23", "removed": "1.26", "replacement": "flowcontrol.apiserver.k8s.io/v1"},
	{"apiVersion": "flowcontrol.apiserver.k8s.io/v1beta1", "kind": "PriorityLevelConfiguration", "deprecated": "1.23", "removed": "1.26", "replacement": "flowcontrol.apiserver.k8s.io/v1"},
	{"apiVersion": "storage.k8s.io/v1beta1", "kind": "CSIStorageCapacity", "deprecated": "1.24", "removed": "1.27", "replacement": "storage.k8s.io/v1"},
	{"apiVersion": "flowcontrol.apiserver.k8s.io/v1beta2", "kind": "FlowSchema", "deprecated": "1.26", "removed": "1.29", "replacement": "flowcontrol.apiserver.k8s.io/v1"},
	{"apiVersion": "flowcontrol.apiserver.k8s.io/v1beta2", "kind": "PriorityLevelConfiguration", "deprecated": "1.26", "removed": "1.29", "replacement": "flowcontrol.apiserver.k8s.io/v1"},
	{"apiVersion": "flowcontrol.apiserver.k8s.io/v1beta3", "kind": "FlowSchema", "deprecated": "1.29", "removed": "1.32", "replacement": "flowcontrol.apiserver.k8s.io/v1"},
	{"apiVersion": "flowcontrol.apiserver.k8s.io/v1beta3", "kind": "PriorityLevelConfiguration", "deprecated": "1.29", "removed": "1.32", "replacement": "flowcontrol.apiserver.k8s.io/v1"},
]

# The table entry for this object's apiVersion and kind, if any.
api_entry(obj) := e if {
	some e in api_removals
	e.apiVersion == obj.apiVersion
	e.kind == obj.kind
}
