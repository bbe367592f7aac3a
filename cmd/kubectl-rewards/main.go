// Command kubectl-rewards is a kubectl plugin for the Marketplace Rewards
// operator: `kubectl rewards explain`, `simulate` and `import sales`.
// Install it by copying the binary onto your PATH; kubectl finds it.
package main

import (
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/marketplace-rewards/rewards-operator/internal/plugin"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	os.Exit(plugin.Main(plugin.NewOptions(streams), os.Args[1:]))
}
