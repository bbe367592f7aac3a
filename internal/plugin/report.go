package plugin

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// The events of a grant that report lists.
const (
	EventIssued  = "Issued"
	EventExpired = "Expired"
	EventRevoked = "Revoked"
)

// eventOrder sorts the events of one instant as they happen.
var eventOrder = map[string]int{EventIssued: 0, EventExpired: 1, EventRevoked: 2}

type reportFlags struct {
	since, until  string
	publisher     string
	allNamespaces bool
	output        string
}

// GrantReport is what report prints with -o json.
type GrantReport struct {
	// Since and Until bound the period: since <= instant < until, or
	// instant <= until when the period ends now (no --until). Since is
	// absent for a period from the first grant on.
	Since *time.Time `json:"since,omitempty"`
	Until time.Time  `json:"until"`
	// Namespace the grants were read from; "" for all.
	Namespace string `json:"namespace,omitempty"`
	// Publisher the report is restricted to; "" for all.
	Publisher string `json:"publisher,omitempty"`
	// How many events of each kind the period holds.
	Issued  int `json:"issued"`
	Expired int `json:"expired"`
	Revoked int `json:"revoked"`
	// Events in the order they happened.
	Events []GrantEvent `json:"events"`

	// untilNow is true for a period that ends now, included.
	untilNow bool
}

// GrantEvent is a grant issued, expired or revoked, with its record.
type GrantEvent struct {
	// Event is Issued, Expired or Revoked.
	Event string `json:"event"`
	// At is when: activatedAt, expiresAt or revocation.recordedAt.
	At        time.Time `json:"at"`
	Namespace string    `json:"namespace"`
	// Grant is the BenefitGrant's name.
	Grant      string `json:"grant"`
	Activation string `json:"activation"`
	// ActivationDeleted is true when the activation no longer exists: the
	// grant is the only record left.
	ActivationDeleted bool       `json:"activationDeleted"`
	Publisher         string     `json:"publisher"`
	Offer             string     `json:"offer"`
	Benefit           string     `json:"benefit"`
	Category          string     `json:"category"`
	ActivatedAt       time.Time  `json:"activatedAt"`
	ContactDueBy      time.Time  `json:"contactDueBy"`
	ExpiresAt         *time.Time `json:"expiresAt,omitempty"`
	// Revocation is the grant's revocation, on Revoked events.
	Revocation *EventRevocation `json:"revocation,omitempty"`
}

// EventRevocation is a grant's revocation (rule R6).
type EventRevocation struct {
	Reason  string `json:"reason"`
	Message string `json:"message,omitempty"`
	// CausedBy is the object whose state caused it, as Kind/name.
	CausedBy string `json:"causedBy,omitempty"`
	// CauseTime is the cause's own instant, when it has one.
	CauseTime  *time.Time `json:"causeTime,omitempty"`
	RecordedAt time.Time  `json:"recordedAt"`
}

