package rewards

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// Fixture instants of the activation tests, all in whole seconds (the API
// server keeps seconds) unless a case says otherwise.
var (
	// baLive is when the List, Trial and Consulting offers go live.
	baLive = utc(2026, time.November, 30, 9, 0, 0)
	// baExpiry is baLive plus 3 calendar months (O4): the end of February,
	// not 2 March.
	baExpiry = utc(2027, time.February, 28, 9, 0, 0)
	// baNow is the default time of a decision: after baLive, before baExpiry.
	baNow = utc(2027, time.January, 10, 12, 0, 0)
	// baSince is when an already Active activation became Active; its
	// contact was due at baSinceDue, which has passed at baNow.
	baSince    = utc(2026, time.December, 15, 12, 0, 0)
	baSinceDue = utc(2026, time.December, 22, 12, 0, 0)
	// baCreated is when activations are created.
	baCreated = utc(2026, time.December, 1, 10, 0, 0)
	// baSaaSLive is when the Transact offer went live.
	baSaaSLive = utc(2025, time.January, 1, 0, 0, 0)
	baWeek     = 7 * 24 * time.Hour
)

// baProgramSpec is defaultProgramSpec with two more one-time benefits, so
// that every category (P4) exists for List, Trial and Consulting offers.
func baProgramSpec(mods ...func(*v1alpha1.RewardsProgramSpec)) *v1alpha1.RewardsProgramSpec {
	spec := defaultProgramSpec()
	oneTime := []v1alpha1.ListingType{v1alpha1.ListingTypeList, v1alpha1.ListingTypeTrial, v1alpha1.ListingTypeConsulting}
	spec.Benefits = append(spec.Benefits,
		v1alpha1.Benefit{Name: "sales-kit", Category: v1alpha1.BenefitCategorySales, ListingTypes: oneTime},
		v1alpha1.Benefit{Name: "engagement-manager", Category: v1alpha1.BenefitCategoryTechnical, ListingTypes: oneTime},
	)
	for _, m := range mods {
		m(spec)
	}
	return spec
}

// baRules resolves baProgramSpec and panics on a problem: the fixture must
// be consistent.
func baRules(mods ...func(*v1alpha1.RewardsProgramSpec)) *Rules {
	r, problems := ResolveProgram(baProgramSpec(mods...))
	if len(problems) > 0 {
		panic(problems)
	}
	return r
}

func baListExpiryMonths(n int32) func(*v1alpha1.RewardsProgramSpec) {
	return func(s *v1alpha1.RewardsProgramSpec) { s.Durations.ListExpiryMonths = &n }
}

func baTrialExpiryMonths(n int32) func(*v1alpha1.RewardsProgramSpec) {
	return func(s *v1alpha1.RewardsProgramSpec) { s.Durations.TrialConsultingExpiryMonths = &n }
}

func baContactDueDays(n int32) func(*v1alpha1.RewardsProgramSpec) {
	return func(s *v1alpha1.RewardsProgramSpec) { s.Durations.ContactDueDays = &n }
}

func baFraudScopeOffer(s *v1alpha1.RewardsProgramSpec) {
	s.Revocation.FraudScope = v1alpha1.FraudScopeOffer
}

func baKeepUnlocked(keep bool) func(*v1alpha1.RewardsProgramSpec) {
	return func(s *v1alpha1.RewardsProgramSpec) { s.Revocation.KeepUnlockedBenefits = &keep }
}

// baTrailing sets the Trailing12Months sales window.
func baTrailing() func(*v1alpha1.RewardsProgramSpec) {
	return func(s *v1alpha1.RewardsProgramSpec) { s.SalesWindow = v1alpha1.SalesWindowTrailing12Months }
}

// baPublisher is publisher "contoso": enrolled, with a marketing contact and
// no violation.
func baPublisher(opts ...build.PublisherOption) *v1alpha1.Publisher {
	return build.Publisher("contoso", "contoso", append([]build.PublisherOption{build.Contact("jane", "jane@contoso.com")}, opts...)...)
}

func baNoContact(p *v1alpha1.Publisher) { p.Spec.MarketingContact = nil }

// baViolation is a SponsorshipPolicy finding made before baNow (R1).
var baViolation = build.Violation(v1alpha1.ViolationSponsorshipPolicy, utc(2027, time.January, 5, 0, 0, 0), "bitcoin mining")

// Offers of publisher "contoso".
func baTrial(opts ...build.OfferOption) v1alpha1.Offer {
	return mkOffer("trial", v1alpha1.ListingTypeTrial, baLive, opts...)
}

func baSaaS(opts ...build.OfferOption) v1alpha1.Offer {
	return mkOffer("saas", v1alpha1.ListingTypeTransact, baSaaSLive, opts...)
}

func baLiveAt(t time.Time) build.OfferOption {
	return func(o *v1alpha1.Offer) { o.Spec.LiveAt = metaTime(t) }
}

// baActivation builds an activation of benefit for offer, created at created.
func baActivation(name, offer, benefit string, created time.Time, opts ...build.ActivationOption) v1alpha1.BenefitActivation {
	return *build.Activation("contoso", name, offer, benefit, append([]build.ActivationOption{build.CreatedAt(created)}, opts...)...)
}

// baActive is the status of an activation Active since since, its contact
// due a week later, expiring at expires (nil: never).
func baActive(since time.Time, cat v1alpha1.BenefitCategory, expires *time.Time) build.ActivationOption {
	return func(a *v1alpha1.BenefitActivation) {
		a.Status.Phase = v1alpha1.ActivationActive
		a.Status.Category = cat
		a.Status.ActivatedAt = metaTimePtr(since)
		a.Status.ContactDueBy = metaTimePtr(since.Add(baWeek))
		if expires != nil {
			a.Status.ExpiresAt = metaTimePtr(*expires)
		}
	}
}

func baPhase(p v1alpha1.ActivationPhase) build.ActivationOption {
	return func(a *v1alpha1.BenefitActivation) { a.Status.Phase = p }
}

// baTier is what the activation rules know of a publisher at tier n with
// no fraud and no cancellation.
func baTier(n int32) SalesFacts {
	billed := map[int32]string{0: "0", 1: "1000", 2: "30000", 3: "150000", 4: "2000000", 5: "6000000"}[n]
	return SalesFacts{Tier: n, BilledSales: MustParseMoney(billed), HasLiveTransactOffer: n > 0}
}

func baTierWithNext(n int32, next time.Time) SalesFacts {
	f := baTier(n)
	f.NextChangeAt = &next
	return f
}

// baInput decides act for offer at baNow, for publisher "contoso" at tier 2
// under the "default" program; the activation is its own only sibling. An
// activation whose status says it was granted (activatedAt set) comes with
// the BenefitGrant the operator recorded then, as the controller passes it;
// baNoGrant and baWiped take one of the two away.
func baInput(act v1alpha1.BenefitActivation, offer v1alpha1.Offer, mods ...func(*ActivationInput)) ActivationInput {
	in := ActivationInput{
		Activation: &act,
		Grant:      baGrantOf(act),
		Offer:      &offer,
		Publisher:  baPublisher(),
		Program:    ProgramState{Name: "default", Rules: baRules(), Generation: 1, RulesGeneration: 1, Revision: "default-0123456789"},
		Siblings:   []v1alpha1.BenefitActivation{act},
		Sales:      baTier(2),
		Now:        baNow,
	}
	for _, m := range mods {
		m(&in)
	}
	return in
}

// baGrantOf is the BenefitGrant recorded for an activation whose status
// says it was granted, nil for one that was not.
func baGrantOf(a v1alpha1.BenefitActivation) *v1alpha1.BenefitGrant {
	st := a.Status
	if st.ActivatedAt == nil {
		return nil
	}
	opts := []build.GrantOption{build.ActivationUID(string(a.UID)), build.GrantCategory(st.Category), build.ContactDueBy(st.ContactDueBy.Time)}
	if st.ExpiresAt != nil {
		opts = append(opts, build.ExpiresAt(st.ExpiresAt.Time))
	}
	if r := st.Revocation; r != nil {
		opts = append(opts, build.Revoked(v1alpha1.GrantRevocation{Reason: r.Reason, Message: r.Message, CausedBy: r.CausedBy, CauseTime: r.CauseTime, RecordedAt: r.Time}))
	}
	return build.Grant(a.Namespace, a.Name, a.Spec.OfferRef.Name, a.Spec.Benefit, "contoso", st.ActivatedAt.Time, opts...)
}

// baNoGrant: no BenefitGrant records the activation, whatever its status
// says (an activation granted by an earlier version of the operator).
func baNoGrant(in *ActivationInput) { in.Grant = nil }

// baWiped: the activation's status is gone (a backup restored without it,
// a cluster rebuilt from Git); its grant is still there.
func baWiped(in *ActivationInput) {
	a := in.Activation.DeepCopy()
	a.Status = v1alpha1.BenefitActivationStatus{}
	in.Activation = a
}

// baNeverValid: the program's spec is not valid and never was, so no rules
// are in force.
func baNeverValid(problem string) func(*ActivationInput) {
	return func(in *ActivationInput) {
		in.Program = ProgramState{Name: "default", Rules: DefaultRules(), Problem: problem, Generation: 1}
	}
}

func baAt(now time.Time) func(*ActivationInput) {
	return func(in *ActivationInput) { in.Now = now }
}

func baPub(opts ...build.PublisherOption) func(*ActivationInput) {
	return func(in *ActivationInput) { in.Publisher = baPublisher(opts...) }
}

func baSales(f SalesFacts) func(*ActivationInput) {
	return func(in *ActivationInput) { in.Sales = f }
}

func baProgram(mods ...func(*v1alpha1.RewardsProgramSpec)) func(*ActivationInput) {
	return func(in *ActivationInput) { in.Program.Rules = baRules(mods...) }
}

// baSiblings adds other activations of the same offer; those whose status
// says they were granted hold a grant.
func baSiblings(others ...v1alpha1.BenefitActivation) func(*ActivationInput) {
	return func(in *ActivationInput) {
		in.Siblings = append([]v1alpha1.BenefitActivation{*in.Activation}, others...)
		for _, o := range others {
			if g := baGrantOf(o); g != nil && o.Spec.Benefit == in.Activation.Spec.Benefit {
				in.SiblingGrants = append(in.SiblingGrants, *g)
			}
		}
	}
}

// baWantActive is an Active decision.
func baWantActive(cat v1alpha1.BenefitCategory, activatedAt time.Time, expires *time.Time, contact string, next *time.Time) ActivationDecision {
	return ActivationDecision{
		Phase: v1alpha1.ActivationActive, Ready: true, Reason: v1alpha1.ReasonActive, Category: cat,
		ActivatedAt: &activatedAt, ContactDueBy: ptrTo(activatedAt.Add(baWeek)), ExpiresAt: expires,
		ContactOverdue: contact == v1alpha1.ReasonContactOverdue, ContactReason: contact,
		NextCheck: next,
	}
}

// baWantPending is a Pending decision of an activation never Active.
func baWantPending(reason string, cat v1alpha1.BenefitCategory, next *time.Time) ActivationDecision {
	return ActivationDecision{Phase: v1alpha1.ActivationPending, Reason: reason, Category: cat, NextCheck: next}
}

// baWantRevoked is the Revoked decision of an activation that was granted
// at since (contact due a week later), its revocation recorded at now;
// causeTime is the cause's own instant, nil when it has none.
func baWantRevoked(cat v1alpha1.BenefitCategory, since *time.Time, expires *time.Time, reason v1alpha1.RevocationReason, kind, name string, now time.Time, causeTime *time.Time) ActivationDecision {
	recordedAt := now.Truncate(time.Second)
	d := ActivationDecision{
		Phase: v1alpha1.ActivationRevoked, Reason: v1alpha1.ReasonRevoked, Category: cat, ExpiresAt: expires,
		Revocation: &Revocation{
			Reason: reason, RecordedAt: &recordedAt,
			CausedBy: v1alpha1.ObjectReference{Kind: kind, Name: name}, CauseTime: causeTime,
		},
	}
	if since != nil {
		d.ActivatedAt, d.ContactDueBy = since, ptrTo(since.Add(baWeek))
	}
	return d
}

// baWantRevokedNotGranted is the Revoked decision of an activation never
// granted, by a cause at at: nothing recorded, the cause's spec says it all.
func baWantRevokedNotGranted(cat v1alpha1.BenefitCategory, reason v1alpha1.RevocationReason, kind, name string, at time.Time) ActivationDecision {
	return ActivationDecision{
		Phase: v1alpha1.ActivationRevoked, Reason: v1alpha1.ReasonRevoked, Category: cat,
		Revocation: &Revocation{Reason: reason, CauseTime: &at, CausedBy: v1alpha1.ObjectReference{Kind: kind, Name: name}},
	}
}

