// Package plugin is the kubectl plugin kubectl-rewards: `kubectl rewards
// explain`, `simulate` and `import sales`. It reads through the user's
// kubeconfig (the usual --kubeconfig, --context, -n flags of
// k8s.io/cli-runtime), decides with the same pure functions as the
// operator (internal/rewards), and writes nothing unless a command is
// asked to (import sales).
//
// cmd/kubectl-rewards is its main; everything else is here, so that tests
// can run the commands against an envtest control plane.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/liggitt/tabwriter"
	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// Exit codes of kubectl-rewards.
const (
	// ExitOK: the command did what it was asked; simulate found no
	// difference; import applied or found unchanged every row.
	ExitOK = 0
	// ExitDifferences: simulate found differences, or import refused some
	// rows (the others were applied).
	ExitDifferences = 1
	// ExitError: the command could not run (bad flags or file, cluster
	// unreachable, missing object, invalid candidate program).
	ExitError = 2
)

// FieldManager is the field manager of the SalesRecords import sales applies.
const FieldManager = "kubectl-rewards"

// Options are what every command shares: the streams, the cluster
// connection and the clock.
type Options struct {
	genericiooptions.IOStreams
	ConfigFlags *genericclioptions.ConfigFlags
	// Now is the instant programs are evaluated at.
	Now func() time.Time
	// NewClient builds the client from the REST config; tests wrap it.
	NewClient func(*rest.Config, client.Options) (client.Client, error)
	// ErrOutIsTerminal reports whether ErrOut is a terminal, for import's
	// progress bar.
	ErrOutIsTerminal func() bool
}

// NewOptions returns the options of the real command: the process's
// streams and clock and a client built from the kubeconfig flags.
func NewOptions(streams genericiooptions.IOStreams) *Options {
	return &Options{
		IOStreams:   streams,
		ConfigFlags: genericclioptions.NewConfigFlags(true),
		Now:         time.Now,
		NewClient:   client.New,
		ErrOutIsTerminal: func() bool {
			f, ok := streams.ErrOut.(*os.File)
			return ok && term.IsTerminal(int(f.Fd()))
		},
	}
}

// exitError ends a command with a code other than ExitError, after its
// output is written (simulate's differences, import's refused rows).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// Main runs kubectl-rewards with args and returns its exit code.
func Main(o *Options, args []string) int {
	cmd := NewCommand(o)
	cmd.SetArgs(args)
	err := cmd.Execute()
	var exit *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &exit):
		return exit.code
	default:
		fmt.Fprintf(o.ErrOut, "error: %v\n", err)
		return ExitError
	}
}

// NewCommand builds the command tree.
func NewCommand(o *Options) *cobra.Command {
	root := &cobra.Command{
		Use:   "kubectl-rewards",
		Short: "Explain tiers and benefits, simulate a program change, import billing lines",
		Long: `kubectl rewards explains what the Marketplace Rewards operator decided and
why, foresees what a new RewardsProgram would change, and imports billing
lines as SalesRecords.

It reads through your kubeconfig, like kubectl, and writes nothing unless
a command is asked to (import sales).

Exit codes: 0 success (simulate: no difference); 1 simulate found
differences, or import refused some rows; 2 the command could not run.`,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl rewards"},
		SilenceUsage:  true,
		SilenceErrors: true,
		CompletionOptions: cobra.CompletionOptions{
			DisableDefaultCmd: true,
		},
	}
	root.SetIn(o.In)
	root.SetOut(o.Out)
	root.SetErr(o.ErrOut)
	o.ConfigFlags.AddFlags(root.PersistentFlags())
	root.AddCommand(newExplainCommand(o), newSimulateCommand(o), newImportCommand(o))
	return root
}

// scheme has the operator's kinds.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(v1alpha1.AddToScheme(s))
	return s
}()

// restMapper knows the operator's kinds without asking the API server
// (no discovery round trips; a cluster without the CRDs answers 404).
func restMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	gv := v1alpha1.GroupVersion
	for kind, plural := range map[string]string{
		"Publisher": "publishers", "Offer": "offers", "SalesRecord": "salesrecords", "BenefitActivation": "benefitactivations",
		"BenefitGrant": "benefitgrants",
	} {
		m.AddSpecific(gv.WithKind(kind), gv.WithResource(plural), gv.WithResource(strings.ToLower(kind)), meta.RESTScopeNamespace)
	}
	m.AddSpecific(gv.WithKind("RewardsProgram"), gv.WithResource("rewardsprograms"), gv.WithResource("rewardsprogram"), meta.RESTScopeRoot)
	return m
}

// Client-side rate limit when the kubeconfig sets none: client-go's
// default (5 requests a second) would make a 10,000-line import take half
// an hour. The API server's priority and fairness still protects it.
const (
	defaultQPS   = 100
	defaultBurst = 200
)

// client connects to the cluster of the kubeconfig.
func (o *Options) client() (client.Client, error) {
	cfg, err := o.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = defaultQPS, defaultBurst
	}
	cfg.UserAgent = "kubectl-rewards"
	return o.NewClient(cfg, client.Options{Scheme: scheme, Mapper: restMapper()})
}

// namespace is the namespace of -n, or else the kubeconfig context's.
func (o *Options) namespace() (string, error) {
	ns, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	return ns, err
}

// ctx is the context of a command's requests.
func ctx(cmd *cobra.Command) context.Context {
	if c := cmd.Context(); c != nil {
		return c
	}
	return context.Background()
}

// tables writes aligned text, one table after another, each aligned on
// its own, as kubectl aligns its columns. kubectl's tab writer remembers
// column widths across flushes (for --watch), so each table gets a writer
// of its own.
type tables struct {
	out io.Writer
	w   *tabwriter.Writer
}

func newTables(out io.Writer) *tables { return &tables{out: out, w: printers.GetNewTabWriter(out)} }

func (t *tables) Write(p []byte) (int, error) { return t.w.Write(p) }

// next ends the current table: what follows is aligned on its own.
func (t *tables) next() {
	t.flush()
	t.w = printers.GetNewTabWriter(t.out)
}

func (t *tables) flush() { _ = t.w.Flush() }
