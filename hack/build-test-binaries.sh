#!/usr/bin/env bash
# Builds the binaries envtest needs (kube-apiserver, etcd), a pinned kubectl and
# kube-controller-manager (for its garbage collector) from Go modules into
# bin/k8s/<version>/, skipping any that are already built.
#
# Why not setup-envtest? It downloads prebuilt binaries from cloud storage,
# which is fine for users online but not for machines that only reach the Go
# module proxy. Building from modules needs nothing but the Go toolchain.
#
# Usage: hack/build-test-binaries.sh [--print-dir]
#   --print-dir  print the directory holding the binaries (for KUBEBUILDER_ASSETS)
set -euo pipefail

KUBERNETES_VERSION=v1.36.3   # newest k8s.io/kubernetes the module proxy serves
ETCD_VERSION=v3.6.8          # the etcd release paired with Kubernetes 1.36

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="${root}/bin/k8s/${KUBERNETES_VERSION#v}-$(go env GOOS)-$(go env GOARCH)"

if [[ "${1:-}" == "--print-dir" ]]; then
  echo "${out}"
  exit 0
fi

mkdir -p "${out}"
minor=$(echo "${KUBERNETES_VERSION#v}" | cut -d. -f2)
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor}"

build() { # build <name> <wrapper dir> <package> [ldflags]
  local name=$1 dir=$2 pkg=$3 flags=${4:-}
  if [[ -x "${out}/${name}" ]]; then
    echo "${name}: already built in ${out}"
    return
  fi
  echo "${name}: building ${pkg} (a few minutes on 2 cores, once)"
  local start=${SECONDS}
  (cd "${root}/hack/tools/${dir}" && CGO_ENABLED=0 go build -trimpath -ldflags "${flags}" -o "${out}/${name}.tmp" "${pkg}")
  mv "${out}/${name}.tmp" "${out}/${name}"
  echo "${name}: built in $((SECONDS - start))s"
}

build etcd etcd go.etcd.io/etcd/server/v3 "-s -w"
build kube-apiserver kubernetes k8s.io/kubernetes/cmd/kube-apiserver "${ldflags}"
build kubectl kubernetes k8s.io/kubernetes/cmd/kubectl "${ldflags}"
# Only its garbage collector is used: tests prove that deleting an
# activation never deletes its BenefitGrant (R8), whatever ownerReferences
# a restored grant carries.
build kube-controller-manager kubernetes k8s.io/kubernetes/cmd/kube-controller-manager "${ldflags}"
