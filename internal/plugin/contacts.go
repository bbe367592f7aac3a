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

type contactsFlags struct {
	overdue       bool
	allNamespaces bool
	output        string
}

// ContactWorklist is what contacts prints with -o json.
type ContactWorklist struct {
	// At is the instant due and overdue are judged at.
	At time.Time `json:"at"`
	// Namespace the activations were read from; "" for all.
	Namespace string `json:"namespace,omitempty"`
	// OverdueOnly is true with --overdue.
	OverdueOnly bool `json:"overdueOnly"`
	// Contacts are sorted by due date, the most overdue first.
	Contacts []DueContact `json:"contacts"`
}

// DueContact is an Active benefit whose marketing contact has not been
// recorded (rule B4).
type DueContact struct {
	ContactDueBy time.Time `json:"contactDueBy"`
	// Overdue is true once contactDueBy has passed.
	Overdue     bool       `json:"overdue"`
	Namespace   string     `json:"namespace"`
	Publisher   string     `json:"publisher"`
	Activation  string     `json:"activation"`
	Offer       string     `json:"offer"`
	Benefit     string     `json:"benefit"`
	Category    string     `json:"category,omitempty"`
	ActivatedAt *time.Time `json:"activatedAt,omitempty"`
	// Contact is the publisher's marketing contact; absent when it has none.
	Contact *v1alpha1.MarketingContact `json:"contact,omitempty"`
}

func newContactsCommand(o *Options) *cobra.Command {
	f := &contactsFlags{}
	cmd := &cobra.Command{
		Use:   "contacts [--overdue] [-n NAMESPACE | -A] [-o csv|json]",
		Short: "List the marketing contacts due or overdue: the Rewards team's worklist (B4)",
		Long: `List the Active benefits whose marketing contact is still to be made
(rule B4: the Rewards team contacts the publisher's marketing contact
within the program's days of activation, then records spec.contactedAt on
the activation), with the publisher, its contact and the due date, sorted
by due date: the most overdue first.

--overdue keeps those whose due date has passed (the activations with a
ContactOverdue condition). Recording contactedAt takes an activation off
the list:

  kubectl patch benefitactivation NAME -n NAMESPACE --type merge \
    -p '{"spec":{"contactedAt":"2026-11-21T10:00:00Z"}}'`,
		Example: `  # Every contact due, in every namespace
  kubectl rewards contacts -A

  # Only the overdue ones of namespace rewards-demo
  kubectl rewards contacts --overdue -n rewards-demo

  # As CSV, for a mail merge
  kubectl rewards contacts -A -o csv`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.contacts(cmd, f) },
	}
	cmd.Flags().BoolVar(&f.overdue, "overdue", false, "only the contacts whose due date has passed")
	cmd.Flags().BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "list the contacts of every namespace")
	cmd.Flags().StringVarP(&f.output, "output", "o", "", "output format: csv or json (default: a table)")
	_ = cmd.RegisterFlagCompletionFunc("output", completeValues(outputCSV, outputJSON))
	return cmd
}

func (o *Options) contacts(cmd *cobra.Command, f *contactsFlags) error {
	if f.output != "" && f.output != outputCSV && f.output != outputJSON {
		return usageErrorf(cmd, "--output %q: use csv or json, or leave it out for a table", f.output)
	}
	ns := ""
	if !f.allNamespaces {
		var err error
		if ns, err = o.namespace(); err != nil {
			return err
		}
	}
	ctx := ctx(cmd)
	c, err := o.rewardsClient(ctx, ns)
	if err != nil {
		return err
	}
	// Publishers, offers and activations only: a namespace's sales lines
	// can be tens of thousands, and say nothing about contacts.
	snap := &snapshot{}
	var pubs v1alpha1.PublisherList
	var offers v1alpha1.OfferList
	var acts v1alpha1.BenefitActivationList
	for _, l := range []client.ObjectList{&pubs, &offers, &acts} {
		if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
			return fmt.Errorf("listing %T: %w", l, err)
		}
	}
	snap.publishers, snap.offers, snap.activations = pubs.Items, offers.Items, acts.Items
	list := dueContacts(snap, f.overdue, o.Now().Truncate(time.Second))
	list.Namespace = ns
	switch f.output {
	case outputJSON:
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	case outputCSV:
		return writeContactsCSV(o.Out, list)
	default:
		writeContactsTable(o.Out, list)
		return nil
	}
}

