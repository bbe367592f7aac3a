package rewards

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// checkCase is one row of a prerequisite's table: the outcome wanted, and
// substrings its message must contain (messages are for people; the
// reason is what Pending names).
type checkCase struct {
	reason string
	in     ActivationInput
	want   CheckResult
	msgHas []string
}

func runCheckCases(t *testing.T, check func(ActivationInput) CheckResult, cases map[string]checkCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := check(tc.in)
			if diff := cmp.Diff(tc.want, CheckResult{Passed: got.Passed, Reason: got.Reason, Wait: got.Wait, Phase: got.Phase}); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
			if got.Message == "" {
				t.Errorf("%s\nempty message", tc.reason)
			}
			for _, s := range tc.msgHas {
				if !strings.Contains(got.Message, s) {
					t.Errorf("%s\nmessage %q, want it to mention %q", tc.reason, got.Message, s)
				}
			}
		})
	}
}

var (
	pass = CheckResult{Passed: true}
	blog = baActivation("blog", "trial", "go-live-blog", baCreated)
	// coSellAct is a tier-2 Transact Sales benefit.
	coSellAct = baActivation("co-sell", "saas", "co-sell", baCreated)
)

func failWith(reason string) CheckResult { return CheckResult{Reason: reason} }

func TestCheckOfferExists(t *testing.T) {
	runCheckCases(t, checkOfferExists, map[string]checkCase{
		"Exists":  {reason: "B1: the offer exists", in: baInput(blog, baTrial()), want: pass, msgHas: []string{`"trial"`}},
		"Missing": {reason: "B1: a missing offer fails OfferNotFound", in: baInput(blog, baTrial(), func(in *ActivationInput) { in.Offer = nil }), want: failWith(v1alpha1.ReasonOfferNotFound), msgHas: []string{`"trial"`}},
	})
}

func TestCheckPublisherExists(t *testing.T) {
	runCheckCases(t, checkPublisherExists, map[string]checkCase{
		"Exists":  {reason: "B1: the publisher exists", in: baInput(blog, baTrial()), want: pass},
		"Missing": {reason: "B1: a missing publisher fails PublisherNotFound", in: baInput(blog, baTrial(), func(in *ActivationInput) { in.Publisher = nil }), want: failWith(v1alpha1.ReasonPublisherNotFound), msgHas: []string{`"contoso"`}},
	})
}

func TestCheckProgramValid(t *testing.T) {
	runCheckCases(t, checkProgramValid, map[string]checkCase{
		"Valid":   {reason: "B1: the program exists and is valid", in: baInput(blog, baTrial()), want: pass},
		"Missing": {reason: "B1: a missing program fails ProgramNotFound", in: baInput(blog, baTrial(), func(in *ActivationInput) { in.Program.Missing = true }), want: failWith(v1alpha1.ReasonProgramNotFound)},
		"NeverValid": {reason: "B1: a program that was never valid fails ProgramInvalid with its problem", in: baInput(blog, baTrial(), func(in *ActivationInput) {
			in.Program.Problem, in.Program.RulesGeneration, in.Program.Revision = "tier 2 names x", 0, ""
		}), want: failWith(v1alpha1.ReasonProgramInvalid), msgHas: []string{"tier 2 names x"}},
		"EarlierRulesInForce": {reason: "program safety: a program no longer valid decides with its last valid rules", in: baInput(blog, baTrial(), func(in *ActivationInput) {
			in.Program.Problem, in.Program.Generation, in.Program.RulesGeneration = "tier 2 names x", 3, 2
		}), want: pass, msgHas: []string{"generation 2"}},
	})
}

func TestCheckBenefitInCatalog(t *testing.T) {
	runCheckCases(t, checkBenefitInCatalog, map[string]checkCase{
		"InCatalog": {reason: "B1: the benefit is in the catalog", in: baInput(blog, baTrial()), want: pass, msgHas: []string{"Marketing"}},
		"Unknown":   {reason: "B1: a benefit missing from the catalog fails UnknownBenefit", in: baInput(baActivation("x", "trial", "no-such-benefit", baCreated), baTrial()), want: failWith(v1alpha1.ReasonUnknownBenefit), msgHas: []string{`"no-such-benefit"`}},
	})
}

func TestCheckEnrolled(t *testing.T) {
	runCheckCases(t, checkEnrolled, map[string]checkCase{
		"Enrolled":    {reason: "P2: an enrolled publisher passes", in: baInput(blog, baTrial()), want: pass},
		"NotEnrolled": {reason: "P2: a publisher not enrolled fails NotEnrolled", in: baInput(blog, baTrial(), baPub(build.NotEnrolled())), want: failWith(v1alpha1.ReasonNotEnrolled), msgHas: []string{"spec.enrolled"}},
	})
}

