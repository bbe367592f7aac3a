#!/usr/bin/env bash
# Builds the binaries envtest needs (kube-apiserver, etcd), a pinned kubectl and
# kube-controller-manager (for its garbage collector) from Go modules into
# bin/k8s/<version>/, skipping any that are already built.
#
# Why not setup-envtest? It downloads prebuilt binaries from cloud storage,
# which is fine for users online but not for machines that only reach the Go
# module proxy. Building from modules needs nothing but the Go toolchain.
#
# Usage: hack/build-test-binaries.sh [--kubernetes vX.Y.Z] [--print-dir]
#   --kubernetes  another Kubernetes version (make test-k8s-matrix): only its
#                 kube-apiserver is built, from hack/tools/kubernetes-X.Y
#                 (hack/new-kubernetes-wrapper.sh writes it); etcd, kubectl
#                 and kube-controller-manager are the pinned version's
#   --print-dir   print the directory holding the binaries (for KUBEBUILDER_ASSETS)
set -euo pipefail

PINNED_KUBERNETES_VERSION=v1.36.3   # newest k8s.io/kubernetes the suites are pinned to
ETCD_VERSION=v3.6.8                 # the etcd release paired with Kubernetes 1.36

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
platform="$(go env GOOS)-$(go env GOARCH)"
dir_of() { echo "${root}/bin/k8s/${1#v}-${platform}"; }

version=${PINNED_KUBERNETES_VERSION}
print_dir=false
while [[ $# -gt 0 ]]; do
  case $1 in
    --kubernetes) version=${2:?--kubernetes needs a version such as v1.32.13}; shift 2 ;;
    --print-dir) print_dir=true; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ ${version} =~ ^v1\.([0-9]+)\.[0-9]+$ ]] || { echo "not a Kubernetes release: ${version}" >&2; exit 2; }
minor=${BASH_REMATCH[1]}
out=$(dir_of "${version}")

if ${print_dir}; then
  echo "${out}"
  exit 0
fi

mkdir -p "${out}"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${version} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor}"

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

if [[ ${version} != "${PINNED_KUBERNETES_VERSION}" ]]; then
  wrapper="kubernetes-1.${minor}"
  if ! grep -qx "require k8s.io/kubernetes ${version}" "${root}/hack/tools/${wrapper}/go.mod" 2>/dev/null; then
    echo "hack/tools/${wrapper} does not build ${version}: run hack/new-kubernetes-wrapper.sh ${version}" >&2
    exit 1
  fi
  build kube-apiserver "${wrapper}" k8s.io/kubernetes/cmd/kube-apiserver "${ldflags}"
  # The rest from the pinned version: etcd serves any of these API
  # servers, and only the suites' garbage collector runs
  # kube-controller-manager (with --controllers=garbagecollector).
  "${BASH_SOURCE[0]}"
  pinned=$(dir_of "${PINNED_KUBERNETES_VERSION}")
  for name in etcd kubectl kube-controller-manager; do
    ln -sf "${pinned}/${name}" "${out}/${name}"
  done
  exit 0
fi

build etcd etcd go.etcd.io/etcd/server/v3 "-s -w"
build kube-apiserver kubernetes k8s.io/kubernetes/cmd/kube-apiserver "${ldflags}"
build kubectl kubernetes k8s.io/kubernetes/cmd/kubectl "${ldflags}"
# Only its garbage collector is used: tests prove that deleting an
# activation never deletes its BenefitGrant (R8), whatever ownerReferences
# a restored grant carries.
build kube-controller-manager kubernetes k8s.io/kubernetes/cmd/kube-controller-manager "${ldflags}"