type activationCase struct {
	reason string
	in     ActivationInput
	want   ActivationDecision
	// msgHas are substrings the Ready message must contain.
	msgHas []string
}

// runActivationCases compares decisions field by field; messages are for
// people and are only checked for non-emptiness and msgHas.
func runActivationCases(t *testing.T, cases map[string]activationCase) {
	t.Helper()
	// What the decision asks to record is checked by TestDecideActivationRecord.
	opts := []cmp.Option{
		cmpopts.IgnoreFields(ActivationDecision{}, "Message", "ContactMessage", "Record"),
		cmpopts.IgnoreFields(Revocation{}, "Message"),
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := DecideActivation(tc.in)
			if diff := cmp.Diff(tc.want, got, opts...); diff != "" {
				t.Errorf("%s\nDecideActivation(...): -want, +got:\n%s", tc.reason, diff)
			}
			if got.Message == "" {
				t.Errorf("%s\nDecideActivation(...): empty Ready message", tc.reason)
			}
			for _, s := range tc.msgHas {
				if !strings.Contains(got.Message, s) {
					t.Errorf("%s\nDecideActivation(...).Message = %q, want it to mention %q", tc.reason, got.Message, s)
				}
			}
			if got.ContactReason != "" && got.ContactMessage == "" {
				t.Errorf("%s\nDecideActivation(...): ContactReason %s without a message", tc.reason, got.ContactReason)
			}
			if got.Revocation != nil && got.Revocation.Message == "" {
				t.Errorf("%s\nDecideActivation(...): revocation without a message", tc.reason)
			}
		})
	}
}

func TestDecideActivationMissingReferences(t *testing.T) {
	blog := baActivation("blog", "trial", "go-live-blog", baCreated)
	activeBlog := baActivation("blog", "trial", "go-live-blog", baCreated, baActive(baSince, v1alpha1.BenefitCategoryMarketing, &baExpiry))
	// pausedActive: granted, Active, its contact overdue at baNow, Ready
	// False naming what is missing.
	pausedActive := func(reason string) ActivationDecision {
		return ActivationDecision{
			Phase: v1alpha1.ActivationActive, Reason: reason, Category: v1alpha1.BenefitCategoryMarketing,
			ActivatedAt: &baSince, ContactDueBy: &baSinceDue, ExpiresAt: &baExpiry, NextCheck: &baExpiry,
			ContactOverdue: true, ContactReason: v1alpha1.ReasonContactOverdue,
		}
	}
	cases := map[string]activationCase{
		"OfferNotFound": {
			reason: "references: an offer that does not exist keeps the activation Pending OfferNotFound",
			in:     baInput(blog, baTrial(), func(in *ActivationInput) { in.Offer = nil }),
			want:   baWantPending(v1alpha1.ReasonOfferNotFound, "", nil),
			msgHas: []string{`"trial"`},
		},
		"PublisherNotFound": {
			reason: "references: a publisher that does not exist keeps the activation Pending PublisherNotFound",
			in:     baInput(blog, baTrial(), func(in *ActivationInput) { in.Publisher = nil }),
			want:   baWantPending(v1alpha1.ReasonPublisherNotFound, "", nil),
			msgHas: []string{`"contoso"`},
		},
		"ProgramNotFound": {
			reason: "references: a RewardsProgram that does not exist keeps the activation Pending ProgramNotFound",
			in:     baInput(blog, baTrial(), func(in *ActivationInput) { in.Program = ProgramState{Name: "gold", Missing: true} }),
			want:   baWantPending(v1alpha1.ReasonProgramNotFound, "", nil),
			msgHas: []string{`"gold"`},
		},
		"ProgramInvalid": {
			reason: "references: a RewardsProgram never valid decides nothing: the activation is Pending ProgramInvalid, naming the problem",
			in:     baInput(blog, baTrial(), baNeverValid("spec.tiers[level=2].benefits: \"nope\" is not in spec.benefits")),
			want:   baWantPending(v1alpha1.ReasonProgramInvalid, "", nil),
			msgHas: []string{"spec.tiers[level=2].benefits"},
		},
		"OfferCheckedBeforePublisher": {
			reason: "references: the offer is checked first, since the publisher is found through it",
			in: baInput(blog, baTrial(), func(in *ActivationInput) {
				in.Offer, in.Publisher, in.Program = nil, nil, ProgramState{Name: "default", Missing: true}
			}),
			want: baWantPending(v1alpha1.ReasonOfferNotFound, "", nil),
		},
		"GrantedOfferGoneKeepsPhase": {
			reason: "references/B4: a granted benefit whose offer disappears stays Active with its instants, Ready False OfferNotFound: nothing new is decided until it is back",
			in:     baInput(activeBlog, baTrial(), func(in *ActivationInput) { in.Offer = nil }),
			want:   pausedActive(v1alpha1.ReasonOfferNotFound),
			msgHas: []string{`"trial"`, "kept"},
		},
		"GrantedPublisherGoneKeepsPhase": {
			reason: "references: a granted benefit whose publisher disappears stays Active, Ready False PublisherNotFound",
			in:     baInput(activeBlog, baTrial(), baPub(baViolation), func(in *ActivationInput) { in.Publisher = nil }),
			want:   pausedActive(v1alpha1.ReasonPublisherNotFound),
		},
		"GrantedProgramGoneKeepsPhase": {
			reason: "references: a granted benefit whose program is deleted stays Active, Ready False ProgramNotFound; no revocation is decided meanwhile",
			in: baInput(activeBlog, baTrial(build.DelistedAt(baSince)), func(in *ActivationInput) {
				in.Program = ProgramState{Name: "gold", Missing: true}
			}),
			want: pausedActive(v1alpha1.ReasonProgramNotFound),
		},
		"GrantedProgramInvalidKeepsPhase": {
			reason: "references: a granted benefit under a program never valid stays Active, Ready False ProgramInvalid",
			in:     baInput(activeBlog, baTrial(), baNeverValid("spec.tiers: broken")),
			want:   pausedActive(v1alpha1.ReasonProgramInvalid),
		},
		"ProgramSupersededDecides": {
			reason: "program safety: a spec that is not valid leaves the last valid rules in force; the activation is decided by them",
			in: baInput(blog, baTrial(), func(in *ActivationInput) {
				in.Program.Problem, in.Program.Generation = "spec.tiers: broken", 2
			}),
			want: baWantActive(v1alpha1.BenefitCategoryMarketing, baNow, &baExpiry, v1alpha1.ReasonContactPending, ptrTo(baNow.Add(baWeek))),
		},
		"GrantedOptedOutOfferGone": {
			reason: "references/O6: a granted benefit opted out by its own spec stays OptedOut while its offer is missing",
			in: baInput(baActivation("blog", "trial", "go-live-blog", baCreated, build.ActivationOptedOut(), baActive(baSince, v1alpha1.BenefitCategoryMarketing, &baExpiry)),
				baTrial(), func(in *ActivationInput) { in.Offer = nil }),
			want: ActivationDecision{
				Phase: v1alpha1.ActivationOptedOut, Reason: v1alpha1.ReasonOfferNotFound, Category: v1alpha1.BenefitCategoryMarketing,
				ActivatedAt: &baSince, ContactDueBy: &baSinceDue, ExpiresAt: &baExpiry, NextCheck: &baExpiry,
			},
		},
		"GrantedExpiresWhileOfferGone": {
			reason: "references/O4: the grant's expiresAt needs no reference: a granted benefit expires at its instant while its offer is missing",
			in:     baInput(activeBlog, baTrial(), baAt(baExpiry), func(in *ActivationInput) { in.Offer = nil }),
			want: ActivationDecision{
				Phase: v1alpha1.ActivationExpired, Ready: true, Reason: v1alpha1.ReasonExpired, Category: v1alpha1.BenefitCategoryMarketing,
				ActivatedAt: &baSince, ContactDueBy: &baSinceDue, ExpiresAt: &baExpiry, ExpiredAt: &baExpiry,
			},
		},
	}
	runActivationCases(t, cases)
}

func TestDecideActivationB1UnknownBenefit(t *testing.T) {
	cases := map[string]activationCase{
		"UnknownBenefit": {
			reason: "B1: a benefit that is not in the program's catalog keeps the activation Pending UnknownBenefit",
			in:     baInput(baActivation("x", "trial", "free-lunch", baCreated), baTrial()),
			want:   baWantPending(v1alpha1.ReasonUnknownBenefit, "", nil),
			msgHas: []string{`"free-lunch"`, `"default"`},
		},
		"UnknownBenefitOnTransact": {
			reason: "B1: an unknown benefit is Pending UnknownBenefit on a Transact offer too, whatever the tier",
			in:     baInput(baActivation("x", "saas", "free-lunch", baCreated), baSaaS(), baSales(baTier(5))),
			want:   baWantPending(v1alpha1.ReasonUnknownBenefit, "", nil),
		},
	}
	runActivationCases(t, cases)
}

