package plugin

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/gather"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
)

// linesShown is how many of the largest lines explain publisher lists.
const linesShown = 5

// notYetDecided stands for a phase or exclusion reason the operator has not
// written yet.
const notYetDecided = "(not yet decided)"

func newExplainCommand(o *Options) *cobra.Command {
	cmd := kindGroup(&cobra.Command{
		Use:   "explain",
		Short: "Explain a publisher's tier or an activation's phase",
		Long:  "Explain what the operator decided about a publisher or a benefit activation, and why.",
		Example: `  # A publisher's tier, where its billed sales come from, and its forecast
  kubectl rewards explain publisher contoso -n rewards-demo

  # Which prerequisite a benefit activation waits on
  kubectl rewards explain activation contoso-insights-saas-digital-marketing-campaign -n rewards-demo`,
	})
	cmd.AddCommand(&cobra.Command{
		Use:     "publisher NAME",
		Aliases: []string{"publishers"},
		Short:   "Explain a publisher's tier, billed sales, forecast and benefits",
		Long: `Explain a publisher's tier: the billed sales counted per offer, what was
left out and why, the largest lines, the next tier and what it needs, when
the tier drops by itself under a Trailing12Months window, and the
publisher's benefit activations with their phase and why each Pending one
waits.

Tier, breakdown and forecast are the publisher's status, as the operator
wrote it; the lines are the SalesRecords' status.`,
		Example: `  # Explain publisher contoso in namespace rewards-demo
  kubectl rewards explain publisher contoso -n rewards-demo

  # In the current context's namespace
  kubectl rewards explain publisher contoso`,
		Args:              exactArgs("NAME"),
		ValidArgsFunction: o.completeNames(&v1alpha1.PublisherList{}),
		RunE:              func(cmd *cobra.Command, args []string) error { return o.explainPublisher(cmd, args[0]) },
	})
	cmd.AddCommand(&cobra.Command{
		Use:     "activation NAME",
		Aliases: []string{"activations", "benefitactivation", "benefitactivations", "ba"},
		Short:   "Walk a benefit activation's prerequisites in order, with ✓ or ✗",
		Long: `Walk a benefit activation's prerequisites (rule B2) in the order the
operator checks them: the objects it refers to, the publisher enrolled and
in good standing, a marketing contact where needed, the offer Live and not
opted out, the benefit offered for the offer's listing type, then one-time
use (List, Trial, Consulting) or the tier reached (Transact). Each line
says ✓ or ✗ and why. A Pending activation waits on the first ✗.

The checks are evaluated now, with the operator's own rules, from the
objects in the cluster.`,
		Example: `  # Why is this activation Pending?
  kubectl rewards explain activation contoso-insights-saas-digital-marketing-campaign -n rewards-demo`,
		Args:              exactArgs("NAME"),
		ValidArgsFunction: o.completeNames(&v1alpha1.BenefitActivationList{}),
		RunE:              func(cmd *cobra.Command, args []string) error { return o.explainActivation(cmd, args[0]) },
	})
	return cmd
}

func (o *Options) explainPublisher(cmd *cobra.Command, name string) error {
	ns, err := o.namespace()
	if err != nil {
		return err
	}
	ctx := ctx(cmd)
	c, err := o.rewardsClient(ctx, ns)
	if err != nil {
		return err
	}
	var pub v1alpha1.Publisher
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &pub); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("publisher %q not found in namespace %q", name, ns)
		}
		return err
	}
	snap, err := listSnapshot(ctx, c, ns, true)
	if err != nil {
		return err
	}
	var objs *publisherObjects
	for _, po := range snap.byPublisher() {
		if po.publisher.Name == name {
			objs = po
		}
	}
	prog, err := loadProgram(ctx, c, gather.ProgramName(&pub))
	if err != nil {
		return err
	}
	writePublisherExplanation(o.Out, &pub, objs, prog, o.Now())
	return nil
}

