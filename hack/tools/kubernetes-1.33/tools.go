//go:build tools

// Package tools pins the command this wrapper module builds, so that go.sum
// covers its dependencies. Only kube-apiserver: the module proxy does not
// serve every staging module of every patch release (kube-controller-manager
// needs k8s.io/endpointslice, missing at some), and the suites take etcd,
// kubectl and the garbage collector from the pinned version.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