func TestDecideActivationB2Prerequisites(t *testing.T) {
	scheduledLive := utc(2027, time.January, 31, 9, 0, 0)
	nextChange := utc(2027, time.March, 1, 0, 0, 0)
	blog := baActivation("blog", "trial", "go-live-blog", baCreated)
	coSell := baActivation("co-sell", "saas", "co-sell", baCreated)
	cases := map[string]activationCase{
		"NotEnrolled": {
			reason: "B2/P2: a publisher that is not enrolled keeps the activation Pending NotEnrolled; it looks again at the benefit's expiry",
			in:     baInput(blog, baTrial(), baPub(build.NotEnrolled())),
			want:   baWantPending(v1alpha1.ReasonNotEnrolled, v1alpha1.BenefitCategoryMarketing, &baExpiry),
		},
		"NotEnrolledBeforeOfferNotLive": {
			reason: "B2: enrolment is the first prerequisite; the decision still looks again when the offer goes live",
			in:     baInput(blog, baTrial(baLiveAt(scheduledLive)), baPub(build.NotEnrolled())),
			want:   baWantPending(v1alpha1.ReasonNotEnrolled, v1alpha1.BenefitCategoryMarketing, &scheduledLive),
		},
		"OfferNotLive": {
			reason: "B2/O2: a Scheduled offer keeps the activation Pending OfferNotLive with NextCheck at liveAt",
			in:     baInput(blog, baTrial(baLiveAt(scheduledLive))),
			want:   baWantPending(v1alpha1.ReasonOfferNotLive, v1alpha1.BenefitCategoryMarketing, &scheduledLive),
		},
		"OfferNotLiveBeforeListingType": {
			reason: "B2: offer live comes before benefit-for-listing-type",
			in:     baInput(baActivation("badge", "trial", "listing-badge", baCreated), baTrial(baLiveAt(scheduledLive))),
			want:   baWantPending(v1alpha1.ReasonOfferNotLive, v1alpha1.BenefitCategoryMarketing, &scheduledLive),
		},
		"TransactOfferNotLive": {
			reason: "B2/O2: a Scheduled Transact offer keeps the activation Pending OfferNotLive with NextCheck at liveAt",
			in:     baInput(coSell, baSaaS(baLiveAt(scheduledLive)), baSales(baTier(0))),
			want:   baWantPending(v1alpha1.ReasonOfferNotLive, v1alpha1.BenefitCategorySales, &scheduledLive),
		},
		"NotForListingType": {
			reason: "B2: a Transact-only benefit on a Trial offer is Pending BenefitNotForListingType",
			in:     baInput(baActivation("badge", "trial", "listing-badge", baCreated), baTrial()),
			want:   baWantPending(v1alpha1.ReasonNotForListingType, v1alpha1.BenefitCategoryMarketing, &baExpiry),
			msgHas: []string{`"listing-badge"`, "Trial"},
		},
		"NotForListingTypeTransact": {
			reason: "B2: a one-time benefit on a Transact offer is Pending BenefitNotForListingType",
			in:     baInput(baActivation("blog", "saas", "go-live-blog", baCreated), baSaaS()),
			want:   baWantPending(v1alpha1.ReasonNotForListingType, v1alpha1.BenefitCategoryMarketing, nil),
		},
		"ContactBeforeListingType": {
			reason: "B2: the marketing contact comes before benefit-for-listing-type, in B2's order",
			in:     baInput(baActivation("badge", "trial", "listing-badge", baCreated), baTrial(), baPub(baNoContact)),
			want:   baWantPending(v1alpha1.ReasonMarketingContactMissing, v1alpha1.BenefitCategoryMarketing, &baExpiry),
		},
		"MarketingNeedsContact": {
			reason: "B2/P4: a Marketing benefit needs a marketing contact: Pending MarketingContactMissing",
			in:     baInput(blog, baTrial(), baPub(baNoContact)),
			want:   baWantPending(v1alpha1.ReasonMarketingContactMissing, v1alpha1.BenefitCategoryMarketing, &baExpiry),
			msgHas: []string{"spec.marketingContact"},
		},
		"SalesNeedsContact": {
			reason: "B2/P4: a Sales benefit needs a marketing contact: Pending MarketingContactMissing",
			in:     baInput(baActivation("kit", "trial", "sales-kit", baCreated), baTrial(), baPub(baNoContact)),
			want:   baWantPending(v1alpha1.ReasonMarketingContactMissing, v1alpha1.BenefitCategorySales, &baExpiry),
		},
		"TransactSalesNeedsContact": {
			reason: "B2/P4: a Transact Sales benefit needs a marketing contact even with its tier reached",
			in:     baInput(coSell, baSaaS(), baPub(baNoContact)),
			want:   baWantPending(v1alpha1.ReasonMarketingContactMissing, v1alpha1.BenefitCategorySales, nil),
		},
		"ContactBeforeTier": {
			reason: "B2: the marketing contact comes before the tier",
			in:     baInput(coSell, baSaaS(), baPub(baNoContact), baSales(baTier(1))),
			want:   baWantPending(v1alpha1.ReasonMarketingContactMissing, v1alpha1.BenefitCategorySales, nil),
		},
		"TechnicalNeedsNoContact": {
			reason: "B2/P4: a Technical benefit needs no marketing contact: Active",
			in:     baInput(baActivation("em", "trial", "engagement-manager", baCreated), baTrial(), baPub(baNoContact)),
			want:   baWantActive(v1alpha1.BenefitCategoryTechnical, baNow, &baExpiry, v1alpha1.ReasonContactPending, ptrTo(baNow.Add(baWeek))),
		},
		"TransactTechnicalNeedsNoContact": {
			reason: "B2/P4: a Transact Technical benefit needs no marketing contact: Active at its tier",
			in:     baInput(baActivation("credits", "saas", "azure-credits", baCreated), baSaaS(), baPub(baNoContact), baSales(baTier(3))),
			want:   baWantActive(v1alpha1.BenefitCategoryTechnical, baNow, nil, v1alpha1.ReasonContactPending, ptrTo(baNow.Add(baWeek))),
		},
		"TierNotReached": {
			reason: "B2/S6: a tier-2 Transact benefit at tier 1 is Pending TierNotReached and looks again when the tier may change (Sales.NextChangeAt)",
			in:     baInput(coSell, baSaaS(), baSales(baTierWithNext(1, nextChange))),
			want:   baWantPending(v1alpha1.ReasonTierNotReached, v1alpha1.BenefitCategorySales, &nextChange),
			msgHas: []string{"tier 2", "tier 1"},
		},
		"TierNotReachedNoNextChange": {
			reason: "B2/S6: a Pending TierNotReached benefit with no tier change in sight has no NextCheck",
			in:     baInput(coSell, baSaaS(), baSales(baTier(1))),
			want:   baWantPending(v1alpha1.ReasonTierNotReached, v1alpha1.BenefitCategorySales, nil),
		},
		"NoTierWithoutLiveTransactOffer": {
			reason: "B2/S6: at tier 0 even a tier-1 benefit is Pending TierNotReached",
			in:     baInput(baActivation("badge", "saas", "listing-badge", baCreated), baSaaS(), baSales(baTier(0))),
			want:   baWantPending(v1alpha1.ReasonTierNotReached, v1alpha1.BenefitCategoryMarketing, nil),
		},
		"TechnicalTierNotReached": {
			reason: "B2/S6: a tier-3 Technical benefit at tier 2 is Pending TierNotReached",
			in:     baInput(baActivation("credits", "saas", "azure-credits", baCreated), baSaaS()),
			want:   baWantPending(v1alpha1.ReasonTierNotReached, v1alpha1.BenefitCategoryTechnical, nil),
		},
		"AllSatisfiedTrial": {
			reason: "B2/B4: every prerequisite holds: Active, activatedAt = now, contact due a week later, expiring with the offer's benefits",
			in:     baInput(blog, baTrial()),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baNow, &baExpiry, v1alpha1.ReasonContactPending, ptrTo(baNow.Add(baWeek))),
			msgHas: []string{`"go-live-blog"`, `"trial"`},
		},
		"AllSatisfiedSalesKit": {
			reason: "B2: a Sales one-time benefit with a marketing contact is Active",
			in:     baInput(baActivation("kit", "trial", "sales-kit", baCreated), baTrial()),
			want:   baWantActive(v1alpha1.BenefitCategorySales, baNow, &baExpiry, v1alpha1.ReasonContactPending, ptrTo(baNow.Add(baWeek))),
		},
		"AllSatisfiedTransact": {
			reason: "B2: a tier-2 Transact benefit at tier 2 is Active and never expires (O4)",
			in:     baInput(coSell, baSaaS()),
			want:   baWantActive(v1alpha1.BenefitCategorySales, baNow, nil, v1alpha1.ReasonContactPending, ptrTo(baNow.Add(baWeek))),
		},
		"AllSatisfiedHigherTier": {
			reason: "B2/S6: a tier unlocks its own and all lower tiers' benefits",
			in:     baInput(baActivation("badge", "saas", "listing-badge", baCreated), baSaaS(), baSales(baTier(3))),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baNow, nil, v1alpha1.ReasonContactPending, ptrTo(baNow.Add(baWeek))),
		},
		"HealsOnceFixed": {
			reason: "B2: a Pending activation turns Active by itself once its prerequisite holds",
			in:     baInput(baActivation("blog", "trial", "go-live-blog", baCreated, baPhase(v1alpha1.ActivationPending)), baTrial()),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baNow, &baExpiry, v1alpha1.ReasonContactPending, ptrTo(baNow.Add(baWeek))),
		},
		"LiveAtExactInstant": {
			reason: "B2/O2: at exactly liveAt the offer is Live and the activation Active",
			in:     baInput(blog, baTrial(baLiveAt(scheduledLive)), baAt(scheduledLive)),
			want: baWantActive(v1alpha1.BenefitCategoryMarketing, scheduledLive, ptrTo(utc(2027, time.April, 30, 9, 0, 0)),
				v1alpha1.ReasonContactPending, ptrTo(scheduledLive.Add(baWeek))),
		},
	}
	runActivationCases(t, cases)
}

func TestDecideActivationB3OneTimeUse(t *testing.T) {
	later := baCreated.Add(time.Hour)
	blogAt := func(name string, created time.Time, mods ...func(*v1alpha1.BenefitActivation)) v1alpha1.BenefitActivation {
		return baActivation(name, "trial", "go-live-blog", created, mods...)
	}
	cases := map[string]activationCase{
		"OlderActivationWins": {
			reason: "B3: a second activation of the same benefit for the same offer is Pending AlreadyUsed, naming the older one",
			in:     baInput(blogAt("blog-new", later), baTrial(), baSiblings(blogAt("blog-old", baCreated))),
			want:   baWantPending(v1alpha1.ReasonAlreadyUsed, v1alpha1.BenefitCategoryMarketing, &baExpiry),
			msgHas: []string{`"blog-old"`},
		},
		"OldestIsActive": {
			reason: "B3: the oldest activation gets the one-time benefit",
			in:     baInput(blogAt("blog-old", baCreated), baTrial(), baSiblings(blogAt("blog-new", later))),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baNow, &baExpiry, v1alpha1.ReasonContactPending, ptrTo(baNow.Add(baWeek))),
		},
		"OldestAmongMany": {
			reason: "B3: the oldest of several wins, whatever the order of the siblings",
			in: baInput(blogAt("blog-2", later), baTrial(), baSiblings(
				blogAt("blog-3", later.Add(time.Hour)), blogAt("blog-1", baCreated), blogAt("blog-0", baCreated.Add(time.Minute)))),
			want:   baWantPending(v1alpha1.ReasonAlreadyUsed, v1alpha1.BenefitCategoryMarketing, &baExpiry),
			msgHas: []string{`"blog-1"`},
		},
		"TieBrokenByNameLoses": {
			reason: "B3: with equal creation times the smaller name wins; blog-b loses to blog-a",
			in:     baInput(blogAt("blog-b", baCreated), baTrial(), baSiblings(blogAt("blog-a", baCreated))),
			want:   baWantPending(v1alpha1.ReasonAlreadyUsed, v1alpha1.BenefitCategoryMarketing, &baExpiry),
			msgHas: []string{`"blog-a"`},
		},
		"TieBrokenByNameWins": {
			reason: "B3: with equal creation times the smaller name wins; blog-a is Active",
			in:     baInput(blogAt("blog-a", baCreated), baTrial(), baSiblings(blogAt("blog-b", baCreated))),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baNow, &baExpiry, v1alpha1.ReasonContactPending, ptrTo(baNow.Add(baWeek))),
		},
		"OtherBenefitDoesNotBlock": {
			reason: "B3: an older activation of another benefit of the same offer does not use this one",
			in: baInput(blogAt("blog", later), baTrial(), baSiblings(
				baActivation("kit", "trial", "sales-kit", baCreated), baActivation("em", "trial", "engagement-manager", baCreated))),
			want: baWantActive(v1alpha1.BenefitCategoryMarketing, baNow, &baExpiry, v1alpha1.ReasonContactPending, ptrTo(baNow.Add(baWeek))),
		},
		"OtherOfferDoesNotBlock": {
			reason: "B3: one-time use is per offer (publication): the same benefit on another offer does not block",
			in:     baInput(blogAt("blog", later), baTrial(), baSiblings(baActivation("blog-other", "trial-2", "go-live-blog", baCreated))),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baNow, &baExpiry, v1alpha1.ReasonContactPending, ptrTo(baNow.Add(baWeek))),
		},
		"RevokedOlderStillUsedIt": {
			reason: "B3: an older activation that was revoked did use the benefit: the newer one is AlreadyUsed",
			in: baInput(blogAt("blog-new", later), baTrial(), baSiblings(blogAt("blog-old", baCreated, func(a *v1alpha1.BenefitActivation) {
				a.Status.Phase = v1alpha1.ActivationRevoked
			}))),
			want: baWantPending(v1alpha1.ReasonAlreadyUsed, v1alpha1.BenefitCategoryMarketing, &baExpiry),
		},
		"ListIsOneTime": {
			reason: "B3: List benefits are one-time use too",
			in: baInput(baActivation("blog-new", "list", "go-live-blog", later), mkOffer("list", v1alpha1.ListingTypeList, baLive),
				baSiblings(baActivation("blog-old", "list", "go-live-blog", baCreated))),
			want: baWantPending(v1alpha1.ReasonAlreadyUsed, v1alpha1.BenefitCategoryMarketing, nil),
		},
		"TransactIsNotOneTime": {
			reason: "B3: Transact benefits are not one-time: a newer activation of the same benefit is Active too",
			in: baInput(baActivation("co-sell-new", "saas", "co-sell", later), baSaaS(),
				baSiblings(baActivation("co-sell-old", "saas", "co-sell", baCreated, baActive(baSince, v1alpha1.BenefitCategorySales, nil)))),
			want: baWantActive(v1alpha1.BenefitCategorySales, baNow, nil, v1alpha1.ReasonContactPending, ptrTo(baNow.Add(baWeek))),
		},
		"GrantedSiblingHoldsIt": {
			reason: "B3: blog-z was granted before blog-a (created in the same second, smaller name) reached the operator; a granted benefit is used, so blog-a is Pending AlreadyUsed, naming blog-z",
			in: baInput(blogAt("blog-a", baCreated), baTrial(),
				baSiblings(blogAt("blog-z", baCreated, baActive(baCreated, v1alpha1.BenefitCategoryMarketing, &baExpiry)))),
			want:   baWantPending(v1alpha1.ReasonAlreadyUsed, v1alpha1.BenefitCategoryMarketing, &baExpiry),
			msgHas: []string{`"blog-z"`},
		},
		"GrantedNewerSiblingHoldsIt": {
			reason: "B3: a newer activation that was granted (an older sibling came late) holds the benefit: the older one is AlreadyUsed",
			in: baInput(blogAt("blog-old", baCreated), baTrial(),
				baSiblings(blogAt("blog-new", later, baActive(later, v1alpha1.BenefitCategoryMarketing, &baExpiry)))),
			want:   baWantPending(v1alpha1.ReasonAlreadyUsed, v1alpha1.BenefitCategoryMarketing, &baExpiry),
			msgHas: []string{`"blog-new"`},
		},
		"GrantKeptWhateverSiblingAppears": {
			reason: "B3/R6: a granted benefit is never taken back by a sibling appearing later, even one that would have won the tie-break",
			in: baInput(blogAt("blog-z", baCreated, baActive(baCreated, v1alpha1.BenefitCategoryMarketing, &baExpiry)), baTrial(),
				baSiblings(blogAt("blog-a", baCreated))),
			want: ActivationDecision{
				Phase: v1alpha1.ActivationActive, Ready: true, Reason: v1alpha1.ReasonActive, Category: v1alpha1.BenefitCategoryMarketing,
				ActivatedAt: &baCreated, ContactDueBy: ptrTo(baCreated.Add(baWeek)), ExpiresAt: &baExpiry,
				ContactOverdue: true, ContactReason: v1alpha1.ReasonContactOverdue, NextCheck: &baExpiry,
			},
		},
		"GrantOfDeletedActivationHoldsIt": {
			reason: "B3/R8: the activation granted the benefit was deleted, its grant stays: the benefit is used, a new activation of it is AlreadyUsed, naming the record",
			in: baInput(blogAt("blog-again", later), baTrial(), func(in *ActivationInput) {
				in.SiblingGrants = []v1alpha1.BenefitGrant{*baGrantOf(blogAt("blog-gone", baCreated, baActive(baSince, v1alpha1.BenefitCategoryMarketing, &baExpiry)))}
			}),
			want:   baWantPending(v1alpha1.ReasonAlreadyUsed, v1alpha1.BenefitCategoryMarketing, &baExpiry),
			msgHas: []string{`"blog-gone"`, `BenefitGrant "blog-gone"`},
		},
		"RevokedGrantOfDeletedActivationStillUsedIt": {
			reason: "B3/R8: a benefit granted, revoked and its activation deleted was used: a new activation is AlreadyUsed",
			in: baInput(blogAt("blog-again", later), baTrial(), func(in *ActivationInput) {
				g := baGrantOf(blogAt("blog-gone", baCreated, baActive(baSince, v1alpha1.BenefitCategoryMarketing, &baExpiry)))
				g.Spec.Revocation = &v1alpha1.GrantRevocation{Reason: v1alpha1.RevocationViolation, RecordedAt: metaTime(baSince.Add(time.Hour)),
					CausedBy: &v1alpha1.ObjectReference{Kind: "Publisher", Name: "contoso"}}
				in.SiblingGrants = []v1alpha1.BenefitGrant{*g}
			}),
			want: baWantPending(v1alpha1.ReasonAlreadyUsed, v1alpha1.BenefitCategoryMarketing, &baExpiry),
		},
		"EarliestGrantHoldsIt": {
			reason: "B3: should two siblings hold grants, the earliest granted is the holder",
			in: baInput(blogAt("blog-c", baCreated), baTrial(), baSiblings(
				blogAt("blog-b", later, baActive(later.Add(time.Hour), v1alpha1.BenefitCategoryMarketing, &baExpiry)),
				blogAt("blog-a", later, baActive(later.Add(2*time.Hour), v1alpha1.BenefitCategoryMarketing, &baExpiry)))),
			want:   baWantPending(v1alpha1.ReasonAlreadyUsed, v1alpha1.BenefitCategoryMarketing, &baExpiry),
			msgHas: []string{`"blog-b"`},
		},
	}
	runActivationCases(t, cases)
}

