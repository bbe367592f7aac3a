// Package testenv is for tests only: what the envtest suites of this
// repository (api/v1alpha1, controllers, internal/metrics, test/health,
// test/deploy, test/e2e) share. It starts a real kube-apiserver and etcd
// with the repository's CRDs and runs a controller-runtime manager in the
// test process. The objects the suites create are built by its subpackage
// build, which every test of the repository uses, unit tests included.
//
// Nothing in it asserts: it returns errors, and each suite checks them with
// its own Gomega. No production code may import it.
package testenv
