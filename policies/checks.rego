package main

import rego.v1

import data.lib

# Every rule of this pack applied to one object, for evaluating many objects in one query:
# promoter calls [checks(obj, data.promoter) | some obj in input] on batches of resources, because
# rego-cpp cannot rebind `input` (`with input as` crashes it) and one query per resource costs
# 0.2 ms before any rule runs. Each entry must say exactly what the rule of the same name says;
# tests/policy/test_pack.py compares the two on every test resource.
checks(obj, cfg) := out if {
	obj.kind in lib.pod_kinds
	spec := lib.pod_spec(obj)
	cs := lib.containers(obj)
	out := {
		"deny_image_latest": image_latest(cs),
		"deny_image_digest": {m | cfg.require_digest == true; some m in image_digest(cs)},
		"warn_container_resources": container_resources(cs),
		"deny_run_as_non_root": run_as_non_root(spec, cs),
		"deny_privileged": privileged(cs),
		"warn_privilege_escalation": privilege_escalation(cs),
		"deny_host_namespaces": host_namespaces(spec),
		"deny_host_path": host_path(spec),
		"warn_readonly_root_filesystem": readonly_root_filesystem(cs),
		"warn_capabilities_drop": capabilities_drop(cs),
		"warn_probes": probes(obj.kind, object.get(spec, "containers", [])),
		"deny_registry_allowlist": {m | count(cfg.allowed_registries) > 0; some m in registry_allowlist(cs, cfg.allowed_registries)},
		"deny_api_removed": api_removed(obj, cfg.kubernetes_version),
		"warn_api_deprecated": api_deprecated(obj, cfg.kubernetes_version),
		"deny_secret_plaintext": set(),
	}
}

checks(obj, cfg) := out if {
	not obj.kind in lib.pod_kinds
	out := {
		"deny_secret_plaintext": secret_plaintext(obj),
		"deny_api_removed": api_removed(obj, cfg.kubernetes_version),
		"warn_api_deprecated": api_deprecated(obj, cfg.kubernetes_version),
	}
}