// writePublisherExplanation prints what explain publisher shows.
func writePublisherExplanation(out io.Writer, pub *v1alpha1.Publisher, objs *publisherObjects, prog rewards.ProgramState, now time.Time) {
	st := &pub.Status
	cur := string(st.Currency)
	if cur == "" {
		cur = string(prog.Rules.Currency)
	}
	w := newTables(out)
	defer w.flush()

	fmt.Fprintf(w, "Publisher:\t%s/%s\n", pub.Namespace, pub.Name)
	fmt.Fprintf(w, "Program:\t%s (%s window, %s)\n", gather.ProgramName(pub), prog.Rules.Window, prog.Rules.Currency)
	if st.ObservedGeneration < pub.Generation {
		fmt.Fprintf(w, "Note:\tthe operator has not yet computed generation %d of this publisher; what follows is from generation %d\n",
			pub.Generation, st.ObservedGeneration)
	}
	if ready := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady); ready != nil {
		fmt.Fprintf(w, "Ready:\t%s %s: %s\n", ready.Status, ready.Reason, ready.Message)
	}
	fmt.Fprintf(w, "Tier:\t%s\n", tierText(st.Tier, st.TierName))
	fmt.Fprintf(w, "Billed sales:\t%s %s from %d counted lines (%d left out), %d seats\n",
		orZero(st.BilledSales), cur, st.SalesRecords.Counted, st.SalesRecords.Excluded, st.Seats)
	fmt.Fprintf(w, "Next tier:\t%s\n", nextTierText(st.NextTier, cur))
	fmt.Fprintf(w, "Forecast:\t%s\n", forecastText(st.Forecast, prog.Rules.Window, cur))
	fmt.Fprintf(w, "Standing:\t%s\n", st.Standing)
	w.next()

	b := st.Breakdown
	if len(b.Offers) > 0 {
		fmt.Fprintf(w, "\nCounted billed sales by offer:\n")
		fmt.Fprintf(w, "  OFFER\tBILLED SALES (%s)\tLINES\n", cur)
		for _, os := range b.Offers {
			fmt.Fprintf(w, "  %s\t%s\t%d\n", os.Offer, os.BilledSales, os.Lines)
		}
		if b.Others != nil {
			fmt.Fprintf(w, "  (%d other offers)\t%s\t%d\n", b.Others.Offers, b.Others.BilledSales, b.Others.Lines)
		}
		w.next()
	}
	if len(b.Excluded) > 0 {
		fmt.Fprintf(w, "\nLeft out:\n")
		fmt.Fprintf(w, "  REASON\tLINES\tAMOUNT (%s)\tWHY\n", cur)
		for _, e := range b.Excluded {
			amount := string(e.Amount)
			if e.LinesWithoutRate > 0 {
				amount += fmt.Sprintf(" + %d lines without a rate", e.LinesWithoutRate)
			}
			fmt.Fprintf(w, "  %s\t%d\t%s\t%s\n", e.Reason, e.Lines, amount, excludedWhy(string(e.Reason)))
		}
		w.next()
	}

	if objs != nil {
		writeLines(w, objs.records, prog.Rules, now)
		writeBenefits(w, objs.activations)
	}
}

// writeLines lists the largest counted lines, with when they leave a
// trailing window, and the largest lines left out.
func writeLines(w *tables, lines []v1alpha1.SalesRecord, rules *rewards.Rules, now time.Time) {
	var counted, excluded []*v1alpha1.SalesRecord
	for i := range lines {
		r := &lines[i]
		if r.Status.Counted {
			counted = append(counted, r)
		} else {
			excluded = append(excluded, r)
		}
	}
	largestFirst := func(rs []*v1alpha1.SalesRecord) {
		sort.SliceStable(rs, func(i, j int) bool {
			a, b := moneyOrZero(rs[i].Status.ProgramAmount), moneyOrZero(rs[j].Status.ProgramAmount)
			if c := a.Cmp(b); c != 0 {
				return c > 0
			}
			return rs[i].Name < rs[j].Name
		})
	}
	largestFirst(counted)
	largestFirst(excluded)
	trailing := rules.Window == v1alpha1.SalesWindowTrailing12Months

	if len(counted) > 0 {
		fmt.Fprintf(w, "\nLargest counted lines (%d of %d):\n", min(linesShown, len(counted)), len(counted))
		if trailing {
			fmt.Fprintf(w, "  SALES RECORD\tOFFER\tAMOUNT\tBILLED AT\tLEAVES THE WINDOW AT\n")
		} else {
			fmt.Fprintf(w, "  SALES RECORD\tOFFER\tAMOUNT\tBILLED AT\n")
		}
		for _, r := range counted[:min(linesShown, len(counted))] {
			fmt.Fprintf(w, "  %s\t%s\t%s %s\t%s", r.Name, r.Spec.OfferRef.Name, r.Status.ProgramAmount, r.Status.ProgramCurrency, instant(r.Spec.BilledAt.Time))
			if trailing {
				leaves := "-"
				if _, next := rewards.WindowBounds(rules.Window, r.Spec.BilledAt.Time, now); next != nil {
					leaves = instant(*next)
				}
				fmt.Fprintf(w, "\t%s", leaves)
			}
			fmt.Fprintln(w)
		}
		w.next()
	}
	if len(excluded) > 0 {
		fmt.Fprintf(w, "\nLargest lines left out (%d of %d):\n", min(linesShown, len(excluded)), len(excluded))
		fmt.Fprintf(w, "  SALES RECORD\tOFFER\tAMOUNT\tBILLED AT\tREASON\n")
		for _, r := range excluded[:min(linesShown, len(excluded))] {
			reason := r.Status.Reason
			if reason == "" {
				reason = notYetDecided
			}
			fmt.Fprintf(w, "  %s\t%s\t%s %s\t%s\t%s\n", r.Name, r.Spec.OfferRef.Name, r.Spec.Amount, r.Spec.Currency, instant(r.Spec.BilledAt.Time), reason)
		}
		w.next()
	}
}

