// Command kubectl-rewards is a kubectl plugin for the Marketplace Rewards
// operator: `kubectl rewards explain`, `simulate`, `import sales`,
// `report`, `contacts`, `version` and `completion`. Install it with krew
// (`kubectl krew install --manifest=rewards.yaml`, see docs/plugin.md) or by
// copying the binary onto your PATH; kubectl finds it.
//
// Run under the name kubectl_complete-rewards (a copy or a link), it
// answers kubectl's shell completion of `kubectl rewards ...` (kubectl
// 1.26 and later run that executable with the words typed so far).
package main

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/marketplace-rewards/rewards-operator/internal/plugin"
)

// version is the plugin's release, set at build time with
// -ldflags "-X main.version=v0.1.0" (Makefile: build, release-plugin).
var version = ""

// completionName is the executable name kubectl runs to complete the
// plugin's arguments.
const completionName = "kubectl_complete-rewards"

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	o := plugin.NewOptions(streams)
	o.Version = pluginVersion()
	args := os.Args[1:]
	if strings.HasPrefix(filepath.Base(os.Args[0]), completionName) {
		args = append([]string{"__complete"}, args...)
	}
	os.Exit(plugin.Main(o, args))
}

// pluginVersion is the version set at build time, else the module version
// `go install ...@vX.Y.Z` records, else "dev".
func pluginVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}
