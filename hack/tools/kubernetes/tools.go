//go:build tools

// Package tools pins the commands this wrapper module builds, so that go.sum
// covers the dependencies of kube-apiserver, kube-controller-manager and kubectl.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