func TestDecideActivationB4Contact(t *testing.T) {
	blogActive := func(mods ...func(*v1alpha1.BenefitActivation)) v1alpha1.BenefitActivation {
		return baActivation("blog", "trial", "go-live-blog", baCreated,
			append([]build.ActivationOption{baActive(baSince, v1alpha1.BenefitCategoryMarketing, &baExpiry)}, mods...)...)
	}
	twoDaysAgo := baNow.Add(-48 * time.Hour)
	cases := map[string]activationCase{
		"ActivatedAtIsNow": {
			reason: "B4: on becoming Active, activatedAt = now and contactDueBy = activatedAt + 7 days",
			in:     baInput(baActivation("blog", "trial", "go-live-blog", baCreated), baTrial()),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baNow, &baExpiry, v1alpha1.ReasonContactPending, ptrTo(utc(2027, time.January, 17, 12, 0, 0))),
		},
		"ContactDueDaysFromProgram": {
			reason: "B4: contactDueBy uses the program's contactDueDays",
			in:     baInput(baActivation("blog", "trial", "go-live-blog", baCreated), baTrial(), baProgram(baContactDueDays(3))),
			want: ActivationDecision{
				Phase: v1alpha1.ActivationActive, Ready: true, Reason: v1alpha1.ReasonActive, Category: v1alpha1.BenefitCategoryMarketing,
				ActivatedAt: &baNow, ContactDueBy: ptrTo(baNow.Add(72 * time.Hour)), ExpiresAt: &baExpiry,
				ContactReason: v1alpha1.ReasonContactPending, NextCheck: ptrTo(baNow.Add(72 * time.Hour)),
			},
		},
		"ActivatedAtKept": {
			reason: "B4: activatedAt is set once and kept on later decisions, as is contactDueBy",
			in: baInput(baActivation("blog", "trial", "go-live-blog", baCreated, baActive(twoDaysAgo, v1alpha1.BenefitCategoryMarketing, &baExpiry)),
				baTrial()),
			want: baWantActive(v1alpha1.BenefitCategoryMarketing, twoDaysAgo, &baExpiry, v1alpha1.ReasonContactPending, ptrTo(twoDaysAgo.Add(baWeek))),
		},
		"PersistedContactDueByKept": {
			reason: "B4: a persisted contactDueBy is kept even when the program's contactDueDays changed",
			in:     baInput(blogActive(), baTrial(), baProgram(baContactDueDays(30)), baAt(baSinceDue.Add(-time.Second))),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baSince, &baExpiry, v1alpha1.ReasonContactPending, &baSinceDue),
		},
		"ContactPendingOneNanosecondBefore": {
			reason: "B4: one nanosecond before contactDueBy the contact is pending, NextCheck = contactDueBy",
			in:     baInput(blogActive(), baTrial(), baAt(baSinceDue.Add(-time.Nanosecond))),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baSince, &baExpiry, v1alpha1.ReasonContactPending, &baSinceDue),
		},
		"ContactOverdueAtDue": {
			reason: "B4: at exactly contactDueBy without contactedAt the contact is overdue; NextCheck moves to the expiry",
			in:     baInput(blogActive(), baTrial(), baAt(baSinceDue)),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baSince, &baExpiry, v1alpha1.ReasonContactOverdue, &baExpiry),
		},
		"ContactOverdueLater": {
			reason: "B4: long after contactDueBy without contactedAt the contact stays overdue",
			in:     baInput(blogActive(), baTrial()),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baSince, &baExpiry, v1alpha1.ReasonContactOverdue, &baExpiry),
		},
		"Contacted": {
			reason: "B4: spec.contactedAt closes the contact obligation: Contacted, not overdue",
			in:     baInput(blogActive(build.ContactedAt(baSince.Add(24*time.Hour))), baTrial()),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baSince, &baExpiry, v1alpha1.ReasonContacted, &baExpiry),
		},
		"ContactedBeforeDue": {
			reason: "B4: once contacted, contactDueBy is no longer a NextCheck",
			in:     baInput(blogActive(build.ContactedAt(baSince.Add(24*time.Hour))), baTrial(), baAt(baSinceDue.Add(-time.Hour))),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baSince, &baExpiry, v1alpha1.ReasonContacted, &baExpiry),
		},
		"ContactedLate": {
			reason: "B4: contactedAt after contactDueBy still closes it",
			in:     baInput(blogActive(build.ContactedAt(baSinceDue.Add(24*time.Hour))), baTrial()),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baSince, &baExpiry, v1alpha1.ReasonContacted, &baExpiry),
		},
	}
	runActivationCases(t, cases)
}

func TestDecideActivationB5Terminal(t *testing.T) {
	expiredAt := baExpiry
	expired := baActivation("blog", "trial", "go-live-blog", baCreated, func(a *v1alpha1.BenefitActivation) {
		baActive(baSince, v1alpha1.BenefitCategoryMarketing, &baExpiry)(a)
		a.Status.Phase = v1alpha1.ActivationExpired
		a.Status.ExpiredAt = metaTimePtr(expiredAt)
	})
	revokedAt := utc(2027, time.January, 6, 8, 0, 0)
	revocation := v1alpha1.Revocation{
		Reason: v1alpha1.RevocationViolation, Message: "publisher \"contoso\" has a SponsorshipPolicy violation",
		Time: metaTime(revokedAt), CausedBy: &v1alpha1.ObjectReference{Kind: "Publisher", Name: "contoso"},
	}
	revoked := func(mods ...func(*v1alpha1.BenefitActivation)) v1alpha1.BenefitActivation {
		return baActivation("blog", "trial", "go-live-blog", baCreated, append([]build.ActivationOption{func(a *v1alpha1.BenefitActivation) {
			baActive(baSince, v1alpha1.BenefitCategoryMarketing, &baExpiry)(a)
			a.Status.Phase = v1alpha1.ActivationRevoked
			r := revocation
			a.Status.Revocation = &r
		}}, mods...)...)
	}
	wantExpired := ActivationDecision{
		Phase: v1alpha1.ActivationExpired, Ready: true, Reason: v1alpha1.ReasonExpired, Category: v1alpha1.BenefitCategoryMarketing,
		ActivatedAt: &baSince, ContactDueBy: &baSinceDue, ExpiresAt: &baExpiry, ExpiredAt: &expiredAt,
	}
	recorded := Revocation{Reason: revocation.Reason, Message: revocation.Message, CausedBy: *revocation.CausedBy, RecordedAt: &revokedAt}
	wantRevoked := ActivationDecision{
		Phase: v1alpha1.ActivationRevoked, Reason: v1alpha1.ReasonRevoked, Category: v1alpha1.BenefitCategoryMarketing,
		ActivatedAt: &baSince, ContactDueBy: &baSinceDue, ExpiresAt: &baExpiry, Revocation: &recorded,
	}
	cases := map[string]activationCase{
		"ExpiredStaysExpired": {
			reason: "B5/O4: Expired is terminal even when the offer goes live again later (a recomputed expiry would be in April): the grant's expiresAt decides",
			in:     baInput(expired, baTrial(baLiveAt(baNow)), baAt(baExpiry.AddDate(0, 1, 0))),
			want:   wantExpired,
		},
		"ExpiredIgnoresEverything": {
			reason: "B5: Expired is terminal whatever the input: opt-out, violation, delisting",
			in: baInput(baActivation("blog", "trial", "go-live-blog", baCreated, func(a *v1alpha1.BenefitActivation) {
				expired.DeepCopyInto(a)
				a.Spec.OptOut = true
			}), baTrial(build.OfferOptedOut(), build.DelistedAt(baExpiry.Add(time.Hour))), baPub(baViolation), baAt(baExpiry.AddDate(1, 0, 0))),
			want: wantExpired,
		},
		"ExpiredWithMissingReferences": {
			reason: "B5: Expired is terminal even when the offer, publisher and program are gone",
			in: baInput(expired, baTrial(), baAt(baExpiry.Add(time.Hour)), func(in *ActivationInput) {
				in.Offer, in.Publisher, in.Program = nil, nil, ProgramState{Name: "default", Missing: true}
			}),
			want: wantExpired,
		},
		"RevokedStaysRevoked": {
			reason: "B5: Revoked is terminal even when the violation that caused it is removed",
			in:     baInput(revoked(), baTrial()),
			want:   wantRevoked,
			msgHas: []string{"Violation"},
		},
		"RevokedIgnoresEverything": {
			reason: "B5: Revoked is terminal whatever the input: opt-out, expiry, delisting, missing program",
			in: baInput(revoked(build.ActivationOptedOut()), baTrial(build.DelistedAt(baNow)), baAt(baExpiry.AddDate(1, 0, 0)), func(in *ActivationInput) {
				in.Program = ProgramState{Name: "default", Missing: true}
			}),
			want: wantRevoked,
		},
	}
	runActivationCases(t, cases)
}

