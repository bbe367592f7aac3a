package v1alpha1_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependsOnApimachineryOnly: a client that imports these types (a
// billing pipeline, a dashboard) needs apimachinery, not controller-runtime
// or client-go, as with upstream Kubernetes API packages.
func TestDependsOnApimachineryOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"sigs.k8s.io/controller-runtime", "k8s.io/client-go", "k8s.io/api/"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("api/v1alpha1 depends on %s (through the import graph); it must need only apimachinery", dep)
			}
		}
	}
}
