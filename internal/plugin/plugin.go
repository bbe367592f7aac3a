// Package plugin is the kubectl plugin kubectl-rewards: `kubectl rewards
// explain`, `simulate`, `import sales`, `report`, `contacts`, `version` and
// `completion`. It reads through the user's kubeconfig (the usual
// --kubeconfig, --context, -n flags of k8s.io/cli-runtime), decides with
// the same pure functions as the operator (internal/rewards), and writes
// nothing unless a command is asked to (import sales).
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
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
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
	// ExitUsage: the command line is wrong (an unknown command, kind or
	// flag, a missing argument); the message says what to type. It is the
	// code kubectl gives usage errors.
	ExitUsage = 1
	// ExitError: the command could not run (an unreadable or invalid file,
	// the cluster unreachable or without the rewards CRDs, a missing
	// namespace or object, an invalid candidate program).
	ExitError = 2
)

// The output formats of -o.
const (
	outputJSON = "json"
	outputYAML = "yaml"
	outputCSV  = "csv"
)

// Columns that report's and contacts' CSV share with import's.
const (
	columnNamespace = "namespace"
	columnOffer     = "offer"
)

// kindRewardsProgram is the one cluster-scoped kind of the operator.
const kindRewardsProgram = "RewardsProgram"

// scopeText says which namespaces a command read: "" is all of them.
func scopeText(namespace string) string {
	if namespace == "" {
		return "in all namespaces"
	}
	return "in namespace " + namespace
}

// FieldManager is the field manager of the SalesRecords import sales
// applies: the fields it owns are those some imported file stated.
const FieldManager = "kubectl-rewards-import"

// Options are what every command shares: the streams, the cluster
// connection, the clock and the plugin's version.
type Options struct {
	genericiooptions.IOStreams
	ConfigFlags *genericclioptions.ConfigFlags
	// Version is the plugin's release (v0.1.0), or "dev".
	Version string
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
		Version:     devVersion,
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

// usageError is a command line that cannot be right: the message says what
// is wrong, and the hint where to look.
type usageError struct {
	msg  string
	hint string
}

func (e *usageError) Error() string { return e.msg }

// usageErrorf is a usage error of cmd, pointing at its help.
func usageErrorf(cmd *cobra.Command, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), hint: fmt.Sprintf("See '%s --help' for usage.", cmd.CommandPath())}
}

// Main runs kubectl-rewards with args and returns its exit code.
func Main(o *Options, args []string) int {
	cmd := NewCommand(o)
	cmd.SetArgs(args)
	err := cmd.Execute()
	var exit *exitError
	var usage *usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &exit):
		return exit.code
	case errors.As(err, &usage):
		fmt.Fprintf(o.ErrOut, "error: %v\n%s\n", err, usage.hint)
		return ExitUsage
	default:
		fmt.Fprintf(o.ErrOut, "error: %v\n", err)
		return ExitError
	}
}

// NewCommand builds the command tree.
func NewCommand(o *Options) *cobra.Command {
	root := &cobra.Command{
		Use:   "kubectl-rewards",
		Short: "Explain tiers and benefits, simulate a program change, import billing lines, report grants",
		Long: `kubectl rewards explains what the Marketplace Rewards operator decided and
why, foresees what a new RewardsProgram would change, imports billing
lines as SalesRecords, reports the grants issued, expired and revoked in a
period, and lists the marketing contacts that are due.

It reads through your kubeconfig, like kubectl, and writes nothing unless
a command is asked to (import sales).

Exit codes: 0 success (simulate: no difference); 1 simulate found
differences, import refused some rows, or the command line is wrong (an
unknown command, kind or flag); 2 the command could not run (the file,
the cluster, the rewards CRDs, the namespace or the object).`,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl rewards"},
		SilenceUsage:  true,
		SilenceErrors: true,
		CompletionOptions: cobra.CompletionOptions{
			DisableDefaultCmd: true,
		},
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return unknownSubcommand(cmd, "command", args[0])
		},
	}
	root.SetIn(o.In)
	root.SetOut(o.Out)
	root.SetErr(o.ErrOut)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageErrorf(cmd, "%v", err) })
	o.ConfigFlags.AddFlags(root.PersistentFlags())
	registerFlagCompletions(root, o)
	root.AddCommand(newExplainCommand(o), newSimulateCommand(o), newImportCommand(o), newReportCommand(o), newContactsCommand(o),
		newVersionCommand(o), newCompletionCommand(o))
	return root
}