func TestCheckGoodStanding(t *testing.T) {
	runCheckCases(t, checkGoodStanding, map[string]checkCase{
		"NoViolation": {reason: "R1: no violation passes", in: baInput(blog, baTrial()), want: pass},
		"Violation": {reason: "R1: a violation fails Violation, naming its type and time", in: baInput(blog, baTrial(), baPub(baViolation)), want: failWith(v1alpha1.ReasonViolation),
			msgHas: []string{"SponsorshipPolicy", "2027-01-05T00:00:00Z", "removing the violation"}},
	})
}

func TestCheckNoFraud(t *testing.T) {
	fraud := func(offer string) func(*ActivationInput) {
		return func(in *ActivationInput) {
			in.Sales.Fraud = []FraudLine{{Name: "s-42", Offer: offer, State: v1alpha1.FraudSuspected}}
		}
	}
	runCheckCases(t, checkNoFraud, map[string]checkCase{
		"NoFraud":             {reason: "R3: no fraud reported passes", in: baInput(coSellAct, baSaaS()), want: pass},
		"FraudReported":       {reason: "R3: fraud on any of the publisher's offers (scope Publisher) fails FraudReported", in: baInput(coSellAct, baSaaS(), fraud("saas-2")), want: failWith(v1alpha1.ReasonFraud), msgHas: []string{`"s-42"`, "Suspected"}},
		"ScopeOfferElsewhere": {reason: "R3: with fraudScope Offer, fraud on another offer passes", in: baInput(coSellAct, baSaaS(), baProgram(baFraudScopeOffer), fraud("saas-2")), want: pass},
		"ScopeOfferSameOffer": {reason: "R3: with fraudScope Offer, fraud on the same offer fails", in: baInput(coSellAct, baSaaS(), baProgram(baFraudScopeOffer), fraud("saas")), want: failWith(v1alpha1.ReasonFraud)},
		"NotTransact":         {reason: "R3: fraud holds Transact benefits only; a Trial benefit passes", in: baInput(blog, baTrial(), fraud("trial")), want: pass},
	})
}

func TestCheckMarketingContact(t *testing.T) {
	runCheckCases(t, checkMarketingContact, map[string]checkCase{
		"MarketingWithContact": {reason: "P4: a Marketing benefit with a contact passes", in: baInput(blog, baTrial()), want: pass},
		"MarketingNoContact":   {reason: "P4: a Marketing benefit without a contact fails MarketingContactMissing", in: baInput(blog, baTrial(), baPub(baNoContact)), want: failWith(v1alpha1.ReasonMarketingContactMissing), msgHas: []string{"spec.marketingContact", "Marketing"}},
		"SalesNoContact":       {reason: "P4: a Sales benefit without a contact fails", in: baInput(coSellAct, baSaaS(), baPub(baNoContact)), want: failWith(v1alpha1.ReasonMarketingContactMissing), msgHas: []string{"Sales"}},
		"TechnicalNoContact":   {reason: "P4: a Technical benefit needs no contact", in: baInput(baActivation("em", "trial", "engagement-manager", baCreated), baTrial(), baPub(baNoContact)), want: pass, msgHas: []string{"Technical"}},
	})
}

func TestCheckOfferLive(t *testing.T) {
	later := utc(2027, time.January, 31, 9, 0, 0)
	runCheckCases(t, checkOfferLive, map[string]checkCase{
		"Live":          {reason: "O2: a Live offer passes", in: baInput(blog, baTrial()), want: pass},
		"Scheduled":     {reason: "O2: a Scheduled offer fails OfferNotLive and may hold by itself at liveAt", in: baInput(blog, baTrial(baLiveAt(later))), want: CheckResult{Reason: v1alpha1.ReasonOfferNotLive, Wait: &later}, msgHas: []string{"2027-01-31T09:00:00Z"}},
		"ExactlyLiveAt": {reason: "O2: at liveAt exactly the offer is Live", in: baInput(blog, baTrial(baLiveAt(later)), baAt(later)), want: pass},
	})
}

func TestCheckPublicationOpen(t *testing.T) {
	revoked := CheckResult{Reason: string(v1alpha1.RevocationOfferDelisted), Phase: v1alpha1.ActivationRevoked}
	expired := CheckResult{Reason: v1alpha1.ReasonExpired, Phase: v1alpha1.ActivationExpired}
	runCheckCases(t, checkPublicationOpen, map[string]checkCase{
		"Open":              {reason: "O4: a live offer whose benefits have not expired passes", in: baInput(blog, baTrial()), want: pass, msgHas: []string{"expire at"}},
		"ListNeverExpires":  {reason: "O4: List benefits do not expire", in: baInput(baActivation("blog", "list", "go-live-blog", baCreated), mkOffer("list", v1alpha1.ListingTypeList, baLive)), want: pass, msgHas: []string{"do not expire"}},
		"Delisted":          {reason: "R2: a delisted offer ends the publication: Revoked, nothing recorded", in: baInput(blog, baTrial(build.DelistedAt(baNow.Add(-time.Hour)))), want: revoked, msgHas: []string{"delisted"}},
		"Expired":           {reason: "O4: benefits past their expiry: Expired", in: baInput(blog, baTrial(), baAt(baExpiry)), want: expired},
		"ExpiredThenDelist": {reason: "O4/R2: both passed, the earlier decides: expired before the delisting", in: baInput(blog, baTrial(build.DelistedAt(baExpiry.Add(time.Hour))), baAt(baExpiry.Add(2*time.Hour))), want: expired},
	})
}

