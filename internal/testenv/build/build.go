// Package build builds the operator's objects for tests: one constructor
// per kind, taking what tells one object of the kind from another
// (namespace, name, references, the instant that matters), filling in the
// rest of a valid object, and options for everything else. The
// repository's tests build their objects here, internal/rewards' own
// included: the package depends on the API types only, so that no import
// cycle can keep a test from it. (A test whose data is a program's whole
// catalog, or an object's metadata, still writes that part out.)
//
// Nothing here creates an object or reads a clock: a unit test passes the
// objects to the code under test, an envtest suite creates them. No
// production code may import it.
package build

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// The options of each kind are functions that change the object being
// built, applied in order after the constructor has filled it in. They are
// aliases, so that a test may pass a function literal of its own.

// ProgramOption changes a RewardsProgram being built.
type ProgramOption = func(*v1alpha1.RewardsProgram)

// PublisherOption changes a Publisher being built.
type PublisherOption = func(*v1alpha1.Publisher)

// OfferOption changes an Offer being built.
type OfferOption = func(*v1alpha1.Offer)

// SalesRecordOption changes a SalesRecord being built.
type SalesRecordOption = func(*v1alpha1.SalesRecord)

// ActivationOption changes a BenefitActivation being built.
type ActivationOption = func(*v1alpha1.BenefitActivation)

// GrantOption changes a BenefitGrant being built.
type GrantOption = func(*v1alpha1.BenefitGrant)

// ContactDueDays is how many days after activation the marketing contact is
// due when a program does not say (B4): the contact deadline Grant records
// unless told otherwise.
const ContactDueDays = 7

