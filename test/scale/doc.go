//go:build scale

// Package scale is the scale benchmark (make bench-scale): it converges P
// publishers' objects with the operator and with a floor manager that only
// writes one status per object, on the same control plane, and reports how
// they compare. It is built only with the build tag scale, so go test ./...
// never builds or runs it.
package scale