func TestDecideActivationO4Expiry(t *testing.T) {
	activeSince := func(offer, benefit string, cat v1alpha1.BenefitCategory, expires *time.Time) v1alpha1.BenefitActivation {
		return baActivation(benefit, offer, benefit, baCreated, baActive(baSince, cat, expires))
	}
	consulting := mkOffer("consulting", v1alpha1.ListingTypeConsulting, baLive)
	list := mkOffer("list", v1alpha1.ListingTypeList, baLive)
	listExpiry := utc(2027, time.May, 30, 9, 0, 0)
	persistedEarly := utc(2027, time.February, 18, 9, 0, 0)
	persistedLate := utc(2027, time.March, 31, 9, 0, 0)
	leapLive := utc(2027, time.November, 30, 9, 0, 0)
	leapExpiry := utc(2028, time.February, 29, 9, 0, 0)
	wantExpired := func(cat v1alpha1.BenefitCategory, since *time.Time, at time.Time) ActivationDecision {
		d := ActivationDecision{Phase: v1alpha1.ActivationExpired, Ready: true, Reason: v1alpha1.ReasonExpired, Category: cat, ExpiresAt: &at, ExpiredAt: &at}
		if since != nil {
			d.ActivatedAt, d.ContactDueBy = since, ptrTo(since.Add(baWeek))
		}
		return d
	}
	cases := map[string]activationCase{
		"TrialExpiresEndOfFebruary": {
			reason: "O3/O4: a Trial benefit expires 3 calendar months after liveAt: 30 Nov + 3 months = 28 Feb, Expired at that instant",
			in:     baInput(activeSince("trial", "go-live-blog", v1alpha1.BenefitCategoryMarketing, &baExpiry), baTrial(), baAt(baExpiry)),
			want:   wantExpired(v1alpha1.BenefitCategoryMarketing, &baSince, baExpiry),
			msgHas: []string{"2027-02-28T09:00:00Z"},
		},
		"TrialActiveOneNanosecondBefore": {
			reason: "O4: one nanosecond before the expiry the benefit is Active with NextCheck = expiresAt",
			in:     baInput(activeSince("trial", "go-live-blog", v1alpha1.BenefitCategoryMarketing, &baExpiry), baTrial(), baAt(baExpiry.Add(-time.Nanosecond))),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baSince, &baExpiry, v1alpha1.ReasonContactOverdue, &baExpiry),
		},
		"TrialExpiredLater": {
			reason: "O4: after the expiry the benefit is Expired at expiresAt, not at now",
			in:     baInput(activeSince("trial", "go-live-blog", v1alpha1.BenefitCategoryMarketing, &baExpiry), baTrial(), baAt(baExpiry.AddDate(0, 2, 0))),
			want:   wantExpired(v1alpha1.BenefitCategoryMarketing, &baSince, baExpiry),
		},
		"ConsultingExpires": {
			reason: "O3/O4: a Consulting benefit expires 3 calendar months after liveAt, at that instant",
			in:     baInput(activeSince("consulting", "sales-kit", v1alpha1.BenefitCategorySales, &baExpiry), consulting, baAt(baExpiry)),
			want:   wantExpired(v1alpha1.BenefitCategorySales, &baSince, baExpiry),
		},
		"ConsultingActiveOneNanosecondBefore": {
			reason: "O4: one nanosecond before, a Consulting benefit is Active with NextCheck = expiresAt",
			in:     baInput(activeSince("consulting", "sales-kit", v1alpha1.BenefitCategorySales, &baExpiry), consulting, baAt(baExpiry.Add(-time.Nanosecond))),
			want:   baWantActive(v1alpha1.BenefitCategorySales, baSince, &baExpiry, v1alpha1.ReasonContactOverdue, &baExpiry),
		},
		"LeapYearEndOfFebruary": {
			reason: "O4: 30 Nov + 3 months is 29 Feb in a leap year",
			in: baInput(baActivation("em", "trial", "engagement-manager", baCreated), baTrial(baLiveAt(leapLive)),
				baAt(leapExpiry.Add(-time.Second))),
			want: baWantActive(v1alpha1.BenefitCategoryTechnical, leapExpiry.Add(-time.Second), &leapExpiry, v1alpha1.ReasonContactPending, &leapExpiry),
		},
		"ProgramMonths": {
			reason: "O4: the program's trialConsultingExpiryMonths 1: 30 Nov + 1 calendar month = 30 Dec, Expired at that instant",
			in: baInput(baActivation("blog", "trial", "go-live-blog", baCreated), baTrial(), baProgram(baTrialExpiryMonths(1)),
				baAt(utc(2026, time.December, 30, 9, 0, 0))),
			want: wantExpired(v1alpha1.BenefitCategoryMarketing, nil, utc(2026, time.December, 30, 9, 0, 0)),
		},
		"PendingExpiresToo": {
			reason: "O4: all Trial benefits expire, Pending ones too",
			in:     baInput(baActivation("blog", "trial", "go-live-blog", baCreated), baTrial(), baPub(build.NotEnrolled()), baAt(baExpiry)),
			want:   wantExpired(v1alpha1.BenefitCategoryMarketing, nil, baExpiry),
		},
		"OptedOutExpiresToo": {
			reason: "O4/B5: an OptedOut Trial benefit expires at its instant",
			in: baInput(baActivation("blog", "trial", "go-live-blog", baCreated, build.ActivationOptedOut(), baPhase(v1alpha1.ActivationOptedOut)),
				baTrial(), baAt(baExpiry)),
			want: wantExpired(v1alpha1.BenefitCategoryMarketing, nil, baExpiry),
		},
		"PersistedExpiresAtWinsEarlier": {
			reason: "O4: the grant's expiresAt wins over a recomputation: Expired at the recorded instant",
			in:     baInput(activeSince("trial", "go-live-blog", v1alpha1.BenefitCategoryMarketing, &persistedEarly), baTrial(), baAt(persistedEarly)),
			want:   wantExpired(v1alpha1.BenefitCategoryMarketing, &baSince, persistedEarly),
		},
		"PersistedExpiresAtWinsLater": {
			reason: "O4: the grant's expiresAt wins: still Active at the recomputed instant, NextCheck = the recorded expiresAt",
			in:     baInput(activeSince("trial", "go-live-blog", v1alpha1.BenefitCategoryMarketing, &persistedLate), baTrial(), baAt(baExpiry)),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baSince, &persistedLate, v1alpha1.ReasonContactOverdue, &persistedLate),
		},
		"ListNeverExpires": {
			reason: "O4: List benefits do not expire by default: Active ten years later, no expiresAt, no NextCheck",
			in:     baInput(activeSince("list", "go-live-blog", v1alpha1.BenefitCategoryMarketing, nil), list, baAt(baLive.AddDate(10, 0, 0))),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baSince, nil, v1alpha1.ReasonContactOverdue, nil),
		},
		"ListNeverExpiresNew": {
			reason: "O4: a new List activation is Active without expiresAt; NextCheck is the contact due",
			in:     baInput(baActivation("blog", "list", "go-live-blog", baCreated), list),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baNow, nil, v1alpha1.ReasonContactPending, ptrTo(baNow.Add(baWeek))),
		},
		"ListExpiryMonths": {
			reason: "O4: with listExpiryMonths 6, a List benefit granted under it expires 6 calendar months after liveAt, at that instant",
			in: baInput(activeSince("list", "go-live-blog", v1alpha1.BenefitCategoryMarketing, &listExpiry), list,
				baProgram(baListExpiryMonths(6)), baAt(listExpiry)),
			want: wantExpired(v1alpha1.BenefitCategoryMarketing, &baSince, listExpiry),
		},
		"ListExpiryMonthsBefore": {
			reason: "O4: with listExpiryMonths 6, one nanosecond before the List benefit is Active with NextCheck = expiresAt",
			in: baInput(activeSince("list", "go-live-blog", v1alpha1.BenefitCategoryMarketing, &listExpiry), list,
				baProgram(baListExpiryMonths(6)), baAt(listExpiry.Add(-time.Nanosecond))),
			want: baWantActive(v1alpha1.BenefitCategoryMarketing, baSince, &listExpiry, v1alpha1.ReasonContactOverdue, &listExpiry),
		},
		"ListExpiryMonthsNew": {
			reason: "O4: a List benefit granted under listExpiryMonths 6 records its expiry, 6 calendar months after liveAt",
			in:     baInput(baActivation("blog", "list", "go-live-blog", baCreated), list, baProgram(baListExpiryMonths(6))),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baNow, &listExpiry, v1alpha1.ReasonContactPending, ptrTo(baNow.Add(baWeek))),
		},
		"GrantedExpiryNotMovedByProgram": {
			reason: "O4/R6: a List benefit granted without expiry keeps none when the program later sets listExpiryMonths: a program change does not change a decision already made",
			in: baInput(activeSince("list", "go-live-blog", v1alpha1.BenefitCategoryMarketing, nil), list,
				baProgram(baListExpiryMonths(6)), baAt(listExpiry)),
			want: baWantActive(v1alpha1.BenefitCategoryMarketing, baSince, nil, v1alpha1.ReasonContactOverdue, nil),
		},
		"TransactNeverExpires": {
			reason: "O4: Transact engagement is evergreen, whatever the program's expiry months",
			in: baInput(activeSince("saas", "co-sell", v1alpha1.BenefitCategorySales, nil), baSaaS(),
				baProgram(baListExpiryMonths(1), baTrialExpiryMonths(1)), baAt(baSaaSLive.AddDate(10, 0, 0))),
			want: baWantActive(v1alpha1.BenefitCategorySales, baSince, nil, v1alpha1.ReasonContactOverdue, nil),
		},
	}
	runActivationCases(t, cases)
}

func TestDecideActivationO6OptOut(t *testing.T) {
	activeBlog := func(mods ...func(*v1alpha1.BenefitActivation)) v1alpha1.BenefitActivation {
		return baActivation("blog", "trial", "go-live-blog", baCreated,
			append([]build.ActivationOption{baActive(baSince, v1alpha1.BenefitCategoryMarketing, &baExpiry)}, mods...)...)
	}
	optedOut := func(a v1alpha1.BenefitActivation, reason string) ActivationDecision {
		return ActivationDecision{
			Phase: v1alpha1.ActivationOptedOut, Reason: reason, Category: v1alpha1.BenefitCategoryMarketing,
			ActivatedAt: timePtr(a.Status.ActivatedAt), ContactDueBy: timePtr(a.Status.ContactDueBy), ExpiresAt: timePtr(a.Status.ExpiresAt),
			NextCheck: &baExpiry,
		}
	}
	cases := map[string]activationCase{
		"ActivationOptOut": {
			reason: "O6: optOut on the activation opts it out at any time: OptedOut, keeping its instants, looking again at the expiry",
			in:     baInput(activeBlog(build.ActivationOptedOut()), baTrial()),
			want:   optedOut(activeBlog(), v1alpha1.ReasonOptedOut),
			msgHas: []string{"spec.optOut"},
		},
		"NewActivationOptOut": {
			reason: "O6: a new activation with optOut is OptedOut, never activated",
			in:     baInput(baActivation("blog", "trial", "go-live-blog", baCreated, build.ActivationOptedOut()), baTrial()),
			want:   optedOut(baActivation("blog", "trial", "go-live-blog", baCreated), v1alpha1.ReasonOptedOut),
		},
		"OfferOptOut": {
			reason: "O6: optOut on the offer opts all its activations out: OptedOut with reason OfferOptedOut",
			in:     baInput(activeBlog(), baTrial(build.OfferOptedOut())),
			want:   optedOut(activeBlog(), v1alpha1.ReasonOfferOptedOut),
			msgHas: []string{`"trial"`},
		},
		"BothOptOut": {
			reason: "O6: the activation's own optOut is named first",
			in:     baInput(activeBlog(build.ActivationOptedOut()), baTrial(build.OfferOptedOut())),
			want:   optedOut(activeBlog(), v1alpha1.ReasonOptedOut),
		},
		"ViolationRevokesOptedOut": {
			reason: "O6/R1/R6: opting out does not shelter a granted benefit from a violation: it is revoked",
			in:     baInput(activeBlog(build.ActivationOptedOut(), baPhase(v1alpha1.ActivationOptedOut)), baTrial(), baPub(baViolation)),
			want: baWantRevoked(v1alpha1.BenefitCategoryMarketing, &baSince, &baExpiry, v1alpha1.RevocationViolation, "Publisher", "contoso",
				baNow, ptrTo(utc(2027, time.January, 5, 0, 0, 0))),
		},
		"NewOptedOutNotRevokedByViolation": {
			reason: "O6/R1: an opted-out activation never granted is OptedOut, not revoked, while a violation stands",
			in:     baInput(baActivation("blog", "trial", "go-live-blog", baCreated, build.ActivationOptedOut()), baTrial(), baPub(baViolation)),
			want:   optedOut(baActivation("blog", "trial", "go-live-blog", baCreated), v1alpha1.ReasonOptedOut),
		},
		"TransactOfferOptOut": {
			reason: "O6: a Transact offer can opt out too; no NextCheck from sales while OptedOut",
			in: baInput(baActivation("co-sell", "saas", "co-sell", baCreated, baActive(baSince, v1alpha1.BenefitCategorySales, nil)),
				baSaaS(build.OfferOptedOut()), baSales(baTierWithNext(2, baNow.AddDate(0, 1, 0)))),
			want: ActivationDecision{
				Phase: v1alpha1.ActivationOptedOut, Reason: v1alpha1.ReasonOfferOptedOut, Category: v1alpha1.BenefitCategorySales,
				ActivatedAt: &baSince, ContactDueBy: &baSinceDue,
			},
		},
		"ClearActivationOptOut": {
			reason: "O6: clearing optOut opts back in: Active again with the original activatedAt",
			in:     baInput(activeBlog(baPhase(v1alpha1.ActivationOptedOut)), baTrial()),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baSince, &baExpiry, v1alpha1.ReasonContactOverdue, &baExpiry),
		},
		"ClearOfferOptOutTransact": {
			reason: "O6: clearing the offer's optOut opts back in: Active again with the original activatedAt",
			in: baInput(baActivation("co-sell", "saas", "co-sell", baCreated,
				baActive(baSince, v1alpha1.BenefitCategorySales, nil), baPhase(v1alpha1.ActivationOptedOut)), baSaaS()),
			want: baWantActive(v1alpha1.BenefitCategorySales, baSince, nil, v1alpha1.ReasonContactOverdue, nil),
		},
		"OptBackInResumesGrant": {
			reason: "O6/B2: B2's prerequisites gate becoming Active; a granted benefit opted back in resumes under its grant, even with the publisher no longer enrolled",
			in:     baInput(activeBlog(baPhase(v1alpha1.ActivationOptedOut)), baTrial(), baPub(build.NotEnrolled())),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baSince, &baExpiry, v1alpha1.ReasonContactOverdue, &baExpiry),
		},
	}
	runActivationCases(t, cases)
}