// dueContacts lists, from a snapshot, the Active activations without
// contactedAt (only those past their contactDueBy when overdueOnly), with
// their publisher's marketing contact, by due date, then namespace and
// name. An activation whose offer or publisher is gone stays Active (a
// grant is never demoted by a missing reference), and stays on the list:
// its publisher is the one its status names, without a contact.
func dueContacts(snap *snapshot, overdueOnly bool, now time.Time) ContactWorklist {
	type key struct{ ns, name string }
	publishers := map[key]*v1alpha1.Publisher{}
	for i := range snap.publishers {
		p := &snap.publishers[i]
		publishers[key{p.Namespace, p.Name}] = p
	}
	offerPublisher := map[key]string{}
	for _, o := range snap.offers {
		offerPublisher[key{o.Namespace, o.Name}] = o.Spec.PublisherRef.Name
	}
	list := ContactWorklist{At: now.UTC(), OverdueOnly: overdueOnly, Contacts: []DueContact{}}
	for i := range snap.activations {
		a := &snap.activations[i]
		st := &a.Status
		if st.Phase != v1alpha1.ActivationActive || a.Spec.ContactedAt != nil || st.ContactDueBy == nil {
			continue
		}
		overdue := !now.Before(st.ContactDueBy.Time)
		if overdueOnly && !overdue {
			continue
		}
		d := DueContact{
			ContactDueBy: st.ContactDueBy.UTC(), Overdue: overdue,
			Namespace: a.Namespace, Publisher: st.Publisher, Activation: a.Name,
			Offer: a.Spec.OfferRef.Name, Benefit: a.Spec.Benefit, Category: string(st.Category),
		}
		if name, ok := offerPublisher[key{a.Namespace, a.Spec.OfferRef.Name}]; ok {
			d.Publisher = name
		}
		if p := publishers[key{a.Namespace, d.Publisher}]; p != nil {
			d.Contact = p.Spec.MarketingContact
		}
		if st.ActivatedAt != nil {
			t := st.ActivatedAt.UTC()
			d.ActivatedAt = &t
		}
		list.Contacts = append(list.Contacts, d)
	}
	sort.Slice(list.Contacts, func(i, j int) bool {
		a, b := &list.Contacts[i], &list.Contacts[j]
		switch {
		case !a.ContactDueBy.Equal(b.ContactDueBy):
			return a.ContactDueBy.Before(b.ContactDueBy)
		case a.Namespace != b.Namespace:
			return a.Namespace < b.Namespace
		}
		return a.Activation < b.Activation
	})
	return list
}

// writeContactsTable prints the worklist as aligned text, with a
// NAMESPACE column for every namespace.
func writeContactsTable(out io.Writer, l ContactWorklist) {
	scope := scopeText(l.Namespace)
	overdue := 0
	for _, c := range l.Contacts {
		if c.Overdue {
			overdue++
		}
	}
	if len(l.Contacts) == 0 {
		what := "due"
		if l.OverdueOnly {
			what = "overdue"
		}
		fmt.Fprintf(out, "No marketing contact %s %s at %s.\n", what, scope, instant(l.At))
		return
	}
	fmt.Fprintf(out, "Marketing contacts to make %s at %s: %d, %d of them overdue.\n\n", scope, instant(l.At), len(l.Contacts), overdue)
	w := newTables(out)
	defer w.flush()
	if l.Namespace == "" {
		fmt.Fprint(w, "DUE BY\tSTATE\tNAMESPACE\tPUBLISHER\tCONTACT\tBENEFIT\tACTIVATION\n")
	} else {
		fmt.Fprint(w, "DUE BY\tSTATE\tPUBLISHER\tCONTACT\tBENEFIT\tACTIVATION\n")
	}
	for _, c := range l.Contacts {
		fmt.Fprintf(w, "%s\t%s\t", instant(c.ContactDueBy), dueState(c, l.At))
		if l.Namespace == "" {
			fmt.Fprintf(w, "%s\t", c.Namespace)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", c.Publisher, contactText(c.Contact), c.Benefit, c.Activation)
	}
}

// dueState says how long until, or since, a contact is due.
func dueState(c DueContact, now time.Time) string {
	if c.Overdue {
		return "overdue by " + days(now.Sub(c.ContactDueBy))
	}
	return "due in " + days(c.ContactDueBy.Sub(now))
}

// days writes a duration in days and hours, as a worklist needs it.
func days(d time.Duration) string {
	h := int(d.Round(time.Hour).Hours())
	switch {
	case h < 24:
		return fmt.Sprintf("%dh", h)
	case h%24 == 0:
		return fmt.Sprintf("%dd", h/24)
	}
	return fmt.Sprintf("%dd%dh", h/24, h%24)
}

func contactText(c *v1alpha1.MarketingContact) string {
	if c == nil {
		return "(no marketing contact)"
	}
	return fmt.Sprintf("%s <%s> %s (%s)", c.User, c.Email, c.Phone, c.PreferredLanguage)
}

// writeContactsCSV prints the worklist as CSV, one contact per line.
func writeContactsCSV(out io.Writer, l ContactWorklist) error {
	w := csv.NewWriter(out)
	if err := w.Write([]string{"contactDueBy", "overdue", columnNamespace, "publisher", "contactUser", "contactEmail", "contactPhone",
		"contactLanguage", "benefit", "category", columnOffer, "activation", "activatedAt"}); err != nil {
		return err
	}
	for _, c := range l.Contacts {
		ct := c.Contact
		if ct == nil {
			ct = &v1alpha1.MarketingContact{}
		}
		activatedAt := ""
		if c.ActivatedAt != nil {
			activatedAt = instant(*c.ActivatedAt)
		}
		if err := w.Write([]string{instant(c.ContactDueBy), strconv.FormatBool(c.Overdue), c.Namespace, c.Publisher, ct.User, ct.Email,
			ct.Phone, ct.PreferredLanguage, c.Benefit, c.Category, c.Offer, c.Activation, activatedAt}); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}
