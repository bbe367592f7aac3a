package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
)

// buildPlugin builds kubectl-rewards into dir with the version given, as
// make build and make release-plugin do, and returns its path.
func buildPlugin(t *testing.T, dir, version string) string {
	t.Helper()
	bin := filepath.Join(dir, "kubectl-rewards")
	cmd := exec.Command("go", "build", "-o", bin, "-ldflags", "-X main.version="+version, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestVersionSetAtBuildTime(t *testing.T) {
	bin := buildPlugin(t, t.TempDir(), "v9.8.7")
	out, err := exec.Command(bin, "version", "--client").CombinedOutput()
	if err != nil {
		t.Fatalf("%s version --client: %v\n%s", bin, err, out)
	}
	if want := "kubectl-rewards:   v9.8.7\n"; string(out) != want {
		t.Errorf("version --client printed %q, want %q", out, want)
	}
}

// TestKubectlCompletesThePlugin runs the pinned kubectl's completion of
// `kubectl rewards ...` (kubectl __complete, which the shell scripts of
// `kubectl completion` call) with the plugin and kubectl_complete-rewards
// on PATH, as krew and the README install them: the release archives'
// script, and a copy of the binary under that name.
func TestKubectlCompletesThePlugin(t *testing.T) {
	kubectl, err := testenv.Kubectl()
	if err != nil {
		t.Fatalf("%v (run through make test, which sets KUBEBUILDER_ASSETS)", err)
	}
	script, err := os.ReadFile(completionName)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := buildPlugin(t, dir, "v9.8.7")
	withScript := filepath.Join(dir, "with-script")
	withCopy := filepath.Join(dir, "with-copy")
	for d, complete := range map[string][]byte{withScript: script, withCopy: mustRead(t, bin)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "kubectl-rewards"), mustRead(t, bin), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, completionName), complete, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, d := range map[string]string{"script": withScript, "copy": withCopy} {
		t.Run(name, func(t *testing.T) {
			for _, tc := range []struct {
				args []string
				want []string
			}{
				{[]string{"rewards", ""}, []string{"completion", "contacts", "explain", "import", "report", "simulate", "version"}},
				{[]string{"rewards", "explain", ""}, []string{"activation", "publisher"}},
				{[]string{"rewards", "explain", "p"}, []string{"publisher"}},
				{[]string{"rewards", "completion", ""}, []string{"bash", "zsh", "fish", "powershell"}},
			} {
				cmd := exec.Command(kubectl, append([]string{"__complete"}, tc.args...)...)
				cmd.Env = []string{"PATH=" + d + string(os.PathListSeparator) + "/usr/bin:/bin", "HOME=" + t.TempDir(), "KUBECONFIG=" + filepath.Join(t.TempDir(), "none")}
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("kubectl __complete %q: %v", tc.args, err)
				}
				var got []string
				for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
					if name, _, _ := strings.Cut(l, "\t"); !strings.HasPrefix(name, ":") {
						got = append(got, name)
					}
				}
				for _, w := range tc.want {
					if !contains(got, w) {
						t.Errorf("kubectl __complete %q gave %q, want %q among them", tc.args, got, w)
					}
				}
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}