func TestDecideActivationR1Violation(t *testing.T) {
	activeBlog := baActivation("blog", "trial", "go-live-blog", baCreated, baActive(baSince, v1alpha1.BenefitCategoryMarketing, &baExpiry))
	pendingBlog := baActivation("blog", "trial", "go-live-blog", baCreated, baPhase(v1alpha1.ActivationPending))
	cases := map[string]activationCase{
		"ActiveRevoked": {
			reason: "R1: a violation on the publisher revokes an Active activation, caused by the Publisher",
			in:     baInput(activeBlog, baTrial(), baPub(baViolation)),
			want: baWantRevoked(v1alpha1.BenefitCategoryMarketing, &baSince, &baExpiry,
				v1alpha1.RevocationViolation, "Publisher", "contoso", baNow, ptrTo(utc(2027, time.January, 5, 0, 0, 0))),
			msgHas: []string{"SponsorshipPolicy"},
		},
		"ActiveTransactRevoked": {
			reason: "R1: a violation revokes all Active activations, Transact ones too",
			in: baInput(baActivation("credits", "saas", "azure-credits", baCreated, baActive(baSince, v1alpha1.BenefitCategoryTechnical, nil)),
				baSaaS(), baPub(baViolation), baSales(baTierWithNext(3, baNow.AddDate(0, 1, 0)))),
			want: baWantRevoked(v1alpha1.BenefitCategoryTechnical, &baSince, nil,
				v1alpha1.RevocationViolation, "Publisher", "contoso", baNow, ptrTo(utc(2027, time.January, 5, 0, 0, 0))),
		},
		"RevocationTimeInSeconds": {
			reason: "R1: the revocation time is now in whole seconds, as the API server keeps it",
			in:     baInput(activeBlog, baTrial(), baPub(baViolation), baAt(baNow.Add(750*time.Millisecond))),
			want: baWantRevoked(v1alpha1.BenefitCategoryMarketing, &baSince, &baExpiry,
				v1alpha1.RevocationViolation, "Publisher", "contoso", baNow, ptrTo(utc(2027, time.January, 5, 0, 0, 0))),
		},
		"PendingStaysPending": {
			reason: "R1: while a violation stands a Pending activation stays Pending, naming it",
			in:     baInput(pendingBlog, baTrial(), baPub(baViolation)),
			want:   baWantPending(v1alpha1.ReasonViolation, v1alpha1.BenefitCategoryMarketing, &baExpiry),
			msgHas: []string{"SponsorshipPolicy"},
		},
		"NewStaysPending": {
			reason: "R1: a new activation of a publisher with a violation is Pending Violation",
			in:     baInput(baActivation("blog", "trial", "go-live-blog", baCreated), baTrial(), baPub(baViolation)),
			want:   baWantPending(v1alpha1.ReasonViolation, v1alpha1.BenefitCategoryMarketing, &baExpiry),
		},
		"ViolationBeforePrerequisites": {
			reason: "R1/B2: good standing is named before enrolment",
			in:     baInput(pendingBlog, baTrial(), baPub(baViolation, build.NotEnrolled())),
			want:   baWantPending(v1alpha1.ReasonViolation, v1alpha1.BenefitCategoryMarketing, &baExpiry),
		},
		"PendingTransactStaysPending": {
			reason: "R1: a Pending Transact activation stays Pending Violation, looking again when the tier may change",
			in: baInput(baActivation("co-sell", "saas", "co-sell", baCreated), baSaaS(), baPub(baViolation),
				baSales(baTierWithNext(2, baNow.AddDate(0, 1, 0)))),
			want: baWantPending(v1alpha1.ReasonViolation, v1alpha1.BenefitCategorySales, ptrTo(baNow.AddDate(0, 1, 0))),
		},
		"RemovedViolationProceeds": {
			reason: "R1: removing the violation lets a Pending activation proceed to Active",
			in:     baInput(pendingBlog, baTrial()),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baNow, &baExpiry, v1alpha1.ReasonContactPending, ptrTo(baNow.Add(baWeek))),
		},
	}
	runActivationCases(t, cases)
}

func TestDecideActivationR2Delisted(t *testing.T) {
	delistedAt := utc(2027, time.January, 5, 0, 0, 0)
	activeBlog := baActivation("blog", "trial", "go-live-blog", baCreated, baActive(baSince, v1alpha1.BenefitCategoryMarketing, &baExpiry))
	cases := map[string]activationCase{
		"ActiveRevoked": {
			reason: "R2: a delisted offer revokes its Active activations, caused by the Offer",
			in:     baInput(activeBlog, baTrial(build.DelistedAt(delistedAt))),
			want: baWantRevoked(v1alpha1.BenefitCategoryMarketing, &baSince, &baExpiry,
				v1alpha1.RevocationOfferDelisted, "Offer", "trial", baNow, &delistedAt),
			msgHas: []string{"2027-01-05T00:00:00Z"},
		},
		"PendingRevoked": {
			reason: "R2: a delisted offer revokes its Pending activations alike; nothing was granted, so nothing is recorded: the revocation is the offer's delistedAt",
			in: baInput(baActivation("blog", "trial", "go-live-blog", baCreated, baPhase(v1alpha1.ActivationPending)),
				baTrial(build.DelistedAt(delistedAt)), baPub(build.NotEnrolled())),
			want: baWantRevokedNotGranted(v1alpha1.BenefitCategoryMarketing, v1alpha1.RevocationOfferDelisted, "Offer", "trial", delistedAt),
		},
		"NewRevoked": {
			reason: "R2: an activation created for an already delisted offer is Revoked OfferDelisted",
			in:     baInput(baActivation("blog", "trial", "go-live-blog", baCreated), baTrial(build.DelistedAt(delistedAt))),
			want:   baWantRevokedNotGranted(v1alpha1.BenefitCategoryMarketing, v1alpha1.RevocationOfferDelisted, "Offer", "trial", delistedAt),
		},
		"OptedOutRevoked": {
			reason: "R2: delisting ends the publication, opted-out activations included",
			in: baInput(baActivation("blog", "trial", "go-live-blog", baCreated, build.ActivationOptedOut(), baPhase(v1alpha1.ActivationOptedOut)),
				baTrial(build.DelistedAt(delistedAt))),
			want: baWantRevokedNotGranted(v1alpha1.BenefitCategoryMarketing, v1alpha1.RevocationOfferDelisted, "Offer", "trial", delistedAt),
		},
		"AtDelistedAt": {
			reason: "R2/O2: revoked at exactly delistedAt",
			in:     baInput(activeBlog, baTrial(build.DelistedAt(delistedAt)), baAt(delistedAt)),
			want: baWantRevoked(v1alpha1.BenefitCategoryMarketing, &baSince, &baExpiry,
				v1alpha1.RevocationOfferDelisted, "Offer", "trial", delistedAt, &delistedAt),
		},
		"NextCheckAtDelisting": {
			reason: "R2/O2: before a scheduled delisting the Active activation looks again at delistedAt",
			in:     baInput(activeBlog, baTrial(build.DelistedAt(baNow.Add(time.Hour)))),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baSince, &baExpiry, v1alpha1.ReasonContactOverdue, ptrTo(baNow.Add(time.Hour))),
		},
		"TransactRevoked": {
			reason: "R2: a delisted Transact offer revokes its activations; no NextCheck once Revoked",
			in: baInput(baActivation("co-sell", "saas", "co-sell", baCreated, baActive(baSince, v1alpha1.BenefitCategorySales, nil)),
				baSaaS(build.DelistedAt(delistedAt)), baSales(baTierWithNext(2, baNow.AddDate(0, 1, 0)))),
			want: baWantRevoked(v1alpha1.BenefitCategorySales, &baSince, nil, v1alpha1.RevocationOfferDelisted, "Offer", "saas", baNow, &delistedAt),
		},
		"DelistingBeforeViolation": {
			reason: "R2/R1: delisting is named before a violation",
			in:     baInput(activeBlog, baTrial(build.DelistedAt(delistedAt)), baPub(baViolation)),
			want: baWantRevoked(v1alpha1.BenefitCategoryMarketing, &baSince, &baExpiry,
				v1alpha1.RevocationOfferDelisted, "Offer", "trial", baNow, &delistedAt),
		},
		"ExpiredBeforeDelistedOnReplay": {
			reason: "R2/O4: the benefit expired (28 Feb) before the offer was delisted (15 Mar); a decision made later (restart, missed wake-up) must give the same status as one made in time: Expired, not Revoked",
			in: baInput(activeBlog, baTrial(build.DelistedAt(utc(2027, time.March, 15, 0, 0, 0))),
				baAt(utc(2027, time.March, 20, 0, 0, 0))),
			want: ActivationDecision{
				Phase: v1alpha1.ActivationExpired, Ready: true, Reason: v1alpha1.ReasonExpired, Category: v1alpha1.BenefitCategoryMarketing,
				ActivatedAt: &baSince, ContactDueBy: &baSinceDue, ExpiresAt: &baExpiry, ExpiredAt: &baExpiry,
			},
		},
	}
	runActivationCases(t, cases)
}