// unknownSubcommand is the usage error of a word that names none of cmd's
// subcommands (what is "command" for the root, "kind" for explain and
// import), with the subcommands it may have meant.
func unknownSubcommand(cmd *cobra.Command, what, typed string) error {
	names := make([]string, 0, len(cmd.Commands()))
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	msg := fmt.Sprintf("unknown %s %q for %q; the %ss are %s", what, typed, cmd.CommandPath(), what, strings.Join(names, ", "))
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if suggestions := cmd.SuggestionsFor(typed); len(suggestions) > 0 {
		msg += fmt.Sprintf(". Did you mean %s?", strings.Join(suggestions, " or "))
	}
	return usageErrorf(cmd, "%s", msg)
}

// kindGroup makes cmd (explain, import) a command that only dispatches to
// its kinds: without one, or with a word that is none of them, it is a
// usage error, rather than cobra's help and exit 0.
func kindGroup(cmd *cobra.Command) *cobra.Command {
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			names := make([]string, 0, len(cmd.Commands()))
			for _, c := range cmd.Commands() {
				names = append(names, c.Name())
			}
			return usageErrorf(cmd, "%s needs a kind: %s", cmd.CommandPath(), strings.Join(names, " or "))
		}
		return unknownSubcommand(cmd, "kind", args[0])
	}
	return cmd
}

// exactArgs requires one argument per name: a missing or extra argument is
// a usage error naming what is expected.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usageErrorf(cmd, "%s needs %s (%d arguments given)", cmd.CommandPath(), strings.Join(names, " "), len(args))
		}
		return nil
	}
}

// noArgs refuses any argument as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf(cmd, "%s takes no argument (%q given)", cmd.CommandPath(), args[0])
	}
	return nil
}

// scheme has the operator's kinds, and the Namespaces and Deployments the
// plugin reads.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(v1alpha1.AddToScheme(s))
	utilruntime.Must(corev1.AddToScheme(s))
	utilruntime.Must(appsv1.AddToScheme(s))
	return s
}()

// restMapper knows the kinds the plugin reads without asking the API
// server (no discovery round trips). The rewards CRDs are checked once per
// command by rewardsClient.
func restMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	gv := v1alpha1.GroupVersion
	for kind, plural := range rewardsResources {
		scope := meta.RESTScopeNamespace
		if kind == kindRewardsProgram {
			scope = meta.RESTScopeRoot
		}
		m.AddSpecific(gv.WithKind(kind), gv.WithResource(plural), gv.WithResource(strings.ToLower(kind)), scope)
	}
	m.AddSpecific(corev1.SchemeGroupVersion.WithKind("Namespace"), corev1.SchemeGroupVersion.WithResource("namespaces"),
		corev1.SchemeGroupVersion.WithResource("namespace"), meta.RESTScopeRoot)
	m.AddSpecific(appsv1.SchemeGroupVersion.WithKind("Deployment"), appsv1.SchemeGroupVersion.WithResource("deployments"),
		appsv1.SchemeGroupVersion.WithResource("deployment"), meta.RESTScopeNamespace)
	return m
}

// rewardsResources are the operator's kinds and their resources.
var rewardsResources = map[string]string{
	kindRewardsProgram: "rewardsprograms", "Publisher": "publishers", "Offer": "offers", "SalesRecord": "salesrecords",
	"BenefitActivation": "benefitactivations", "BenefitGrant": "benefitgrants",
}

// restConfig is the REST config of the kubeconfig, with the plugin's user
// agent. When the kubeconfig sets no client-side rate limit there is none:
// client-go's default (5 requests a second) would make a 10,000-line
// import take half an hour. The API server's priority and fairness
// protects it, and import sales bounds its requests in flight (--parallel).
func (o *Options) restConfig() (*rest.Config, error) {
	cfg, err := o.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	if cfg.QPS == 0 {
		cfg.QPS = -1
	}
	cfg.UserAgent = "kubectl-rewards/" + o.Version
	return cfg, nil
}

// client connects to the cluster of the kubeconfig.
func (o *Options) client() (client.Client, error) {
	cfg, err := o.restConfig()
	if err != nil {
		return nil, err
	}
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
