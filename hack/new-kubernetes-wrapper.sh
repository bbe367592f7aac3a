#!/usr/bin/env bash
# Writes the wrapper module that hack/build-test-binaries.sh --kubernetes
# builds another Kubernetes version's kube-apiserver from:
# hack/tools/kubernetes-<major.minor>/, with a
# go.mod that requires k8s.io/kubernetes at that version and replaces each of
# its staging modules (the `=> ./staging/...` lines of its go.mod) with the
# published v0.<minor>.<patch> module, then `go mod tidy` fills go.sum.
# Commit the result: builds are then reproducible from the module proxy.
#
# Usage: hack/new-kubernetes-wrapper.sh v1.32.13
set -euo pipefail

version=${1:?usage: hack/new-kubernetes-wrapper.sh vX.Y.Z}
[[ ${version} =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || { echo "not a Kubernetes release: ${version}" >&2; exit 1; }
minor=${BASH_REMATCH[1]}
staging_version="v0.${minor}.${BASH_REMATCH[2]}"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir="${root}/hack/tools/kubernetes-1.${minor}"
mkdir -p "${dir}"

gomod=$(go mod download -json "k8s.io/kubernetes@${version}" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p')
[[ -f ${gomod} ]] || { echo "the module proxy has no k8s.io/kubernetes@${version}" >&2; exit 1; }
# The sample-* staging modules are examples that no command imports.
staging=$(sed -n 's/^\s*\(k8s\.io\/[a-z0-9-]*\) => \.\/staging\/.*/\1/p' "${gomod}" | grep -v '^k8s.io/sample-')
go_line=$(sed -n 's/^go \(.*\)/\1/p' "${gomod}")

{
  echo "// Wrapper module that builds kube-apiserver ${version}"
  echo "// for make test-k8s-matrix; written by hack/new-kubernetes-wrapper.sh ${version}."
  echo "// Each staging module is replaced with its published ${staging_version} release."
  echo "module github.com/marketplace-rewards/rewards-operator/hack/tools/kubernetes-1.${minor}"
  echo
  echo "go ${go_line}"
  echo
  # Kubernetes builds with the GODEBUG defaults of its own go line.
  grep '^godebug ' "${gomod}" || true
  echo
  echo "require k8s.io/kubernetes ${version}"
  echo
  echo "replace ("
  for m in ${staging}; do
    echo "	${m} => ${m} ${staging_version}"
  done
  echo ")"
} > "${dir}/go.mod"

cat > "${dir}/tools.go" <<'EOF'
//go:build tools

// Package tools pins the command this wrapper module builds, so that go.sum
// covers its dependencies. Only kube-apiserver: the module proxy does not
// serve every staging module of every patch release (kube-controller-manager
// needs k8s.io/endpointslice, missing at some), and the suites take etcd,
// kubectl and the garbage collector from the pinned version.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
EOF

(cd "${dir}" && go mod tidy)
echo "wrote ${dir}"
