package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/gather"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
)

// linesShownPerPublisher is how many changed lines the text output shows
// per publisher; -o json and -o yaml show them all.
const linesShownPerPublisher = 10

type simulateFlags struct {
	programFile   string
	allNamespaces bool
	output        string
}

func newSimulateCommand(o *Options) *cobra.Command {
	f := &simulateFlags{}
	cmd := &cobra.Command{
		Use:   "simulate --program FILE [-A | -n NAMESPACE]",
		Short: "Show what a candidate RewardsProgram would change, before applying it",
		Long: `Evaluate every publisher that follows the candidate program (by its name:
spec.programRef, or "default") under the program in force and under the
candidate, now, with the operator's own rules, and print the differences:
tier, next tier and what it needs, billed sales, Transact benefits newly
unlocked or no longer unlocked (with the activations of those benefits),
and the sales lines whose verdict changes.

The candidate is first checked as the API server would admit it (a
server-side dry run: nothing is stored) and as the operator would resolve
it; a candidate either refuses is reported as invalid.

Nothing is written. The exit code makes it a CI gate, for example on a
GitOps pull request that changes a RewardsProgram: 0 no difference,
1 differences, 2 the simulation could not run (an unreadable or invalid
candidate, the cluster unreachable, a namespace that does not exist).`,
		Example: `  # What would config/programs/default.yaml change in namespace rewards-demo?
  kubectl rewards simulate --program config/programs/default.yaml -n rewards-demo

  # In every namespace, as JSON for a CI job
  kubectl rewards simulate --program program.yaml -A -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.simulate(cmd, f) },
	}
	cmd.Flags().StringVar(&f.programFile, "program", "", "the candidate RewardsProgram, a YAML or JSON file (required)")
	cmd.Flags().BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "simulate for the publishers of every namespace")
	cmd.Flags().StringVarP(&f.output, "output", "o", "", "output format: json or yaml (default: a table)")
	_ = cmd.MarkFlagRequired("program")
	_ = cmd.RegisterFlagCompletionFunc("program", completeFiles("yaml", "yml", "json"))
	_ = cmd.RegisterFlagCompletionFunc("output", completeValues(outputJSON, outputYAML))
	return cmd
}

// SimulationReport is what simulate prints with -o json or -o yaml.
type SimulationReport struct {
	// Program is the name of the program simulated.
	Program string `json:"program"`
	// Namespace the publishers were read from; "" for all.
	Namespace string `json:"namespace,omitempty"`
	// At is the instant both programs were evaluated at.
	At time.Time `json:"at"`
	// Publishers is how many publishers follow the program.
	Publishers int `json:"publishers"`
	// Differences lists the publishers the candidate changes.
	Differences []PublisherDifference `json:"differences"`
}

// PublisherDifference is what the candidate changes for one publisher.
type PublisherDifference struct {
	Namespace string `json:"namespace"`
	Publisher string `json:"publisher"`
	// Current is under the program in force, Candidate under the candidate.
	Current   PublisherOutcome `json:"current"`
	Candidate PublisherOutcome `json:"candidate"`

	TierChanged     bool `json:"tierChanged"`
	NextTierChanged bool `json:"nextTierChanged"`
	// NewlyUnlocked and NoLongerUnlocked are Transact benefits.
	NewlyUnlocked    []string `json:"newlyUnlocked,omitempty"`
	NoLongerUnlocked []string `json:"noLongerUnlocked,omitempty"`
	// Activations of the benefits newly or no longer unlocked.
	Activations []ActivationRef `json:"activations,omitempty"`
	// Lines whose verdict changes.
	Lines []LineDifference `json:"lines,omitempty"`
}

// PublisherOutcome is a publisher under one program.
type PublisherOutcome struct {
	Tier        int32                  `json:"tier"`
	TierName    string                 `json:"tierName,omitempty"`
	BilledSales string                 `json:"billedSales"`
	Currency    string                 `json:"currency"`
	Seats       int64                  `json:"seats,omitempty"`
	NextTier    *v1alpha1.TierProgress `json:"nextTier,omitempty"`
}

// ActivationRef is an activation of a benefit whose unlocking changes.
type ActivationRef struct {
	Name    string `json:"name"`
	Benefit string `json:"benefit"`
	Phase   string `json:"phase,omitempty"`
}

// LineDifference is a sales line judged differently.
type LineDifference struct {
	SalesRecord string      `json:"salesRecord"`
	Offer       string      `json:"offer"`
	Current     LineVerdict `json:"current"`
	Candidate   LineVerdict `json:"candidate"`
}

// LineVerdict is a sales line's verdict under one program.
type LineVerdict struct {
	Counted bool   `json:"counted"`
	Reason  string `json:"reason"`
	// Amount in program currency; absent without a rate.
	Amount string `json:"amount,omitempty"`
}

func (o *Options) simulate(cmd *cobra.Command, f *simulateFlags) error {
	if f.output != "" && f.output != outputJSON && f.output != outputYAML {
		return usageErrorf(cmd, "--output %q: use json or yaml, or leave it out for a table", f.output)
	}
	candidate, err := readProgramFile(f.programFile)
	if err != nil {
		return err
	}
	ns := ""
	if !f.allNamespaces {
		if ns, err = o.namespace(); err != nil {
			return err
		}
	}
	ctx := ctx(cmd)
	c, err := o.rewardsClient(ctx, ns)
	if err != nil {
		return err
	}
	candidateRules, err := o.validateCandidate(ctx, c, candidate)
	if err != nil {
		return err
	}
	current, err := loadProgram(ctx, c, candidate.Name)
	if err != nil {
		return err
	}
	if reason, msg := current.NotInForce(); reason != "" {
		fmt.Fprintf(o.ErrOut, "note: %s; its publishers have no tier today\n", msg)
	} else if superseded := current.Superseded(); superseded != "" {
		fmt.Fprintf(o.ErrOut, "note: %s; compared with those\n", superseded)
	}
	snap, err := listSnapshot(ctx, c, ns, true)
	if err != nil {
		return err
	}
	report := Simulate(current.Rules, candidateRules, candidate.Name, snap.byPublisher(), o.Now())
	report.Namespace = ns

	if err := o.writeSimulation(report, f.output); err != nil {
		return err
	}
	if len(report.Differences) > 0 {
		return &exitError{code: ExitDifferences, msg: "differences found"}
	}
	return nil
}

// validateCandidate checks the candidate twice, and refuses it when either
// check does: as the API server would admit it (a server-side dry run of
// creating it, or of updating the program of its name, so that transition
// rules apply too), and as the operator would resolve it
// (rewards.ResolveProgram). It returns the candidate's rules. A user who
// may not write RewardsPrograms gets a note that the API server's checks
// did not run.
func (o *Options) validateCandidate(ctx context.Context, c client.Client, candidate *v1alpha1.RewardsProgram) (*rewards.Rules, error) {
	var problems []string
	if refused, err := dryRunProgram(ctx, c, candidate); err != nil {
		if !apierrors.IsForbidden(err) {
			return nil, err
		}
		fmt.Fprintf(o.ErrOut, "note: the API server's validation of the candidate did not run (%s); "+
			"a server-side dry run needs the right to create or update RewardsPrograms\n", apiMessage(err))
	} else if refused != "" {
		problems = append(problems, "the API server refuses it:\n    "+refused)
	}
	rules, resolveProblems := rewards.ResolveProgram(&candidate.Spec)
	if len(resolveProblems) > 0 {
		msgs := make([]string, len(resolveProblems))
		for i, p := range resolveProblems {
			msgs[i] = "    " + p.Reason + ": " + p.Message
		}
		problems = append(problems, "the operator would not apply it:\n"+strings.Join(msgs, "\n"))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("the candidate RewardsProgram %q is invalid:\n  %s", candidate.Name, strings.Join(problems, "\n  "))
	}
	return rules, nil
}

// dryRunProgram sends the candidate to the API server with DryRun=All:
// an update of the program of its name when it exists, else a create. It
// returns the API server's reasons when it refuses the candidate as
// invalid, and an error when the dry run could not be made.
func dryRunProgram(ctx context.Context, c client.Client, candidate *v1alpha1.RewardsProgram) (string, error) {
	obj := candidate.DeepCopy()
	// What a manifest copied from `kubectl get -o yaml` may hold, and a
	// create must not.
	obj.ResourceVersion, obj.UID, obj.Generation, obj.ManagedFields = "", "", 0, nil
	obj.CreationTimestamp = metav1.Time{}
	var existing v1alpha1.RewardsProgram
	err := c.Get(ctx, client.ObjectKeyFromObject(obj), &existing)
	switch {
	case err == nil:
		obj.ResourceVersion = existing.ResourceVersion
		err = c.Update(ctx, obj, client.DryRunAll)
	case apierrors.IsNotFound(err):
		err = c.Create(ctx, obj, client.DryRunAll)
	default:
		return "", fmt.Errorf("reading RewardsProgram %q: %w", obj.Name, err)
	}
	if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
		return apiMessage(err), nil
	}
	return "", err
}

// apiMessage is the API server's reason for refusing a request, one cause
// after another, without the long prefix naming the object.
func apiMessage(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		st := status.Status()
		if st.Details != nil && len(st.Details.Causes) > 0 {
			causes := make([]string, 0, len(st.Details.Causes))
			for _, c := range st.Details.Causes {
				causes = append(causes, strings.TrimPrefix(c.Field+": "+c.Message, ": "))
			}
			return strings.Join(causes, "; ")
		}
		if st.Message != "" {
			return st.Message
		}
	}
	return err.Error()
}

// writeSimulation prints the report to o.Out as JSON, YAML or, when output
// is "", a table: the same report in every format.
func (o *Options) writeSimulation(report SimulationReport, output string) error {
	switch output {
	case outputJSON:
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	case outputYAML:
		b, err := yaml.Marshal(report)
		if err != nil {
			return err
		}
		_, err = o.Out.Write(b)
		return err
	default:
		writeSimulationTable(o.Out, report)
		return nil
	}
}

// Simulate compares every publisher following program under the rules
// in force and the candidate's (rewards.ComparePrograms).
func Simulate(current, candidate *rewards.Rules, program string, publishers []*publisherObjects, now time.Time) SimulationReport {
	report := SimulationReport{Program: program, At: now.UTC(), Differences: []PublisherDifference{}}
	for _, po := range publishers {
		if gather.ProgramName(po.publisher) != program {
			continue
		}
		report.Publishers++
		cmp := rewards.ComparePrograms(current, candidate, po.offers, po.records, now)
		if !cmp.Changed() {
			continue
		}
		d := PublisherDifference{
			Namespace:        po.publisher.Namespace,
			Publisher:        po.publisher.Name,
			Current:          outcomeOf(cmp.Current, current),
			Candidate:        outcomeOf(cmp.Candidate, candidate),
			TierChanged:      cmp.TierChanged(),
			NextTierChanged:  cmp.NextTierChanged(),
			NewlyUnlocked:    cmp.NewlyUnlocked(),
			NoLongerUnlocked: cmp.NoLongerUnlocked(),
		}
		changedBenefits := map[string]bool{}
		for _, b := range append(append([]string(nil), d.NewlyUnlocked...), d.NoLongerUnlocked...) {
			changedBenefits[b] = true
		}
		for _, a := range po.activations {
			if changedBenefits[a.Spec.Benefit] {
				d.Activations = append(d.Activations, ActivationRef{Name: a.Name, Benefit: a.Spec.Benefit, Phase: string(a.Status.Phase)})
			}
		}
		for _, l := range cmp.Lines {
			d.Lines = append(d.Lines, LineDifference{
				SalesRecord: l.Record, Offer: l.Offer,
				Current: lineVerdictOf(l.Current), Candidate: lineVerdictOf(l.Candidate),
			})
		}
		report.Differences = append(report.Differences, d)
	}
	return report
}

func outcomeOf(o rewards.Outcome, rules *rewards.Rules) PublisherOutcome {
	return PublisherOutcome{
		Tier: o.Tier, TierName: o.TierName, BilledSales: o.BilledSales.String(), Currency: string(rules.Currency),
		Seats: o.Seats, NextTier: o.Next,
	}
}

func lineVerdictOf(l rewards.LineOutcome) LineVerdict {
	v := LineVerdict{Counted: l.Counted, Reason: l.Reason}
	if l.Amount != nil {
		v.Amount = l.Amount.String()
	}
	return v
}

// readProgramFile reads a RewardsProgram from a YAML or JSON file,
// refusing fields the API does not know.
func readProgramFile(path string) (*v1alpha1.RewardsProgram, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--program: %w", err)
	}
	if docs := bytes.Split(data, []byte("\n---")); len(docs) > 1 {
		var nonEmpty int
		for _, d := range docs {
			if len(bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(d), []byte("---")))) > 0 {
				nonEmpty++
			}
		}
		if nonEmpty > 1 {
			return nil, fmt.Errorf("--program %s: holds %d YAML documents; give one RewardsProgram", path, nonEmpty)
		}
	}
	var p v1alpha1.RewardsProgram
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return nil, fmt.Errorf("--program %s: %w", path, err)
	}
	if p.Kind != kindRewardsProgram || p.APIVersion != v1alpha1.GroupVersion.String() {
		return nil, fmt.Errorf("--program %s: is a %q of %q; want a RewardsProgram of %s", path, p.Kind, p.APIVersion, v1alpha1.GroupVersion)
	}
	if p.Name == "" {
		return nil, errors.New("--program " + path + ": metadata.name is empty: it names the program whose publishers are simulated")
	}
	return &p, nil
}

// writeSimulationTable prints the report as aligned text.
func writeSimulationTable(out io.Writer, r SimulationReport) {
	scope := scopeText(r.Namespace)
	if len(r.Differences) == 0 {
		fmt.Fprintf(out, "No differences: the candidate RewardsProgram %q leaves the %d publishers following it %s as they are "+
			"(tier, next tier, benefits unlocked, sales lines).\n",
			r.Program, r.Publishers, scope)
		return
	}
	fmt.Fprintf(out, "The candidate RewardsProgram %q changes %d of the %d publishers following it %s:\n\n", r.Program, len(r.Differences), r.Publishers, scope)
	w := newTables(out)
	fmt.Fprintf(w, "NAMESPACE\tPUBLISHER\tTIER\tNEXT TIER\tBILLED SALES\tBENEFITS\tLINES\n")
	for _, d := range r.Differences {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", d.Namespace, d.Publisher,
			change(fmt.Sprint(d.Current.Tier), fmt.Sprint(d.Candidate.Tier)),
			change(nextTierShort(d.Current.NextTier), nextTierShort(d.Candidate.NextTier)),
			change(d.Current.BilledSales+" "+d.Current.Currency, d.Candidate.BilledSales+" "+d.Candidate.Currency),
			benefitsShort(d), len(d.Lines))
	}
	w.flush()
	for _, d := range r.Differences {
		if len(d.NewlyUnlocked)+len(d.NoLongerUnlocked)+len(d.Lines) == 0 {
			continue
		}
		fmt.Fprintf(out, "\n%s/%s:\n", d.Namespace, d.Publisher)
		if len(d.NewlyUnlocked) > 0 {
			fmt.Fprintf(out, "  newly unlocked: %s\n", strings.Join(d.NewlyUnlocked, ", "))
		}
		if len(d.NoLongerUnlocked) > 0 {
			fmt.Fprintf(out, "  no longer unlocked: %s\n", strings.Join(d.NoLongerUnlocked, ", "))
		}
		for _, a := range d.Activations {
			fmt.Fprintf(out, "  activation %s (%s): %s now\n", a.Name, a.Benefit, a.Phase)
		}
		if len(d.Lines) > 0 {
			fmt.Fprintf(out, "  sales lines whose verdict changes:\n")
			w := newTables(out)
			fmt.Fprintf(w, "    SALES RECORD\tOFFER\tNOW\tCANDIDATE\n")
			for _, l := range d.Lines[:min(len(d.Lines), linesShownPerPublisher)] {
				fmt.Fprintf(w, "    %s\t%s\t%s\t%s\n", l.SalesRecord, l.Offer, verdictShort(l.Current), verdictShort(l.Candidate))
			}
			w.flush()
			if n := len(d.Lines) - linesShownPerPublisher; n > 0 {
				fmt.Fprintf(out, "    ... and %d more (-o json lists them all)\n", n)
			}
		}
	}
}

func change(from, to string) string {
	if from == to {
		return from
	}
	return from + " -> " + to
}

func nextTierShort(n *v1alpha1.TierProgress) string {
	switch {
	case n == nil:
		return "none"
	case n.NeedsLiveTransactOffer:
		return fmt.Sprintf("%d (needs a live Transact offer)", n.Level)
	}
	s := fmt.Sprintf("%d (%s more", n.Level, n.BilledSalesMissing)
	if n.SeatsMissing != nil {
		s += fmt.Sprintf(" or %d seats", *n.SeatsMissing)
	}
	return s + ")"
}

// benefitsShort counts the Transact benefits newly (+) and no longer (-)
// unlocked; the details below the table name them.
func benefitsShort(d PublisherDifference) string {
	var parts []string
	if n := len(d.NewlyUnlocked); n > 0 {
		parts = append(parts, fmt.Sprintf("+%d", n))
	}
	if n := len(d.NoLongerUnlocked); n > 0 {
		parts = append(parts, fmt.Sprintf("-%d", n))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

func verdictShort(v LineVerdict) string {
	s := v.Reason
	if v.Amount != "" {
		s += " " + v.Amount
	}
	return s
}
