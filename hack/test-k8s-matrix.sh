#!/usr/bin/env bash
# Runs the API (admission) and controller suites against each Kubernetes
# version given, with that version's kube-apiserver built from Go modules
# (hack/build-test-binaries.sh --kubernetes, cached under bin/k8s/), and
# prints a table of the results. Exits 1 if any version failed.
#
# Usage: hack/test-k8s-matrix.sh v1.32.13 v1.34.4 v1.36.3   (make test-k8s-matrix)
#   MATRIX_PACKAGES  the suites to run (default ./api/... ./controllers/...)
#   MATRIX_LOGS      where each version's go test output goes (default bin/k8s-matrix)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${root}"
packages=${MATRIX_PACKAGES:-./api/... ./controllers/...}
logs=${MATRIX_LOGS:-${root}/bin/k8s-matrix}
mkdir -p "${logs}"
[[ $# -gt 0 ]] || { echo "usage: $0 vX.Y.Z..." >&2; exit 2; }

declare -a results
failed=0
for version in "$@"; do
  echo "--- ${version}: building kube-apiserver if needed"
  hack/build-test-binaries.sh --kubernetes "${version}"
  assets=$(hack/build-test-binaries.sh --kubernetes "${version}" --print-dir)
  # The binary must report the version it was built as: the suites trust
  # what the API server is, not the directory's name.
  reported=$("${assets}/kube-apiserver" --version | awk '{print $2}')
  if [[ ${reported} != "${version}" ]]; then
    echo "${assets}/kube-apiserver reports ${reported}, not ${version}" >&2
    exit 1
  fi
  log="${logs}/${version}.log"
  echo "--- ${version}: go test ${packages} (log: ${log})"
  start=${SECONDS}
  # shellcheck disable=SC2086 # packages is a list
  if KUBEBUILDER_ASSETS="${assets}" go test ${packages} -count=1 >"${log}" 2>&1; then
    outcome=pass
  else
    outcome=FAIL
    failed=1
    grep -E '^(--- FAIL|FAIL|\s+\[FAIL\])' "${log}" | head -20 || true
  fi
  results+=("| ${version} | ${outcome} | $((SECONDS - start))s |")
done

echo
echo "| Kubernetes | API and controller suites | time |"
echo "|---|---|---|"
printf '%s\n' "${results[@]}"
exit "${failed}"
