# Old (v0) syntax on purpose: conftest policies written before OPA 1.0 look like this.
package main

import data.kubernetes

name = input.metadata.name

deny[msg] {
  kubernetes.is_deployment
  not input.spec.template.spec.securityContext.runAsNonRoot
  msg = sprintf("Containers must not run as root in Deployment %s", [name])
}

deny[msg] {
  kubernetes.is_deployment
  container := input.spec.template.spec.containers[_]
  not container.securityContext.allowPrivilegeEscalation == false
  msg = sprintf("Container %s must not allow privilege escalation", [container.name])
}

required_deployment_selectors {
  input.spec.selector.matchLabels.app
  input.spec.selector.matchLabels.release
}

deny[msg] {
  kubernetes.is_deployment
  not required_deployment_selectors
  msg = sprintf("Deployment %s must provide app/release labels for pod selectors", [name])
}