func TestDecideActivationR3Fraud(t *testing.T) {
	fraud := func(name, offer string, state v1alpha1.FraudState) SalesFacts {
		f := baTierWithNext(2, baNow.AddDate(0, 1, 0))
		f.Fraud = []FraudLine{{Name: name, Offer: offer, State: state}}
		return f
	}
	activeCoSell := baActivation("co-sell", "saas", "co-sell", baCreated, baActive(baSince, v1alpha1.BenefitCategorySales, nil))
	activeBadge := baActivation("badge", "saas", "listing-badge", baCreated, baActive(baSince, v1alpha1.BenefitCategoryMarketing, nil))
	cases := map[string]activationCase{
		"SuspectedRevokes": {
			reason: "R3: fraud Suspected on a sales record of the publisher (scope Publisher) revokes its active Transact benefits, caused by the SalesRecord",
			in:     baInput(activeCoSell, baSaaS(), baSales(fraud("s-42", "saas-2", v1alpha1.FraudSuspected))),
			want:   baWantRevoked(v1alpha1.BenefitCategorySales, &baSince, nil, v1alpha1.RevocationFraud, "SalesRecord", "s-42", baNow, nil),
			msgHas: []string{`"s-42"`, "Suspected"},
		},
		"ProvenRevokes": {
			reason: "R3: fraud Proven revokes active Transact benefits",
			in:     baInput(activeCoSell, baSaaS(), baSales(fraud("s-42", "saas", v1alpha1.FraudProven))),
			want:   baWantRevoked(v1alpha1.BenefitCategorySales, &baSince, nil, v1alpha1.RevocationFraud, "SalesRecord", "s-42", baNow, nil),
		},
		"TierOneBenefitRevokedToo": {
			reason: "R3: every active Transact benefit is revoked, whatever its tier",
			in:     baInput(activeBadge, baSaaS(), baSales(fraud("s-42", "saas", v1alpha1.FraudSuspected))),
			want:   baWantRevoked(v1alpha1.BenefitCategoryMarketing, &baSince, nil, v1alpha1.RevocationFraud, "SalesRecord", "s-42", baNow, nil),
		},
		"PendingHeld": {
			reason: "R3: a Pending Transact activation stays Pending FraudReported while fraud is reported",
			in:     baInput(baActivation("co-sell", "saas", "co-sell", baCreated), baSaaS(), baSales(fraud("s-42", "saas", v1alpha1.FraudSuspected))),
			want:   baWantPending(v1alpha1.ReasonFraud, v1alpha1.BenefitCategorySales, ptrTo(baNow.AddDate(0, 1, 0))),
		},
		"ScopeOfferOtherOfferUntouched": {
			reason: "R3: with fraudScope Offer, fraud on another offer leaves this offer's benefits Active",
			in: baInput(activeCoSell, baSaaS(), baProgram(baFraudScopeOffer),
				baSales(fraud("s-42", "saas-2", v1alpha1.FraudProven))),
			want: baWantActive(v1alpha1.BenefitCategorySales, baSince, nil, v1alpha1.ReasonContactOverdue, ptrTo(baNow.AddDate(0, 1, 0))),
		},
		"ScopeOfferSameOfferRevoked": {
			reason: "R3: with fraudScope Offer, fraud on the same offer revokes its active benefits",
			in: baInput(activeCoSell, baSaaS(), baProgram(baFraudScopeOffer),
				baSales(fraud("s-42", "saas", v1alpha1.FraudSuspected))),
			want: baWantRevoked(v1alpha1.BenefitCategorySales, &baSince, nil, v1alpha1.RevocationFraud, "SalesRecord", "s-42", baNow, nil),
		},
		"NonTransactUntouched": {
			reason: "R3: fraud revokes Transact benefits only: an Active Trial benefit stays Active",
			in: baInput(baActivation("blog", "trial", "go-live-blog", baCreated, baActive(baSince, v1alpha1.BenefitCategoryMarketing, &baExpiry)),
				baTrial(), baSales(fraud("s-42", "saas", v1alpha1.FraudProven))),
			want: baWantActive(v1alpha1.BenefitCategoryMarketing, baSince, &baExpiry, v1alpha1.ReasonContactOverdue, &baExpiry),
		},
		"NonTransactNewActivates": {
			reason: "R3: fraud does not hold a new Trial activation",
			in:     baInput(baActivation("blog", "trial", "go-live-blog", baCreated), baTrial(), baSales(fraud("s-42", "saas", v1alpha1.FraudProven))),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baNow, &baExpiry, v1alpha1.ReasonContactPending, ptrTo(baNow.Add(baWeek))),
		},
	}

	// Through SalesFactsFor: a Suspected line still counts (S3), so the
	// tier stays 2, and the line revokes (R3).
	rules := baRules()
	offers := []v1alpha1.Offer{baSaaS()}
	records := []v1alpha1.SalesRecord{
		mkSale("s-1", "saas", "30000", "USD", utc(2026, time.June, 1, 0, 0, 0)),
		mkSale("s-2", "saas", "500", "USD", utc(2026, time.July, 1, 0, 0, 0), build.Fraud(v1alpha1.FraudSuspected)),
	}
	cases["SuspectedViaSalesFactsFor"] = activationCase{
		reason: "R3: a SalesRecord with fraud Suspected, gathered by SalesFactsFor, revokes an active Transact benefit at tier 2",
		in: baInput(activeCoSell, baSaaS(), func(in *ActivationInput) {
			in.Program.Rules = rules
			in.Sales = SalesFactsFor(rules, offers, records, baNow)
		}),
		want: baWantRevoked(v1alpha1.BenefitCategorySales, &baSince, nil, v1alpha1.RevocationFraud, "SalesRecord", "s-2", baNow, nil),
	}
	runActivationCases(t, cases)
}

// baCancelled is a purchase cancelled before use, at cancelledAt.
func baCancelled(cancelledAt time.Time) build.SalesRecordOption {
	return build.Cancelled(v1alpha1.CancellationBeforeUse, &cancelledAt)
}

func TestDecideActivationR4Cancellation(t *testing.T) {
	lifetime := baRules()
	saas := []v1alpha1.Offer{baSaaS()}
	facts := func(rules *Rules, records ...v1alpha1.SalesRecord) SalesFacts {
		return SalesFactsFor(rules, saas, records, baNow)
	}
	billedAt := utc(2026, time.June, 1, 0, 0, 0)
	cancelledAt := utc(2027, time.January, 8, 0, 0, 0)
	activeCoSell := baActivation("co-sell", "saas", "co-sell", baCreated, baActive(baSince, v1alpha1.BenefitCategorySales, nil))
	activeBadge := baActivation("badge", "saas", "listing-badge", baCreated, baActive(baSince, v1alpha1.BenefitCategoryMarketing, nil))
	oneCancelled := facts(lifetime,
		mkSale("s-1", "saas", "20000", "USD", billedAt),
		mkSale("s-2", "saas", "10000", "USD", billedAt, baCancelled(cancelledAt)))
	inputs := func(act v1alpha1.BenefitActivation, f SalesFacts, mods ...func(*ActivationInput)) ActivationInput {
		return baInput(act, baSaaS(), append([]func(*ActivationInput){baSales(f)}, mods...)...)
	}

	// Trailing window: s-old ages out at baNow exactly; s-cancelled was
	// cancelled before co-sell was activated, so it never counted while
	// co-sell was Active and unlocked nothing.
	trailing := baRules(baTrailing())
	trailingActivated := utc(2026, time.March, 1, 0, 0, 0)
	trailingFacts := SalesFactsFor(trailing, saas, []v1alpha1.SalesRecord{
		mkSale("s-old", "saas", "16000", "USD", baNow.AddDate(-1, 0, 0)),
		mkSale("s-new", "saas", "10000", "USD", utc(2026, time.February, 15, 0, 0, 0)),
		mkSale("s-cancelled", "saas", "16000", "USD", utc(2026, time.February, 1, 0, 0, 0), baCancelled(utc(2026, time.February, 2, 0, 0, 0))),
	}, baNow)

	cases := map[string]activationCase{
		"CancelledLineAloneRestoresTier": {
			reason: "R4: a tier-2 benefit is revoked when the cancelled line alone would restore tier 2 (20000 + 10000 >= 25000), naming the line",
			in:     inputs(activeCoSell, oneCancelled),
			want:   baWantRevoked(v1alpha1.BenefitCategorySales, &baSince, nil, v1alpha1.RevocationCancellation, "SalesRecord", "s-2", baNow, &cancelledAt),
			msgHas: []string{`"s-2"`, "tier 2"},
		},
		"TierOneBenefitKept": {
			reason: "R4: a tier-1 benefit is still unlocked without the cancelled line: kept Active",
			in:     inputs(activeBadge, oneCancelled),
			want:   baWantActive(v1alpha1.BenefitCategoryMarketing, baSince, nil, v1alpha1.ReasonContactOverdue, nil),
		},
		"ProgramCurrency": {
			reason: "R4/S2: a cancelled line in EUR restores the tier in program currency (5000 EUR × 1.08 = 5400 USD; 20000 + 5400 >= 25000)",
			in: inputs(activeCoSell, facts(lifetime,
				mkSale("s-1", "saas", "20000", "USD", billedAt),
				mkSale("s-eur", "saas", "5000", "EUR", billedAt, baCancelled(cancelledAt)))),
			want: baWantRevoked(v1alpha1.BenefitCategorySales, &baSince, nil, v1alpha1.RevocationCancellation, "SalesRecord", "s-eur", baNow, &cancelledAt),
		},
		"ProgramCurrencyNotEnough": {
			reason: "R4/S2: 4600 EUR × 1.08 = 4968 USD; 20000 + 4968 < 25000: the cancellation did not unlock tier 2, the benefit is kept (R5)",
			in: inputs(activeCoSell, facts(lifetime,
				mkSale("s-1", "saas", "20000", "USD", billedAt),
				mkSale("s-eur", "saas", "4600", "EUR", billedAt, baCancelled(cancelledAt)))),
			want: baWantActive(v1alpha1.BenefitCategorySales, baSince, nil, v1alpha1.ReasonContactOverdue, nil),
		},
		"FirstThatAloneRestores": {
			reason: "R4: of several cancelled lines the first (by name) that alone restores the tier is named",
			in: inputs(activeCoSell, facts(lifetime,
				mkSale("s-1", "saas", "20000", "USD", billedAt),
				mkSale("c-small", "saas", "1000", "USD", billedAt, baCancelled(cancelledAt)),
				mkSale("c-big", "saas", "6000", "USD", billedAt, baCancelled(cancelledAt)),
				mkSale("c-huge", "saas", "9000", "USD", billedAt, baCancelled(cancelledAt)))),
			want: baWantRevoked(v1alpha1.BenefitCategorySales, &baSince, nil, v1alpha1.RevocationCancellation, "SalesRecord", "c-big", baNow, &cancelledAt),
		},
		"SeveralTogether": {
			reason: "R4: when only several cancelled lines together restore the tier, the last of them by name is named",
			in: inputs(activeCoSell, facts(lifetime,
				mkSale("s-1", "saas", "20000", "USD", billedAt),
				mkSale("c-a", "saas", "3000", "USD", billedAt, baCancelled(cancelledAt)),
				mkSale("c-b", "saas", "3000", "USD", billedAt, baCancelled(cancelledAt)))),
			want: baWantRevoked(v1alpha1.BenefitCategorySales, &baSince, nil, v1alpha1.RevocationCancellation, "SalesRecord", "c-b", baNow, &cancelledAt),
		},
		"SeatsRestoreTier": {
			reason: "R4/S5: a cancelled line whose seats alone would restore tier 2 (10 + 990 = 1000 seats) revokes a tier-2 benefit, naming it (not s-z, which adds no seats)",
			in: inputs(activeCoSell, SalesFactsFor(lifetime, []v1alpha1.Offer{baSaaS(build.Microsoft365("Teams"))}, []v1alpha1.SalesRecord{
				mkSale("s-1", "saas", "100", "USD", utc(2021, time.January, 1, 0, 0, 0), build.Seats(10)),
				mkSale("s-seats", "saas", "100", "USD", utc(2021, time.February, 1, 0, 0, 0), build.Seats(990), baCancelled(cancelledAt)),
				mkSale("s-z", "saas", "100", "USD", utc(2021, time.February, 1, 0, 0, 0), baCancelled(cancelledAt)),
			}, baNow)),
			want: baWantRevoked(v1alpha1.BenefitCategorySales, &baSince, nil, v1alpha1.RevocationCancellation, "SalesRecord", "s-seats", baNow, &cancelledAt),
		},
		"PendingNotRevoked": {
			reason: "R4/B2: a cancellation does not revoke a Pending benefit; it is Pending TierNotReached",
			in:     inputs(baActivation("co-sell", "saas", "co-sell", baCreated), oneCancelled),
			want:   baWantPending(v1alpha1.ReasonTierNotReached, v1alpha1.BenefitCategorySales, nil),
		},
		"CancelledBeforeActivationUnlockedNothing": {
			reason: "R4/R5: s-cancelled was cancelled (2 Feb) before co-sell was activated (1 Mar) and never counted while it was Active; the tier drops only because s-old aged out, so R5 keeps the benefit",
			in: baInput(baActivation("co-sell", "saas", "co-sell", baCreated, baActive(trailingActivated, v1alpha1.BenefitCategorySales, nil)),
				baSaaS(), baSales(trailingFacts), func(in *ActivationInput) { in.Program.Rules = trailing }),
			want: baWantActive(v1alpha1.BenefitCategorySales, trailingActivated, nil, v1alpha1.ReasonContactOverdue, ptrTo(utc(2027, time.February, 15, 0, 0, 0))),
		},
	}
	runActivationCases(t, cases)
}