// writeBenefits lists the publisher's activations, and why each Pending
// one waits.
func writeBenefits(w *tables, activations []v1alpha1.BenefitActivation) {
	if len(activations) == 0 {
		return
	}
	sort.Slice(activations, func(i, j int) bool { return activations[i].Name < activations[j].Name })
	fmt.Fprintf(w, "\nBenefits:\n")
	fmt.Fprintf(w, "  ACTIVATION\tOFFER\tBENEFIT\tPHASE\tWHY\n")
	for i := range activations {
		a := &activations[i]
		phase := string(a.Status.Phase)
		if phase == "" {
			phase = notYetDecided
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\n", a.Name, a.Spec.OfferRef.Name, a.Spec.Benefit, phase, activationWhy(a))
	}
	w.next()
}

// activationWhy is one line on an activation's phase.
func activationWhy(a *v1alpha1.BenefitActivation) string {
	st := &a.Status
	switch st.Phase {
	case v1alpha1.ActivationActive:
		s := "active since " + instantPtr(st.ActivatedAt)
		if st.ExpiresAt != nil {
			s += ", expires at " + instantPtr(st.ExpiresAt)
		}
		return s
	case v1alpha1.ActivationExpired:
		return "expired at " + instantPtr(st.ExpiredAt)
	case v1alpha1.ActivationRevoked:
		if st.Revocation != nil {
			return fmt.Sprintf("revoked (%s) at %s: %s", st.Revocation.Reason, instant(st.Revocation.Time.Time), st.Revocation.Message)
		}
	}
	if ready := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady); ready != nil {
		return ready.Reason + ": " + ready.Message
	}
	return ""
}

// excludedWhy says in words what an exclusion reason means.
func excludedWhy(reason string) string {
	switch reason {
	case v1alpha1.SalesFraudProven:
		return "proven fraudulent (S3)"
	case v1alpha1.SalesCancelled:
		return "purchase cancelled (S3)"
	case v1alpha1.SalesNoExchangeRate:
		return "no exchange rate for the line's currency; counts once the program gives one (S2)"
	case v1alpha1.SalesOutsideWindow:
		return "billed in the future, or older than the sales window (S4)"
	case v1alpha1.SalesOfferNotTransact:
		return "not a Transact offer (S1)"
	case v1alpha1.SalesOfferNotFound:
		return "the offer does not exist"
	}
	return ""
}

func tierText(tier int32, name string) string {
	if tier == 0 {
		return "none (0)"
	}
	if name == "" || name == fmt.Sprintf("Tier %d", tier) {
		return fmt.Sprint(tier)
	}
	return fmt.Sprintf("%d (%s)", tier, name)
}

func nextTierText(n *v1alpha1.TierProgress, currency string) string {
	if n == nil {
		return "none: the top tier is reached"
	}
	name := n.Name
	if name == "" {
		name = fmt.Sprintf("Tier %d", n.Level)
	}
	if n.NeedsLiveTransactOffer {
		return name + " needs a live Transact offer"
	}
	s := fmt.Sprintf("%s needs %s %s more", name, n.BilledSalesMissing, currency)
	if n.SeatsMissing != nil {
		s += fmt.Sprintf(" or %d more seats", *n.SeatsMissing)
	}
	return s
}

func forecastText(f *v1alpha1.TierForecast, window v1alpha1.SalesWindow, currency string) string {
	switch {
	case f != nil:
		return fmt.Sprintf("if nothing new is billed, the tier drops to %s at %s, with %s %s of billed sales",
			tierText(f.Tier, f.TierName), instant(f.DropsAt.Time), f.BilledSales, currency)
	case window != v1alpha1.SalesWindowTrailing12Months:
		return "the tier does not drop by itself: sales never age out of a " + string(window) + " window"
	}
	return "the tier does not drop by itself with the lines and offers known now"
}