func TestCheckNameFree(t *testing.T) {
	held := func(in *ActivationInput) {
		in.NameHeldBy = baGrantOf(baActivation("blog", "trial", "webinar", baCreated, baActive(baSince, v1alpha1.BenefitCategoryMarketing, nil)))
	}
	runCheckCases(t, checkNameFree, map[string]checkCase{
		"Free": {reason: "R7: no grant of another benefit holds the name", in: baInput(blog, baTrial()), want: pass},
		"Held": {reason: "R7: a grant of another benefit holds the name: Pending NameHeldByGrant, saying what to do", in: baInput(blog, baTrial(), held),
			want: failWith(v1alpha1.ReasonNameHeldByGrant), msgHas: []string{`BenefitGrant "blog"`, "another name", "administrator"}},
	})
}

func TestCheckNotOptedOut(t *testing.T) {
	runCheckCases(t, checkNotOptedOut, map[string]checkCase{
		"NotOptedOut": {reason: "O6: no opt-out passes", in: baInput(blog, baTrial()), want: pass},
		"ActivationOptOut": {reason: "O6: the activation's optOut fails OptedOut", in: baInput(baActivation("blog", "trial", "go-live-blog", baCreated, build.ActivationOptedOut()), baTrial()),
			want: CheckResult{Reason: v1alpha1.ReasonOptedOut, Phase: v1alpha1.ActivationOptedOut}},
		"OfferOptOut": {reason: "O6: the offer's optOut fails OfferOptedOut", in: baInput(blog, baTrial(build.OfferOptedOut())),
			want: CheckResult{Reason: v1alpha1.ReasonOfferOptedOut, Phase: v1alpha1.ActivationOptedOut}, msgHas: []string{`"trial"`}},
	})
}

func TestCheckListingType(t *testing.T) {
	runCheckCases(t, checkListingType, map[string]checkCase{
		"Offered":           {reason: "B2: a benefit for Trial offers on a Trial offer passes", in: baInput(blog, baTrial()), want: pass},
		"TransactOnTrial":   {reason: "B2: a Transact-only benefit on a Trial offer fails BenefitNotForListingType", in: baInput(baActivation("badge", "trial", "listing-badge", baCreated), baTrial()), want: failWith(v1alpha1.ReasonNotForListingType), msgHas: []string{`"listing-badge"`, "Trial"}},
		"OneTimeOnTransact": {reason: "B2: a one-time benefit on a Transact offer fails", in: baInput(baActivation("blog", "saas", "go-live-blog", baCreated), baSaaS()), want: failWith(v1alpha1.ReasonNotForListingType)},
	})
}

func TestCheckOneTimeUseOrTier(t *testing.T) {
	later := baCreated.Add(time.Hour)
	runCheckCases(t, checkOneTimeUseOrTier, map[string]checkCase{
		"FirstUse": {reason: "B3: the oldest activation of a one-time benefit passes", in: baInput(blog, baTrial(), baSiblings(baActivation("blog-2", "trial", "go-live-blog", later))), want: pass},
		"AlreadyUsed": {reason: "B3: a newer activation of the same one-time benefit fails AlreadyUsed, naming the older", in: baInput(baActivation("blog-2", "trial", "go-live-blog", later), baTrial(), baSiblings(blog)),
			want: failWith(v1alpha1.ReasonAlreadyUsed), msgHas: []string{`"blog"`}},
		"TierReached":    {reason: "S6: a tier-2 benefit at tier 2 passes", in: baInput(coSellAct, baSaaS()), want: pass},
		"TierAbove":      {reason: "S6: a tier unlocks lower tiers' benefits: tier 3 passes a tier-2 benefit", in: baInput(coSellAct, baSaaS(), baSales(baTier(3))), want: pass},
		"TierNotReached": {reason: "S6: a tier-2 benefit at tier 1 fails TierNotReached", in: baInput(coSellAct, baSaaS(), baSales(baTier(1))), want: failWith(v1alpha1.ReasonTierNotReached), msgHas: []string{"tier 2", "tier 1"}},
	})
}

