package build_test

import (
	"testing"
	"time"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

func TestProgram(t *testing.T) {
	a, b := build.Program(), build.Program()
	if a.Name == b.Name {
		t.Errorf("two programs share the name %q", a.Name)
	}
	rules, problems := rewards.ResolveProgram(&a.Spec)
	if len(problems) > 0 {
		t.Errorf("problems: %v", problems)
	}
	if len(rules.Tiers) != 5 {
		t.Errorf("%d tiers, want the five of docs/rules.md, S6", len(rules.Tiers))
	}
	a.Spec.Benefits[0].ListingTypes[0] = v1alpha1.ListingTypeList
	a.Spec.Tiers[0].Benefits[0] = "changed"
	if b.Spec.Benefits[0].ListingTypes[0] != v1alpha1.ListingTypeTransact || a.Spec.Benefits[1].ListingTypes[0] != v1alpha1.ListingTypeTransact ||
		b.Spec.Tiers[0].Benefits[0] != "listing-badge" {
		t.Error("programs or benefits share their slices")
	}

	named := build.Program(build.ProgramName("gold"), build.Tiers(build.Tier(1, "0", "co-sell")),
		build.Catalog(build.Benefit("co-sell", v1alpha1.BenefitCategorySales, v1alpha1.ListingTypeTransact)))
	if _, problems := rewards.ResolveProgram(&named.Spec); named.Name != "gold" || len(problems) > 0 {
		t.Errorf("named program %q: problems %v", named.Name, problems)
	}
}

func TestPublisher(t *testing.T) {
	if p := build.Publisher("ns", "contoso"); p.Spec.ProgramRef != nil || p.Spec.MarketingContact != nil || !p.Spec.Enrolled {
		t.Errorf("Publisher with no option: %+v", p.Spec)
	}
	p := build.Publisher("ns", "contoso", build.Following("gold"), build.WithContact())
	if p.Spec.ProgramRef == nil || p.Spec.ProgramRef.Name != "gold" || p.Spec.MarketingContact == nil {
		t.Fatalf("Publisher following gold, with a contact: %+v", p.Spec)
	}
	// P3: the contact's email is not the account's.
	if p.Spec.MarketingContact.Email == p.Spec.AccountEmail {
		t.Errorf("the contact's email is the account's: %q", p.Spec.AccountEmail)
	}
}

// The options change what they name and nothing else, in the order given.
func TestOptions(t *testing.T) {
	at := time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)
	o := build.Offer("ns", "saas", "contoso", v1alpha1.ListingTypeTransact, at, build.DelistedAt(at.Add(time.Hour)), build.OfferOptedOut())
	if o.Spec.DelistedAt == nil || !o.Spec.DelistedAt.Time.Equal(at.Add(time.Hour)) || !o.Spec.OptOut || !o.Spec.LiveAt.Time.Equal(at) {
		t.Errorf("offer: %+v", o.Spec)
	}
	r := build.SalesRecord("ns", "line", "saas", "10", "USD", at, build.Seats(3), build.Cancelled(v1alpha1.CancellationBeforeUse, nil))
	if r.Spec.Seats != 3 || r.Spec.Cancellation == nil || r.Spec.Cancellation.Time != nil || r.Spec.TransactionID != "tx-line" {
		t.Errorf("sales record: %+v", r.Spec)
	}
	a := build.Activation("ns", "blog", "trial", "go-live-blog", build.CreatedAt(at), build.ContactedAt(at))
	if !a.CreationTimestamp.Time.Equal(at) || a.Spec.ContactedAt == nil || a.Spec.OptOut {
		t.Errorf("activation: %+v", a)
	}
	g := build.Grant("ns", "blog", "trial", "go-live-blog", "contoso", at)
	if want := at.AddDate(0, 0, build.ContactDueDays); !g.Spec.ContactDueBy.Time.Equal(want) || g.Spec.Activation.Name != "blog" || g.Spec.Revocation != nil {
		t.Errorf("grant: %+v", g.Spec)
	}
}