func instant(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func instantPtr(t *metav1.Time) string {
	if t == nil {
		return "-"
	}
	return instant(t.Time)
}

func orZero(m v1alpha1.DerivedMoney) string {
	if m == "" {
		return "0.00"
	}
	return string(m)
}

func moneyOrZero(m v1alpha1.DerivedMoney) rewards.Money {
	v, err := rewards.ParseMoney(string(m))
	if err != nil {
		return rewards.ZeroMoney()
	}
	return v
}

func (o *Options) explainActivation(cmd *cobra.Command, name string) error {
	ns, err := o.namespace()
	if err != nil {
		return err
	}
	ctx := ctx(cmd)
	c, err := o.rewardsClient(ctx, ns)
	if err != nil {
		return err
	}
	var act v1alpha1.BenefitActivation
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &act); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("benefit activation %q not found in namespace %q", name, ns)
		}
		return err
	}
	in, err := activationInput(ctx, c, &act, o.Now())
	if err != nil {
		return err
	}
	writeActivationExplanation(o.Out, &act, in, in.Program)
	return nil
}

// activationInput gathers the decision's input with the operator's own
// gatherer, over the API server: what the operator reads from its cache,
// the plugin reads fresh, through the same code.
func activationInput(ctx context.Context, c client.Reader, act *v1alpha1.BenefitActivation, now time.Time) (rewards.ActivationInput, error) {
	g := gather.Gatherer{Reader: c, Programs: records.NewPrograms(c), Grants: records.NewGrants(c, nil)}
	return g.Activation(ctx, act, now)
}

// writeActivationExplanation prints what explain activation shows.
func writeActivationExplanation(out io.Writer, act *v1alpha1.BenefitActivation, in rewards.ActivationInput, prog rewards.ProgramState) {
	w := newTables(out)
	defer w.flush()
	st := &act.Status
	fmt.Fprintf(w, "Activation:\t%s/%s\n", act.Namespace, act.Name)
	benefit := act.Spec.Benefit
	if prog.Rules != nil {
		if b, ok := prog.Rules.Catalog[benefit]; ok {
			benefit = fmt.Sprintf("%s (%s, for %s offers", b.Name, b.Category, joinListingTypes(b.ListingTypes))
			if tier, ok := prog.Rules.BenefitTier[b.Name]; ok {
				benefit += fmt.Sprintf(", unlocked at tier %d", tier)
			}
			benefit += ")"
		}
	}
	fmt.Fprintf(w, "Benefit:\t%s\n", benefit)
	if in.Offer != nil {
		phase, _ := rewards.OfferPhaseAt(&in.Offer.Spec, in.Now)
		fmt.Fprintf(w, "Offer:\t%s (%s, %s)\n", in.Offer.Name, in.Offer.Spec.ListingType, phase)
	} else {
		fmt.Fprintf(w, "Offer:\t%s (not found)\n", act.Spec.OfferRef.Name)
	}
	if in.Publisher != nil {
		fmt.Fprintf(w, "Publisher:\t%s (tier %d, program %s)\n", in.Publisher.Name, in.Sales.Tier, prog.Name)
	}
	phase := string(st.Phase)
	if phase == "" {
		phase = notYetDecided
	}
	fmt.Fprintf(w, "Phase:\t%s\n", phase)
	if ready := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady); ready != nil {
		fmt.Fprintf(w, "Ready:\t%s %s: %s\n", ready.Status, ready.Reason, ready.Message)
	}
	if g := in.Grant; g != nil {
		fmt.Fprintf(w, "Granted:\tat %s (BenefitGrant %s)\n", instant(g.Spec.ActivatedAt.Time), g.Name)
		if p := g.Spec.Program; p != nil {
			fmt.Fprintf(w, "Granted under:\tRewardsProgram %s, RewardsProgramRevision %s\n", p.Name, p.Revision)
		}
		if r := g.Spec.Revocation; r != nil {
			fmt.Fprintf(w, "Revoked:\t%s, recorded at %s: %s\n", r.Reason, instant(r.RecordedAt.Time), r.Message)
		}
		fmt.Fprintf(w, "Note:\tthe prerequisites decide only until a benefit is granted; they are shown as they stand now\n")
	}
	w.next()

	fmt.Fprintf(w, "\nChecks, in the order they decide:\n")
	for _, r := range rewards.ExplainChain(in) {
		mark, msg := "✓", r.Message
		switch {
		case !r.Evaluated:
			mark, msg = "-", "not checked: an object it needs is missing"
		case !r.Passed:
			mark, msg = "✗", r.Reason+": "+r.Message
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", mark, r.Title, "("+r.Rule+")", msg)
	}
}

func joinListingTypes(lts []v1alpha1.ListingType) string {
	s := make([]string, len(lts))
	for i, lt := range lts {
		s[i] = string(lt)
	}
	return strings.Join(s, ", ")
}