// TestFirstFailing: the first failing check of the chain is what an
// activation not granted waits on: R1 and R3 before B2's own checks, then
// B2's order.
func TestFirstFailing(t *testing.T) {
	cases := map[string]struct {
		reason string
		in     ActivationInput
		want   string
	}{
		"AllHold":                {"B2: every prerequisite holds", baInput(blog, baTrial()), ""},
		"EnrolledFirst":          {"B2: enrolment comes before the contact and the listing type", baInput(baActivation("badge", "trial", "listing-badge", baCreated), baTrial(), baPub(build.NotEnrolled(), baNoContact)), v1alpha1.ReasonNotEnrolled},
		"StandingBeforeEnrolled": {"R1: good standing comes before B2's checks, enrolment included", baInput(blog, baTrial(), baPub(baViolation, build.NotEnrolled())), v1alpha1.ReasonViolation},
		"StandingBeforeContact":  {"R1: good standing comes before the contact", baInput(blog, baTrial(), baPub(baViolation, baNoContact)), v1alpha1.ReasonViolation},
		"OptOutBeforeStanding":   {"O6: opting out comes before the publisher's standing", baInput(baActivation("blog", "trial", "go-live-blog", baCreated, build.ActivationOptedOut()), baTrial(), baPub(baViolation)), v1alpha1.ReasonOptedOut},
		"ContactBeforeLive":      {"B2: the contact comes before the offer being live", baInput(blog, baTrial(baLiveAt(baNow.Add(time.Hour))), baPub(baNoContact)), v1alpha1.ReasonMarketingContactMissing},
		"LiveBeforeListing":      {"B2: the offer being live comes before the listing type", baInput(baActivation("badge", "trial", "listing-badge", baCreated), baTrial(baLiveAt(baNow.Add(time.Hour)))), v1alpha1.ReasonOfferNotLive},
		"ListingBeforeTier":      {"B2: the listing type comes before the tier", baInput(baActivation("blog", "saas", "go-live-blog", baCreated), baSaaS(), baSales(baTier(0))), v1alpha1.ReasonNotForListingType},
		"TierLast":               {"B2: the tier is the last check", baInput(coSellAct, baSaaS(), baSales(baTier(1))), v1alpha1.ReasonTierNotReached},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r, _, failing := firstFailing(tc.in)
			if failing != (tc.want != "") || r.Reason != tc.want {
				t.Errorf("%s\nfirstFailing = %q (failing %v), want %q", tc.reason, r.Reason, failing, tc.want)
			}
		})
	}
}

// TestExplainChain: explain lists every check in order; after a failed
// reference nothing more can be evaluated.
func TestExplainChain(t *testing.T) {
	names := func(rs []CheckOutcome) []string {
		out := make([]string, 0, len(rs))
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}
	wantNames := make([]string, 0, len(NotGrantedChain))
	for _, c := range NotGrantedChain {
		wantNames = append(wantNames, c.Name)
	}

	got := ExplainChain(baInput(coSellAct, baSaaS(), baSales(baTier(1)), baPub(baNoContact)))
	if diff := cmp.Diff(wantNames, names(got)); diff != "" {
		t.Fatalf("every check, in order: -want, +got:\n%s", diff)
	}
	failedNames := []string{}
	for _, r := range got {
		if !r.Evaluated {
			t.Errorf("%s not evaluated although every reference holds", r.Name)
		}
		if !r.Passed {
			failedNames = append(failedNames, r.Name)
		}
	}
	if diff := cmp.Diff([]string{"marketing-contact", "one-time-use-or-tier"}, failedNames); diff != "" {
		t.Errorf("every failing check is shown, not only the first: -want, +got:\n%s", diff)
	}

	checkNothingEvaluatedAfterMissingPublisher(t,
		ExplainChain(baInput(coSellAct, baSaaS(), func(in *ActivationInput) { in.Publisher = nil })))
}

// checkNothingEvaluatedAfterMissingPublisher: with the publisher missing,
// the offer check passes, the publisher check fails, and nothing after it
// can be evaluated.
func checkNothingEvaluatedAfterMissingPublisher(t *testing.T, got []CheckOutcome) {
	t.Helper()
	for _, r := range got {
		switch r.Name {
		case "offer-exists", "name-free":
			if !r.Evaluated || !r.Passed {
				t.Errorf("B1: the offer exists: %+v", r)
			}
		case "publisher-exists":
			if !r.Evaluated || r.Passed || r.Reason != v1alpha1.ReasonPublisherNotFound {
				t.Errorf("B1: the missing publisher fails: %+v", r)
			}
		default:
			if r.Evaluated {
				t.Errorf("B1: %s cannot be evaluated without the publisher: %+v", r.Name, r)
			}
		}
	}
}
