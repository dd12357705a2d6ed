# Helpers shared by the default pack: where a resource keeps its pod spec and containers.
package lib

import rego.v1

# Kinds whose pod template sits at spec.template.spec.
template_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}

# Long-running workloads: the kinds that serve traffic and therefore need probes.
long_running_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"}

container_fields := ["containers", "initContainers", "ephemeralContainers"]

pod_spec(obj) := obj.spec if obj.kind == "Pod"

pod_spec(obj) := obj.spec.template.spec if obj.kind in template_kinds

pod_spec(obj) := obj.spec.jobTemplate.spec.template.spec if obj.kind == "CronJob"

pod_spec(obj) := obj.template.spec if obj.kind == "PodTemplate"

# Every container of every list (containers, initContainers, ephemeralContainers).
containers(obj) := [c |
	spec := pod_spec(obj)
	some field in container_fields
	some c in object.get(spec, field, [])
]

# The main containers only: the ones that run for the pod's life and receive probes.
main_containers(obj) := object.get(pod_spec(obj), "containers", [])

# A security setting as the kubelet applies it: the container's own, else the pod's.
effective_security(spec, c, key) := object.get(c, ["securityContext", key], object.get(spec, ["securityContext", key], null))

# The same for the input, as complete rules: computed once per evaluation whatever reads them.
pod_kinds := {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "PodTemplate"}

input_pod_spec := pod_spec(input) if input.kind in pod_kinds

input_containers := containers(input) if input.kind in pod_kinds

input_main_containers := main_containers(input) if input.kind in pod_kinds

# Dotted "major.minor" of a Kubernetes version string ("1.32.0", "v1.32") as [major, minor] numbers.
version_parts(v) := [to_number(parts[0]), to_number(parts[1])] if {
	parts := split(trim_prefix(v, "v"), ".")
	count(parts) >= 2
}

# True when version a is at least version b (both "major.minor[.patch]").
version_at_least(a, b) if {
	pa := version_parts(a)
	pb := version_parts(b)
	pa[0] > pb[0]
}

version_at_least(a, b) if {
	pa := version_parts(a)
	pb := version_parts(b)
	pa[0] == pb[0]
	pa[1] >= pb[1]
}