func newReportCommand(o *Options) *cobra.Command {
	f := &reportFlags{}
	cmd := &cobra.Command{
		Use:   "report [--since TIME] [--until TIME] [--publisher NAME] [-n NAMESPACE | -A] [-o csv|json]",
		Short: "List the benefits granted, expired and revoked in a period, for finance and audit",
		Long: `List every benefit granted, expired and revoked in a period, with the
publisher, offer, benefit and activation, and for a revocation its reason,
cause and instants. It reads the BenefitGrants, the operator's durable
record, so it includes grants whose activation was deleted since.

The period is --since <= instant < --until (by default: from the first
grant, up to now included). TIME is a date (2026-11-01, midnight UTC) or an RFC 3339
instant. An Issued event is at the grant's activatedAt, an Expired one at
its expiresAt (once passed, unless the benefit was revoked before), a
Revoked one when the operator recorded the revocation.

Output: a table, or every field as CSV (-o csv) or JSON (-o json).`,
		Example: `  # November 2026 in namespace rewards-demo
  kubectl rewards report --since 2026-11-01 --until 2026-12-01 -n rewards-demo

  # One publisher's grants, every namespace, as CSV for a spreadsheet
  kubectl rewards report -A --publisher contoso -o csv > contoso-grants.csv

  # Everything up to now, as JSON
  kubectl rewards report -A -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.report(cmd, f) },
	}
	cmd.Flags().StringVar(&f.since, "since", "", "start of the period, included: a date (2026-11-01) or an RFC 3339 instant")
	cmd.Flags().StringVar(&f.until, "until", "", "end of the period, excluded: a date or an RFC 3339 instant (default: now)")
	cmd.Flags().StringVar(&f.publisher, "publisher", "", "only the grants of this publisher")
	cmd.Flags().BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "report the grants of every namespace")
	cmd.Flags().StringVarP(&f.output, "output", "o", "", "output format: csv or json (default: a table)")
	_ = cmd.RegisterFlagCompletionFunc("output", completeValues(outputCSV, outputJSON))
	_ = cmd.RegisterFlagCompletionFunc("publisher", func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return o.completeNames(&v1alpha1.PublisherList{})(cmd, nil, toComplete)
	})
	return cmd
}

func (o *Options) report(cmd *cobra.Command, f *reportFlags) error {
	if f.output != "" && f.output != outputCSV && f.output != outputJSON {
		return usageErrorf(cmd, "--output %q: use csv or json, or leave it out for a table", f.output)
	}
	now := o.Now().Truncate(time.Second) // the grants' instants are to the second
	since, until, err := reportPeriod(cmd, f, now)
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
	var grants v1alpha1.BenefitGrantList
	if err := c.List(ctx, &grants, client.InNamespace(ns)); err != nil {
		return fmt.Errorf("listing BenefitGrants: %w", err)
	}
	var acts v1alpha1.BenefitActivationList
	if err := c.List(ctx, &acts, client.InNamespace(ns)); err != nil {
		return fmt.Errorf("listing BenefitActivations: %w", err)
	}
	activations := make(map[client.ObjectKey]bool, len(acts.Items))
	for i := range acts.Items {
		activations[client.ObjectKeyFromObject(&acts.Items[i])] = true
	}
	report := ReportGrants(grants.Items, activations, f.publisher, since, until, now)
	report.Namespace = ns
	switch f.output {
	case outputJSON:
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	case outputCSV:
		return writeReportCSV(o.Out, report)
	default:
		writeReportTable(o.Out, report)
		return nil
	}
}

// reportPeriod parses --since and --until; until is nil without --until
// (the period ends now, included).
func reportPeriod(cmd *cobra.Command, f *reportFlags, now time.Time) (since, until *time.Time, err error) {
	end := now
	if f.until != "" {
		t, err := parseReportTime(f.until)
		if err != nil {
			return nil, nil, usageErrorf(cmd, "--until %v", err)
		}
		until, end = &t, t
	}
	if f.since != "" {
		s, err := parseReportTime(f.since)
		if err != nil {
			return nil, nil, usageErrorf(cmd, "--since %v", err)
		}
		if !s.Before(end) {
			return nil, nil, usageErrorf(cmd, "--since %s is not before --until %s: the period is empty", instant(s), instant(end))
		}
		since = &s
	}
	return since, until, nil
}

// parseReportTime reads a date (midnight UTC) or an RFC 3339 instant.
func parseReportTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date like 2026-11-01 nor an RFC 3339 instant like 2026-11-01T00:00:00Z", v)
	}
	return t.UTC(), nil
}

// ReportGrants lists the events of grants in the period since <= t <
// until (since nil: from the first; until nil: up to now, included), as of
// now: a grant's issue at its activatedAt, its expiry at its expiresAt once
// passed (unless revoked before it), its revocation when it was recorded.
// activations holds the activations that exist; publisher, when not "",
// keeps that publisher's grants only.
func ReportGrants(grants []v1alpha1.BenefitGrant, activations map[client.ObjectKey]bool, publisher string,
	since, until *time.Time, now time.Time,
) GrantReport {
	in, end := period(since, until, now)
	r := GrantReport{Since: since, Until: end.UTC(), Publisher: publisher, Events: []GrantEvent{}, untilNow: until == nil}
	for i := range grants {
		if g := &grants[i]; publisher == "" || g.Spec.Publisher == publisher {
			r.Events = append(r.Events, grantEvents(g, activations, in, now)...)
		}
	}
	for _, e := range r.Events {
		switch e.Event {
		case EventIssued:
			r.Issued++
		case EventExpired:
			r.Expired++
		case EventRevoked:
			r.Revoked++
		}
	}
	sort.SliceStable(r.Events, func(i, j int) bool {
		a, b := &r.Events[i], &r.Events[j]
		switch {
		case !a.At.Equal(b.At):
			return a.At.Before(b.At)
		case a.Namespace != b.Namespace:
			return a.Namespace < b.Namespace
		case a.Grant != b.Grant:
			return a.Grant < b.Grant
		}
		return eventOrder[a.Event] < eventOrder[b.Event]
	})
	return r
}

// period is whether an instant is in [since, until), or in [since, now]
// when until is nil, and the period's end.
func period(since, until *time.Time, now time.Time) (func(time.Time) bool, time.Time) {
	after := func(t time.Time) bool { return since == nil || !t.Before(*since) }
	if until == nil {
		return func(t time.Time) bool { return after(t) && !t.After(now) }, now
	}
	return func(t time.Time) bool { return after(t) && t.Before(*until) }, *until
}

// grantEvents are g's events whose instant is in the period, as of now.
func grantEvents(g *v1alpha1.BenefitGrant, activations map[client.ObjectKey]bool, in func(time.Time) bool, now time.Time) []GrantEvent {
	var out []GrantEvent
	base := grantEvent(g, activations)
	if at := g.Spec.ActivatedAt.Time; in(at) {
		out = append(out, base.at(EventIssued, at))
	}
	rev := g.Spec.Revocation
	if e := g.Spec.ExpiresAt; e != nil && in(e.Time) && !e.After(now) && (rev == nil || rev.RecordedAt.After(e.Time)) {
		out = append(out, base.at(EventExpired, e.Time))
	}
	if rev != nil && in(rev.RecordedAt.Time) {
		ev := base.at(EventRevoked, rev.RecordedAt.Time)
		ev.Revocation = &EventRevocation{Reason: string(rev.Reason), Message: rev.Message, RecordedAt: rev.RecordedAt.UTC()}
		if rev.CausedBy != nil {
			ev.Revocation.CausedBy = rev.CausedBy.Kind + "/" + rev.CausedBy.Name
		}
		if rev.CauseTime != nil {
			t := rev.CauseTime.UTC()
			ev.Revocation.CauseTime = &t
		}
		out = append(out, ev)
	}
	return out
}

// grantEvent is what every event of g says.
func grantEvent(g *v1alpha1.BenefitGrant, activations map[client.ObjectKey]bool) GrantEvent {
	s := &g.Spec
	ev := GrantEvent{
		Namespace: g.Namespace, Grant: g.Name, Activation: s.Activation.Name,
		ActivationDeleted: !activations[client.ObjectKey{Namespace: g.Namespace, Name: s.Activation.Name}],
		Publisher:         s.Publisher, Offer: s.Offer, Benefit: s.Benefit, Category: string(s.Category),
		ActivatedAt: s.ActivatedAt.UTC(), ContactDueBy: s.ContactDueBy.UTC(),
	}
	if s.ExpiresAt != nil {
		t := s.ExpiresAt.UTC()
		ev.ExpiresAt = &t
	}
	return ev
}

func (e GrantEvent) at(event string, t time.Time) GrantEvent {
	e.Event, e.At = event, t.UTC()
	return e
}

// writeReportTable prints the report as aligned text, with a NAMESPACE
// column for every namespace.
func writeReportTable(out io.Writer, r GrantReport) {
	scope := scopeText(r.Namespace)
	if r.Publisher != "" {
		scope = fmt.Sprintf("of publisher %s %s", r.Publisher, scope)
	}
	period := "from the first grant"
	if r.Since != nil {
		period = "from " + instant(*r.Since)
	}
	if r.untilNow {
		period += " up to now, " + instant(r.Until)
	} else {
		period += " until " + instant(r.Until) + " (excluded)"
	}
	fmt.Fprintf(out, "Grants %s, %s: %d issued, %d expired, %d revoked.\n", scope, period, r.Issued, r.Expired, r.Revoked)
	if len(r.Events) == 0 {
		return
	}
	fmt.Fprintln(out)
	w := newTables(out)
	defer w.flush()
	if r.Namespace == "" {
		fmt.Fprint(w, "AT\tEVENT\tNAMESPACE\tPUBLISHER\tOFFER\tBENEFIT\tACTIVATION\tDETAIL\n")
	} else {
		fmt.Fprint(w, "AT\tEVENT\tPUBLISHER\tOFFER\tBENEFIT\tACTIVATION\tDETAIL\n")
	}
	for _, e := range r.Events {
		activation := e.Activation
		if e.ActivationDeleted {
			activation += " (deleted)"
		}
		fmt.Fprintf(w, "%s\t%s\t", instant(e.At), e.Event)
		if r.Namespace == "" {
			fmt.Fprintf(w, "%s\t", e.Namespace)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.Publisher, e.Offer, e.Benefit, activation, eventDetail(e))
	}
}

// eventDetail is the table's last column: what an auditor asks next.
func eventDetail(e GrantEvent) string {
	switch e.Event {
	case EventIssued:
		expires := "does not expire"
		if e.ExpiresAt != nil {
			expires = "expires " + instant(*e.ExpiresAt)
		}
		return fmt.Sprintf("%s; contact due %s; %s", e.Category, instant(e.ContactDueBy), expires)
	case EventExpired:
		return "issued " + instant(e.ActivatedAt)
	}
	r := e.Revocation
	s := r.Reason
	if r.CausedBy != "" {
		s += " by " + r.CausedBy
	}
	if r.CauseTime != nil {
		s += " (cause at " + instant(*r.CauseTime) + ")"
	}
	if r.Message != "" {
		s += ": " + r.Message
	}
	return s
}

// reportCSVHeader are the columns of -o csv.
var reportCSVHeader = []string{"event", "at", columnNamespace, "publisher", columnOffer, "benefit", "category", "activation", "activationDeleted",
	"grant", "activatedAt", "contactDueBy", "expiresAt", "revocationReason", "causedBy", "causeTime", "recordedAt", "message"}

// writeReportCSV prints every event as a CSV line, instants in RFC 3339,
// empty where there is none.
func writeReportCSV(out io.Writer, r GrantReport) error {
	w := csv.NewWriter(out)
	if err := w.Write(reportCSVHeader); err != nil {
		return err
	}
	opt := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return instant(*t)
	}
	for _, e := range r.Events {
		rev := e.Revocation
		if rev == nil {
			rev = &EventRevocation{}
		}
		recordedAt := ""
		if e.Revocation != nil {
			recordedAt = instant(rev.RecordedAt)
		}
		if err := w.Write([]string{e.Event, instant(e.At), e.Namespace, e.Publisher, e.Offer, e.Benefit, e.Category, e.Activation,
			strconv.FormatBool(e.ActivationDeleted), e.Grant, instant(e.ActivatedAt), instant(e.ContactDueBy), opt(e.ExpiresAt),
			rev.Reason, rev.CausedBy, opt(rev.CauseTime), recordedAt, rev.Message}); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}