func TestDecideActivationR5KeepUnlocked(t *testing.T) {
	// The 30000 line ages out at baNow exactly: the tier drops from 2 to 1
	// without any cancellation.
	records := []v1alpha1.SalesRecord{
		mkSale("s-old", "saas", "30000", "USD", baNow.AddDate(-1, 0, 0)),
		mkSale("s-recent", "saas", "1000", "USD", utc(2026, time.December, 1, 0, 0, 0)),
	}
	recentLeaves := utc(2027, time.December, 1, 0, 0, 0)
	saas := []v1alpha1.Offer{baSaaS()}
	keep := baRules(baTrailing())
	drop := baRules(baTrailing(), baKeepUnlocked(false))
	activeCoSell := baActivation("co-sell", "saas", "co-sell", baCreated, baActive(baSince, v1alpha1.BenefitCategorySales, nil))
	with := func(rules *Rules, now time.Time) func(*ActivationInput) {
		return func(in *ActivationInput) {
			in.Program.Rules, in.Now = rules, now
			in.Sales = SalesFactsFor(rules, saas, records, now)
		}
	}
	cases := map[string]activationCase{
		"KeptWhenTierAgesOut": {
			reason: "R5: the tier drops only because sales aged out: with keepUnlockedBenefits (default) the benefit is kept Active, looking again when the tier may change",
			in:     baInput(activeCoSell, baSaaS(), with(keep, baNow)),
			want:   baWantActive(v1alpha1.BenefitCategorySales, baSince, nil, v1alpha1.ReasonContactOverdue, &recentLeaves),
		},
		"StillTierTwoOneNanosecondBefore": {
			reason: "R5/S4: one nanosecond before the line ages out the tier is 2 and the next check is that instant",
			in:     baInput(activeCoSell, baSaaS(), with(drop, baNow.Add(-time.Nanosecond))),
			want:   baWantActive(v1alpha1.BenefitCategorySales, baSince, nil, v1alpha1.ReasonContactOverdue, &baNow),
		},
		"LostWithoutKeepUnlocked": {
			reason: "R5: with keepUnlockedBenefits false the benefit is Pending TierNotReached, keeping its activatedAt",
			in:     baInput(activeCoSell, baSaaS(), with(drop, baNow)),
			want: ActivationDecision{
				Phase: v1alpha1.ActivationPending, Reason: v1alpha1.ReasonTierNotReached, Category: v1alpha1.BenefitCategorySales,
				ActivatedAt: &baSince, ContactDueBy: &baSinceDue, NextCheck: &recentLeaves,
			},
			msgHas: []string{"keepUnlockedBenefits"},
		},
		"RestoredKeepsActivatedAt": {
			reason: "R5/B4: once the tier is reached again the benefit is Active with its original activatedAt",
			in: baInput(baActivation("co-sell", "saas", "co-sell", baCreated, baActive(baSince, v1alpha1.BenefitCategorySales, nil),
				baPhase(v1alpha1.ActivationPending)), baSaaS(), baProgram(baKeepUnlocked(false)), baSales(baTier(2))),
			want: baWantActive(v1alpha1.BenefitCategorySales, baSince, nil, v1alpha1.ReasonContactOverdue, nil),
		},
		"OptBackInAfterAgeOut": {
			reason: "R5/O6: co-sell was unlocked and Active, opted out, and opts back in after the tier aged out to 1; benefits already unlocked are lost only through R1-R4, so with keepUnlockedBenefits it is Active again",
			in: baInput(baActivation("co-sell", "saas", "co-sell", baCreated, baActive(baSince, v1alpha1.BenefitCategorySales, nil),
				baPhase(v1alpha1.ActivationOptedOut)), baSaaS(), with(keep, baNow)),
			want: baWantActive(v1alpha1.BenefitCategorySales, baSince, nil, v1alpha1.ReasonContactOverdue, &recentLeaves),
		},
		"TierOneKeptRegardless": {
			reason: "R5: a tier-1 benefit is still unlocked at tier 1, even without keepUnlockedBenefits",
			in: baInput(baActivation("badge", "saas", "listing-badge", baCreated, baActive(baSince, v1alpha1.BenefitCategoryMarketing, nil)),
				baSaaS(), with(drop, baNow)),
			want: baWantActive(v1alpha1.BenefitCategoryMarketing, baSince, nil, v1alpha1.ReasonContactOverdue, &recentLeaves),
		},
	}
	runActivationCases(t, cases)
}

func TestDecideActivationNextCheckTransact(t *testing.T) {
	soon := baNow.Add(24 * time.Hour)
	late := baNow.AddDate(0, 2, 0)
	cases := map[string]activationCase{
		"SalesChangeBeforeContactDue": {
			reason: "B4/S4: an Active Transact benefit looks again at the earlier of contactDueBy and Sales.NextChangeAt",
			in:     baInput(baActivation("co-sell", "saas", "co-sell", baCreated), baSaaS(), baSales(baTierWithNext(2, soon))),
			want:   baWantActive(v1alpha1.BenefitCategorySales, baNow, nil, v1alpha1.ReasonContactPending, &soon),
		},
		"ContactDueBeforeSalesChange": {
			reason: "B4/S4: contactDueBy first when the tier changes later",
			in:     baInput(baActivation("co-sell", "saas", "co-sell", baCreated), baSaaS(), baSales(baTierWithNext(2, late))),
			want:   baWantActive(v1alpha1.BenefitCategorySales, baNow, nil, v1alpha1.ReasonContactPending, ptrTo(baNow.Add(baWeek))),
		},
		"PendingTierNotReached": {
			reason: "B2/S4: a Pending TierNotReached benefit looks again at Sales.NextChangeAt",
			in:     baInput(baActivation("credits", "saas", "azure-credits", baCreated), baSaaS(), baSales(baTierWithNext(2, late))),
			want:   baWantPending(v1alpha1.ReasonTierNotReached, v1alpha1.BenefitCategoryTechnical, &late),
		},
		"PendingScheduledOffer": {
			reason: "B2/O2: a Pending benefit of a Scheduled Transact offer looks again at the earlier of liveAt and Sales.NextChangeAt",
			in: baInput(baActivation("co-sell", "saas", "co-sell", baCreated), baSaaS(baLiveAt(late)),
				baSales(baTierWithNext(0, soon))),
			want: baWantPending(v1alpha1.ReasonOfferNotLive, v1alpha1.BenefitCategorySales, &soon),
		},
		"NotForTrial": {
			reason: "B2: Sales.NextChangeAt is for Transact benefits only; a Trial benefit ignores it",
			in:     baInput(baActivation("blog", "trial", "go-live-blog", baCreated), baTrial(), baPub(build.NotEnrolled()), baSales(baTierWithNext(2, soon))),
			want:   baWantPending(v1alpha1.ReasonNotEnrolled, v1alpha1.BenefitCategoryMarketing, &baExpiry),
		},
	}
	runActivationCases(t, cases)
}

func TestSalesFactsFor(t *testing.T) {
	now := baNow
	past := utc(2026, time.June, 1, 0, 0, 0)
	future := utc(2027, time.March, 1, 0, 0, 0)
	saas := baSaaS()
	list := mkOffer("list", v1alpha1.ListingTypeList, baLive)
	m365 := mkOffer("teams-app", v1alpha1.ListingTypeTransact, baSaaSLive, build.Microsoft365("Teams"))
	money := MustParseMoney
	type args struct {
		rules   *Rules
		offers  []v1alpha1.Offer
		records []v1alpha1.SalesRecord
	}
	cases := map[string]struct {
		reason string
		args   args
		want   SalesFacts
		// cancelled is what CancelledLinesAt(now) lists.
		cancelled []CancelledLine
	}{
		"NoSales": {
			reason: "S6: a live Transact offer and no sales: tier 1, nothing cancelled, no fraud",
			args:   args{baRules(), []v1alpha1.Offer{saas}, nil},
			want:   SalesFacts{Tier: 1, HasLiveTransactOffer: true},
		},
		"FraudAndCancellations": {
			reason: "R3/R4/S2/S3: fraud Suspected or Proven lines are listed by name; cancelled lines that would count are listed by name with their amount in program currency",
			args: args{baRules(), []v1alpha1.Offer{saas, list}, []v1alpha1.SalesRecord{
				mkSale("z-fraud-suspected", "saas", "1000", "USD", past, build.Fraud(v1alpha1.FraudSuspected)),
				mkSale("a-counted", "saas", "20000", "USD", past),
				mkSale("c-cancel-usd", "saas", "5000", "USD", past, build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)),
				mkSale("b-cancel-eur", "saas", "10000", "EUR", past, build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)),
				mkSale("d-cancel-list", "list", "9999", "USD", past, build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)),
				mkSale("e-cancel-jpy", "saas", "100", "JPY", past, build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)),
				mkSale("g-fraud-proven", "saas", "2000", "USD", past, build.Fraud(v1alpha1.FraudProven)),
				mkSale("h-cancel-future", "saas", "700", "USD", future.AddDate(0, 1, 0), build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)),
				mkSale("i-cancel-proven", "saas", "3000", "USD", past, build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil), build.Fraud(v1alpha1.FraudProven)),
				mkSale("f-future", "saas", "500", "USD", future),
				mkSale("k-fraud-none", "saas", "10", "USD", past, build.Fraud(v1alpha1.FraudNone)),
				mkSale("l-cancel-no-offer", "gone", "4000", "USD", past, build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)),
			}},
			want: SalesFacts{
				Tier: 1, BilledSales: money("21010"), HasLiveTransactOffer: true, NextChangeAt: &future,
				Fraud: []FraudLine{
					{Name: "g-fraud-proven", Offer: "saas", State: v1alpha1.FraudProven},
					{Name: "i-cancel-proven", Offer: "saas", State: v1alpha1.FraudProven},
					{Name: "z-fraud-suspected", Offer: "saas", State: v1alpha1.FraudSuspected},
				},
			},
			cancelled: []CancelledLine{
				{Name: "b-cancel-eur", Amount: money("10800")},
				{Name: "c-cancel-usd", Amount: money("5000")},
			},
		},
		"CancelledSeats": {
			reason: "R4/S5: a cancelled line of a Microsoft 365 app lists the seats it would add, when billed before the seats cut-off",
			args: args{baRules(), []v1alpha1.Offer{m365}, []v1alpha1.SalesRecord{
				mkSale("s-1", "teams-app", "100", "USD", utc(2021, time.January, 1, 0, 0, 0), build.Seats(10)),
				mkSale("s-before", "teams-app", "200", "GBP", utc(2021, time.June, 30, 23, 59, 59), build.Seats(500), build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)),
				mkSale("s-after", "teams-app", "300", "USD", utc(2021, time.July, 1, 0, 0, 0), build.Seats(700), build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)),
			}},
			want: SalesFacts{
				Tier: 1, BilledSales: money("100"), Seats: 10, HasLiveTransactOffer: true,
			},
			cancelled: []CancelledLine{
				{Name: "s-after", Amount: money("300")},
				{Name: "s-before", Amount: money("254"), Seats: 500},
			},
		},
		"TrailingWindow": {
			reason: "R4/S4: a cancelled line outside the trailing window would not count and is not listed",
			args: args{baRules(baTrailing()), []v1alpha1.Offer{saas}, []v1alpha1.SalesRecord{
				mkSale("s-aged", "saas", "50000", "USD", now.AddDate(-1, 0, 0), build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)),
				mkSale("s-inside", "saas", "50000", "USD", now.AddDate(-1, 0, 0).Add(time.Second), build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)),
			}},
			want: SalesFacts{
				Tier: 1, HasLiveTransactOffer: true,
			},
			cancelled: []CancelledLine{{Name: "s-inside", Amount: money("50000")}},
		},
		"NoLiveTransactOffer": {
			reason: "S6/R4: without a live Transact offer the tier is 0, and cancelled lines still list what they would add",
			args: args{baRules(), []v1alpha1.Offer{baSaaS(baLiveAt(future))}, []v1alpha1.SalesRecord{
				mkSale("s-1", "saas", "30000", "USD", past),
				mkSale("s-2", "saas", "1000", "USD", past, build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)),
			}},
			want: SalesFacts{
				Tier: 0, BilledSales: money("30000"), NextChangeAt: &future,
			},
			cancelled: []CancelledLine{{Name: "s-2", Amount: money("1000")}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := SalesFactsFor(tc.args.rules, tc.args.offers, tc.args.records, now)
			opts := []cmp.Option{cmp.Comparer(func(a, b Money) bool { return a.Cmp(b) == 0 }), cmpopts.EquateEmpty(), cmpopts.IgnoreUnexported(SalesFacts{})}
			if diff := cmp.Diff(tc.want, got, opts...); diff != "" {
				t.Errorf("%s\nSalesFactsFor(...): -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.cancelled, got.CancelledLinesAt(now), opts...); diff != "" {
				t.Errorf("%s\nCancelledLinesAt(now): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