// Program returns a valid program with the default tiers of docs/rules.md
// (S6) and a small catalog: five tiers unlocking one Transact benefit each
// (listing-badge, case-study and campaign are Marketing, for tiers 1 to 3;
// event-showcase and joint-gtm are Sales, for 4 and 5), tiers 2 and 3 also
// reachable by 100 and 1,000 seats, and presales-consult, a Technical
// benefit of List, Trial and Consulting offers.
//
// Its name is unique ("test-" and six random characters): programs are
// cluster-scoped, and a test that changes its program must affect no other
// test sharing the API server. ProgramName names it.
func Program(opts ...ProgramOption) *v1alpha1.RewardsProgram {
	p := &v1alpha1.RewardsProgram{
		ObjectMeta: metav1.ObjectMeta{Name: "test-" + rand.String(6)},
		Spec: v1alpha1.RewardsProgramSpec{
			Tiers: []v1alpha1.Tier{
				Tier(1, "0", "listing-badge"),
				withSeats(Tier(2, "25000", "case-study"), 100),
				withSeats(Tier(3, "100000", "campaign"), 1000),
				Tier(4, "1000000", "event-showcase"),
				Tier(5, "5000000", "joint-gtm"),
			},
			Benefits: []v1alpha1.Benefit{
				Benefit("listing-badge", v1alpha1.BenefitCategoryMarketing, v1alpha1.ListingTypeTransact),
				Benefit("case-study", v1alpha1.BenefitCategoryMarketing, v1alpha1.ListingTypeTransact),
				Benefit("campaign", v1alpha1.BenefitCategoryMarketing, v1alpha1.ListingTypeTransact),
				Benefit("event-showcase", v1alpha1.BenefitCategorySales, v1alpha1.ListingTypeTransact),
				Benefit("joint-gtm", v1alpha1.BenefitCategorySales, v1alpha1.ListingTypeTransact),
				Benefit("presales-consult", v1alpha1.BenefitCategoryTechnical,
					v1alpha1.ListingTypeList, v1alpha1.ListingTypeTrial, v1alpha1.ListingTypeConsulting),
			},
		},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// ProgramName names the program.
func ProgramName(name string) ProgramOption {
	return func(p *v1alpha1.RewardsProgram) { p.Name = name }
}

// Tiers replaces the program's tiers.
func Tiers(tiers ...v1alpha1.Tier) ProgramOption {
	return func(p *v1alpha1.RewardsProgram) { p.Spec.Tiers = tiers }
}

// Catalog replaces the program's benefits.
func Catalog(benefits ...v1alpha1.Benefit) ProgramOption {
	return func(p *v1alpha1.RewardsProgram) { p.Spec.Benefits = benefits }
}

// Tier is tier level, reached from minBilledSales of billed sales,
// unlocking benefits.
func Tier(level int32, minBilledSales string, benefits ...string) v1alpha1.Tier {
	return v1alpha1.Tier{Level: level, MinBilledSales: v1alpha1.Money(minBilledSales), Benefits: benefits}
}

// withSeats makes t reachable by seats too.
func withSeats(t v1alpha1.Tier, seats int64) v1alpha1.Tier {
	t.MinSeats = &seats
	return t
}

// Benefit is a catalog entry: benefit name, of category, for listingTypes.
func Benefit(name string, category v1alpha1.BenefitCategory, listingTypes ...v1alpha1.ListingType) v1alpha1.Benefit {
	return v1alpha1.Benefit{Name: name, Category: category, ListingTypes: listingTypes}
}

// Publisher returns an enrolled publisher (P2) in namespace ns, with MPN ID
// 4761234 and the account email partner-center@<name>.com, following the
// program named "default" (no spec.programRef) and without a marketing
// contact.
func Publisher(ns, name string, opts ...PublisherOption) *v1alpha1.Publisher {
	p := &v1alpha1.Publisher{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.PublisherSpec{
			MPNID:        "4761234",
			AccountEmail: "partner-center@" + name + ".com",
			Enrolled:     true,
		},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Following makes the publisher follow program (spec.programRef).
func Following(program string) PublisherOption {
	return func(p *v1alpha1.Publisher) { p.Spec.ProgramRef = &v1alpha1.ProgramReference{Name: program} }
}

// WithContact gives the publisher a marketing contact (P4), which Marketing
// and Sales benefits need: Avery Howard, avery@<name>.example.com.
func WithContact() PublisherOption {
	return func(p *v1alpha1.Publisher) { Contact("Avery Howard", "avery@"+p.Name+".example.com")(p) }
}

// Contact gives the publisher the marketing contact user at email, with a
// phone number and en-US as the preferred language.
func Contact(user, email string) PublisherOption {
	return func(p *v1alpha1.Publisher) {
		p.Spec.MarketingContact = &v1alpha1.MarketingContact{
			User: user, Email: email, Phone: "+14255550100", PreferredLanguage: "en-US",
		}
	}
}

// NotEnrolled leaves the program (P2): the tier is computed, no benefit
// becomes Active.
func NotEnrolled() PublisherOption {
	return func(p *v1alpha1.Publisher) { p.Spec.Enrolled = false }
}

// Violation records a compliance finding of type kind at t (P5, R1).
func Violation(kind v1alpha1.ViolationType, t time.Time, note string) PublisherOption {
	return func(p *v1alpha1.Publisher) {
		p.Spec.Violations = append(p.Spec.Violations, v1alpha1.Violation{Type: kind, Time: metav1.NewTime(t), Note: note})
	}
}

// Offer returns an Azure Marketplace offer of publisher in namespace ns, of
// listing type lt, live at liveAt.
func Offer(ns, name, publisher string, lt v1alpha1.ListingType, liveAt time.Time, opts ...OfferOption) *v1alpha1.Offer {
	o := &v1alpha1.Offer{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.OfferSpec{
			PublisherRef: v1alpha1.LocalObjectReference{Name: publisher},
			Storefront:   v1alpha1.StorefrontAzureMarketplace,
			ListingType:  lt,
			LiveAt:       metav1.NewTime(liveAt),
		},
	}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// DelistedAt delists the offer at t (O2, R2).
func DelistedAt(t time.Time) OfferOption {
	return func(o *v1alpha1.Offer) { o.Spec.DelistedAt = timePtr(t) }
}

// Microsoft365 makes the offer a SaaS app integrated with integrations
// (Teams, Outlook...), whose seats count (S5).
func Microsoft365(integrations ...v1alpha1.Microsoft365Integration) OfferOption {
	return func(o *v1alpha1.Offer) {
		o.Spec.ProductFamily = v1alpha1.ProductFamilySaaS
		o.Spec.Microsoft365Integrations = integrations
	}
}

// OfferOptedOut opts the offer out of all activities (O6).
func OfferOptedOut() OfferOption {
	return func(o *v1alpha1.Offer) { o.Spec.OptOut = true }
}

// SalesRecord returns a sales line of offer in namespace ns, for amount in
// currency, billed at billedAt, with transaction ID "tx-<name>".
func SalesRecord(ns, name, offer, amount string, currency v1alpha1.CurrencyCode, billedAt time.Time,
	opts ...SalesRecordOption) *v1alpha1.SalesRecord {
	r := &v1alpha1.SalesRecord{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.SalesRecordSpec{
			OfferRef:      v1alpha1.LocalObjectReference{Name: offer},
			TransactionID: "tx-" + name,
			Amount:        v1alpha1.Money(amount),
			Currency:      currency,
			BilledAt:      metav1.NewTime(billedAt),
		},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Seats gives the line n seats (S5).
func Seats(n int64) SalesRecordOption {
	return func(r *v1alpha1.SalesRecord) { r.Spec.Seats = n }
}

// Fraud records the line's fraud finding (S3, R3).
func Fraud(f v1alpha1.FraudState) SalesRecordOption {
	return func(r *v1alpha1.SalesRecord) { r.Spec.Fraud = f }
}

// Cancelled cancels the purchase for reason (S3, R4); at is the
// cancellation's own instant, or nil when billing gave none.
func Cancelled(reason v1alpha1.CancellationReason, at *time.Time) SalesRecordOption {
	return func(r *v1alpha1.SalesRecord) {
		r.Spec.Cancellation = &v1alpha1.Cancellation{Reason: reason}
		if at != nil {
			r.Spec.Cancellation.Time = timePtr(*at)
		}
	}
}

// Activation returns an activation of benefit for offer in namespace ns.
func Activation(ns, name, offer, benefit string, opts ...ActivationOption) *v1alpha1.BenefitActivation {
	a := &v1alpha1.BenefitActivation{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.BenefitActivationSpec{
			OfferRef: v1alpha1.LocalObjectReference{Name: offer},
			Benefit:  benefit,
		},
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

// CreatedAt sets the activation's creationTimestamp, which the API server
// sets on a created one: the oldest activation of a one-time benefit wins
// it (B3).
func CreatedAt(t time.Time) ActivationOption {
	return func(a *v1alpha1.BenefitActivation) { a.CreationTimestamp = metav1.NewTime(t) }
}

// ActivationOptedOut opts the partner out of this one engagement (O6).
func ActivationOptedOut() ActivationOption {
	return func(a *v1alpha1.BenefitActivation) { a.Spec.OptOut = true }
}

// ContactedAt records that the marketing contact was contacted at t (B4).
func ContactedAt(t time.Time) ActivationOption {
	return func(a *v1alpha1.BenefitActivation) { a.Spec.ContactedAt = timePtr(t) }
}

// Grant returns the BenefitGrant the operator records for activation name
// in namespace ns: benefit of offer of publisher, a Marketing benefit,
// activated at activatedAt, its contact due ContactDueDays later, never
// expiring and not revoked.
func Grant(ns, name, offer, benefit, publisher string, activatedAt time.Time, opts ...GrantOption) *v1alpha1.BenefitGrant {
	g := &v1alpha1.BenefitGrant{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.BenefitGrantSpec{
			Activation:   v1alpha1.GrantedActivation{Name: name},
			Benefit:      benefit,
			Category:     v1alpha1.BenefitCategoryMarketing,
			Offer:        offer,
			Publisher:    publisher,
			ActivatedAt:  metav1.NewTime(activatedAt),
			ContactDueBy: metav1.NewTime(activatedAt.AddDate(0, 0, ContactDueDays)),
		},
	}
	for _, o := range opts {
		o(g)
	}
	return g
}

// GrantCategory records the benefit's category.
func GrantCategory(c v1alpha1.BenefitCategory) GrantOption {
	return func(g *v1alpha1.BenefitGrant) { g.Spec.Category = c }
}

// ActivationUID records the uid the activation had when it was granted
// (for information: nothing decides on it, R7).
func ActivationUID(uid string) GrantOption {
	return func(g *v1alpha1.BenefitGrant) { g.Spec.Activation.UID = types.UID(uid) }
}

// ContactDueBy records the contact deadline t (B4).
func ContactDueBy(t time.Time) GrantOption {
	return func(g *v1alpha1.BenefitGrant) { g.Spec.ContactDueBy = metav1.NewTime(t) }
}

// ExpiresAt records the instant the benefit expires (O4).
func ExpiresAt(t time.Time) GrantOption {
	return func(g *v1alpha1.BenefitGrant) { g.Spec.ExpiresAt = timePtr(t) }
}

// Revoked records the revocation r (R1–R4, R6).
func Revoked(r v1alpha1.GrantRevocation) GrantOption {
	return func(g *v1alpha1.BenefitGrant) { g.Spec.Revocation = &r }
}

func timePtr(t time.Time) *metav1.Time {
	m := metav1.NewTime(t)
	return &m
}
