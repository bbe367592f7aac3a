package rewards

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// The durable record: a granted benefit's status is read back from its
// BenefitGrant, so losing or editing the status changes nothing (docs/rules.md,
// "The durable record"; R6).

func TestDecideActivationStatusIsRebuiltFromGrant(t *testing.T) {
	activeBlog := baActivation("blog", "trial", "go-live-blog", baCreated, baActive(baSince, v1alpha1.BenefitCategoryMarketing, &baExpiry))
	revokedBlog := baActivation("blog", "trial", "go-live-blog", baCreated, baActive(baSince, v1alpha1.BenefitCategoryMarketing, &baExpiry),
		func(a *v1alpha1.BenefitActivation) {
			a.Status.Phase = v1alpha1.ActivationRevoked
			a.Status.Revocation = &v1alpha1.Revocation{
				Reason: v1alpha1.RevocationViolation, Message: "violation", Time: metaTime(baSince.Add(time.Hour)),
				CausedBy: &v1alpha1.ObjectReference{Kind: "Publisher", Name: "contoso"},
			}
		})
	activeCoSell := baActivation("co-sell", "saas", "co-sell", baCreated, baActive(baSince, v1alpha1.BenefitCategorySales, nil))
	cases := map[string]struct {
		reason string
		in     ActivationInput
	}{
		"Active": {
			reason: "B4: an Active benefit keeps activatedAt, contactDueBy and expiresAt (not the time of the rebuild)",
			in:     baInput(activeBlog, baTrial()),
		},
		"ActiveAfterLaterReconcile": {
			reason: "B4: a rebuild weeks later still shows the grant's instants",
			in:     baInput(activeBlog, baTrial(), baAt(baNow.AddDate(0, 0, 20))),
		},
		"Revoked": {
			reason: "R1/R6: a revocation whose cause is gone (violation removed) stays Revoked with its recorded time",
			in:     baInput(revokedBlog, baTrial()),
		},
		"RevokedViolationStillThere": {
			reason: "R6: a recorded revocation is read back, not recorded again",
			in:     baInput(revokedBlog, baTrial(), baPub(baViolation)),
		},
		"Expired": {
			reason: "O4: expired at the grant's expiresAt, after the program lengthened the expiry",
			in:     baInput(activeBlog, baTrial(), baProgram(baTrialExpiryMonths(6)), baAt(baExpiry.Add(time.Hour))),
		},
		"OptedOut": {
			reason: "O6: opted out keeps the grant's instants",
			in:     baInput(baActivation("blog", "trial", "go-live-blog", baCreated, build.ActivationOptedOut(), baActive(baSince, v1alpha1.BenefitCategoryMarketing, &baExpiry)), baTrial()),
		},
		"KeptByR5": {
			reason: "R5: a Transact benefit whose tier aged out stays Active",
			in:     baInput(activeCoSell, baSaaS(), baSales(baTier(1))),
		},
		"ProgramDeleted": {
			reason: "references: a granted benefit stays Active while its program is deleted",
			in:     baInput(activeBlog, baTrial(), func(in *ActivationInput) { in.Program = ProgramState{Name: "default", Missing: true} }),
		},
		"PublisherDeletedAndTierLost": {
			reason: "references: a granted Transact benefit stays Active while its publisher is deleted",
			in:     baInput(activeCoSell, baSaaS(), baSales(baTier(0)), func(in *ActivationInput) { in.Publisher = nil }),
		},
	}
	opts := cmpopts.IgnoreFields(ActivationDecision{}, "Record")
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			withStatus := DecideActivation(tc.in)
			wiped := tc.in
			baWiped(&wiped)
			if diff := cmp.Diff(withStatus, DecideActivation(wiped), opts); diff != "" {
				t.Errorf("%s\nstatus wiped: -with status, +wiped:\n%s", tc.reason, diff)
			}
			edited := tc.in
			edited.Activation = tc.in.Activation.DeepCopy()
			edited.Activation.Status.ActivatedAt = metaTimePtr(baNow)
			edited.Activation.Status.ContactDueBy = metaTimePtr(baNow)
			edited.Activation.Status.ExpiresAt = nil
			edited.Activation.Status.Phase = v1alpha1.ActivationPending
			edited.Activation.Status.Revocation = nil
			if diff := cmp.Diff(withStatus, DecideActivation(edited), opts); diff != "" {
				t.Errorf("%s\nstatus edited by someone else: -with status, +edited:\n%s", tc.reason, diff)
			}
			if got := DecideActivation(tc.in).Record; !got.IsZero() {
				t.Errorf("%s\na granted benefit whose decision adds nothing recorded asks to record %+v", tc.reason, got)
			}
		})
	}
}

func TestDecideActivationR6(t *testing.T) {
	saas := []v1alpha1.Offer{baSaaS()}
	billedAt := utc(2026, time.June, 1, 0, 0, 0)
	backDated := utc(2026, time.December, 1, 0, 0, 0) // before baSince, the grant
	activeCoSell := baActivation("co-sell", "saas", "co-sell", baCreated, baActive(baSince, v1alpha1.BenefitCategorySales, nil))
	trailing := baRules(baTrailing())
	cases := map[string]activationCase{
		"BackDatedCancellationRevokes": {
			reason: "R4/R6: billing reports after the grant a cancellation dated before it; the purchase alone had unlocked tier 2: revoked, causeTime the cancellation's own time, recordedAt now",
			in: baInput(activeCoSell, baSaaS(), baSales(SalesFactsFor(baRules(), saas, []v1alpha1.SalesRecord{
				mkSale("s-1", "saas", "20000", "USD", billedAt),
				mkSale("s-2", "saas", "10000", "USD", billedAt, baCancelled(backDated)),
			}, baNow))),
			want: baWantRevoked(v1alpha1.BenefitCategorySales, &baSince, nil, v1alpha1.RevocationCancellation, "SalesRecord", "s-2", baNow, &backDated),
		},
		"CancellationWithoutTimeRevokes": {
			reason: "R4/R6: a cancellation without a time revokes; causeTime is absent",
			in: baInput(activeCoSell, baSaaS(), baSales(SalesFactsFor(baRules(), saas, []v1alpha1.SalesRecord{
				mkSale("s-1", "saas", "20000", "USD", billedAt),
				mkSale("s-2", "saas", "10000", "USD", billedAt, build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)),
			}, baNow))),
			want: baWantRevoked(v1alpha1.BenefitCategorySales, &baSince, nil, v1alpha1.RevocationCancellation, "SalesRecord", "s-2", baNow, nil),
		},
		"CancelledLineBilledAfterGrantDidNotUnlockIt": {
			reason: "R4: a cancelled purchase billed after the grant cannot have unlocked it; the tier at the grant (s-1, 26000) was reached without it: kept (R5)",
			in: baInput(activeCoSell, baSaaS(), func(in *ActivationInput) {
				in.Program.Rules = trailing
				in.Sales = SalesFactsFor(trailing, saas, []v1alpha1.SalesRecord{
					mkSale("s-1", "saas", "26000", "USD", baNow.AddDate(-1, 0, 0)),
					mkSale("s-late", "saas", "30000", "USD", baSince.Add(24*time.Hour), baCancelled(baNow)),
				}, baNow)
			}),
			want: baWantActive(v1alpha1.BenefitCategorySales, baSince, nil, v1alpha1.ReasonContactOverdue, nil),
		},
		"BackDatedFraudRevokes": {
			reason: "R3/R6: fraud reported after the grant on a line billed before it revokes; a fraud report has no instant of its own",
			in: baInput(activeCoSell, baSaaS(), baSales(SalesFactsFor(baRules(), saas, []v1alpha1.SalesRecord{
				mkSale("s-1", "saas", "30000", "USD", billedAt, build.Fraud(v1alpha1.FraudSuspected)),
			}, baNow))),
			want: baWantRevoked(v1alpha1.BenefitCategorySales, &baSince, nil, v1alpha1.RevocationFraud, "SalesRecord", "s-1", baNow, nil),
		},
		"BackDatedViolationRevokes": {
			reason: "R1/R6: a violation recorded after the grant with an earlier time revokes; causeTime is the violation's time",
			in: baInput(baActivation("blog", "trial", "go-live-blog", baCreated, baActive(baSince, v1alpha1.BenefitCategoryMarketing, &baExpiry)),
				baTrial(), baPub(build.Violation(v1alpha1.ViolationDelisted, backDated, ""))),
			want: baWantRevoked(v1alpha1.BenefitCategoryMarketing, &baSince, &baExpiry, v1alpha1.RevocationViolation, "Publisher", "contoso", baNow, &backDated),
		},
		"NotGrantedNotRevoked": {
			reason: "R1/R6: a violation keeps an activation never granted Pending, not Revoked",
			in:     baInput(baActivation("blog", "trial", "go-live-blog", baCreated), baTrial(), baPub(baViolation)),
			want:   baWantPending(v1alpha1.ReasonViolation, v1alpha1.BenefitCategoryMarketing, &baExpiry),
		},
	}
	runActivationCases(t, cases)
}

func TestDecideActivationRecord(t *testing.T) {
	newBlog := baActivation("blog", "trial", "go-live-blog", baCreated, func(a *v1alpha1.BenefitActivation) { a.UID = "uid-blog" })
	activeBlog := baActivation("blog", "trial", "go-live-blog", baCreated, func(a *v1alpha1.BenefitActivation) { a.UID = "uid-blog" },
		baActive(baSince, v1alpha1.BenefitCategoryMarketing, &baExpiry), func(a *v1alpha1.BenefitActivation) { a.Status.Publisher = "contoso" })
	revokedAt := metaTime(baSince.Add(time.Hour))
	revokedBlog := activeBlog.DeepCopy()
	revokedBlog.Status.Phase = v1alpha1.ActivationRevoked
	revokedBlog.Status.Revocation = &v1alpha1.Revocation{
		Reason: v1alpha1.RevocationFraud, Message: "fraud", Time: revokedAt, CausedBy: &v1alpha1.ObjectReference{Kind: "SalesRecord", Name: "s-1"},
	}
	grantSpec := func(at time.Time, expires *time.Time) *v1alpha1.BenefitGrantSpec {
		return &v1alpha1.BenefitGrantSpec{
			Activation: v1alpha1.GrantedActivation{Name: "blog", UID: "uid-blog"},
			Benefit:    "go-live-blog", Category: v1alpha1.BenefitCategoryMarketing, Offer: "trial", Publisher: "contoso",
			ActivatedAt: metaTime(at), ContactDueBy: metaTime(at.Add(baWeek)), ExpiresAt: metaTimeOrNil(expires),
			Program: &v1alpha1.GrantedUnder{Name: "default", Revision: "default-0123456789"},
		}
	}
	heldBy := func(offer, benefit string) func(*ActivationInput) {
		return func(in *ActivationInput) {
			in.NameHeldBy = build.Grant("contoso", "blog", offer, benefit, "contoso", baSince)
		}
	}
	violationAt := metaTime(utc(2027, time.January, 5, 0, 0, 0))
	cases := map[string]struct {
		reason string
		in     ActivationInput
		want   Record
	}{
		"NewGrant": {
			reason: "B4: becoming Active records a grant: activation name and uid, benefit, category, offer, publisher, activatedAt now, contactDueBy a week later, expiresAt, the program and revision in force",
			in:     baInput(newBlog, baTrial(), baAt(baNow.Add(400*time.Millisecond))),
			want:   Record{Create: grantSpec(baNow, &baExpiry)},
		},
		"PendingRecordsNothing": {
			reason: "B2: a Pending activation records nothing",
			in:     baInput(newBlog, baTrial(), baPub(build.NotEnrolled())),
		},
		"NotGrantedRevokedRecordsNothing": {
			reason: "R2: a Pending activation of a delisted offer is Revoked but was never granted: nothing to record",
			in:     baInput(newBlog, baTrial(build.DelistedAt(baNow))),
		},
		"GrantedRecordsNothing": {
			reason: "B4: an Active benefit whose grant exists records nothing more",
			in:     baInput(activeBlog, baTrial()),
		},
		"Revocation": {
			reason: "R1/R6: revoking a granted benefit records the revocation once: reason, message, causedBy, causeTime, recordedAt now",
			in:     baInput(activeBlog, baTrial(), baPub(baViolation), baAt(baNow.Add(900*time.Millisecond))),
			want: Record{Revoke: &v1alpha1.GrantRevocation{
				Reason: v1alpha1.RevocationViolation, CausedBy: &v1alpha1.ObjectReference{Kind: "Publisher", Name: "contoso"},
				CauseTime: &violationAt, RecordedAt: metaTime(baNow),
			}},
		},
		"RecordedRevocationNotRecordedAgain": {
			reason: "R6: a revocation already recorded is not recorded again, whatever stands now",
			in:     baInput(*revokedBlog, baTrial(), baPub(baViolation)),
		},
		"NoGrantWhateverTheStatusSays": {
			reason: "R7: a status that says Active, without a grant, records nothing: the decision reads grants, never status (the upgrade from status-only versions adopts such grants once, at start)",
			in:     baInput(activeBlog, baTrial(), baNoGrant, baPub(build.NotEnrolled())),
		},
		"NameHeldByAnotherBenefitsGrant": {
			reason: "R7: a grant of this name records another benefit of the same offer: Pending, nothing recorded",
			in:     baInput(newBlog, baTrial(), heldBy("trial", "webinar")),
		},
		"NameHeldByAnotherOffersGrant": {
			reason: "R7: a grant of this name records the same benefit for another offer: Pending, nothing recorded",
			in:     baInput(newBlog, baTrial(), heldBy("another-trial", "go-live-blog")),
		},
	}
	opts := cmpopts.IgnoreFields(v1alpha1.GrantRevocation{}, "Message")
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := DecideActivation(tc.in).Record
			if diff := cmp.Diff(tc.want, got, opts); diff != "" {
				t.Errorf("%s\nDecideActivation(...).Record: -want, +got:\n%s", tc.reason, diff)
			}
			if r := got.Revoke; r != nil && r.Message == "" {
				t.Errorf("%s\nrevocation recorded without a message", tc.reason)
			}
		})
	}
	// A name held by another benefit's record holds the activation
	// Pending, whatever else holds, naming the grant and what to do.
	for _, name := range []string{"NameHeldByAnotherBenefitsGrant", "NameHeldByAnotherOffersGrant"} {
		d := DecideActivation(cases[name].in)
		if d.Phase != v1alpha1.ActivationPending || d.Reason != v1alpha1.ReasonNameHeldByGrant {
			t.Errorf("%s: got %s/%s, want Pending/%s", name, d.Phase, d.Reason, v1alpha1.ReasonNameHeldByGrant)
		}
		for _, want := range []string{`BenefitGrant "blog"`, "another name", "administrator delete"} {
			if !strings.Contains(d.Message, want) {
				t.Errorf("%s: message %q does not say %q", name, d.Message, want)
			}
		}
	}
}

func TestAdoptedGrantNeedsAGrantedStatus(t *testing.T) {
	for name, st := range map[string]v1alpha1.BenefitActivationStatus{
		"empty":       {},
		"pending":     {Phase: v1alpha1.ActivationPending, Category: v1alpha1.BenefitCategoryMarketing, Publisher: "contoso"},
		"no category": {Phase: v1alpha1.ActivationActive, ActivatedAt: metaTimePtr(baSince), Publisher: "contoso"},
	} {
		a := baActivation("blog", "trial", "go-live-blog", baCreated)
		a.Status = st
		if g := AdoptedGrant(&a); g != nil {
			t.Errorf("%s: AdoptedGrant = %+v, want nil: the status does not say the benefit was granted", name, g)
		}
	}
	a := baActivation("blog", "trial", "go-live-blog", baCreated, baActive(baSince, v1alpha1.BenefitCategoryMarketing, nil),
		func(a *v1alpha1.BenefitActivation) { a.Status.Publisher = "contoso"; a.Status.ContactDueBy = nil })
	g := AdoptedGrant(&a)
	if g == nil || !g.ContactDueBy.Equal(&metav1.Time{Time: baSince.Add(baWeek)}) {
		t.Errorf("AdoptedGrant without contactDueBy = %+v, want contactDueBy 7 days (the default) after activatedAt", g)
	}
}

// Adopting a status written by a version without grants gives a grant
// admission accepts: a revocation never recorded before the grant, and one
// naming what caused it.
func TestAdoptedGrantIsAValidRecord(t *testing.T) {
	revoked := func(r v1alpha1.Revocation) v1alpha1.BenefitActivation {
		return baActivation("blog", "trial", "go-live-blog", baCreated, baActive(baSince, v1alpha1.BenefitCategoryMarketing, &baExpiry),
			func(a *v1alpha1.BenefitActivation) {
				a.Status.Publisher, a.Status.Phase, a.Status.Revocation = "contoso", v1alpha1.ActivationRevoked, &r
			})
	}
	cases := map[string]struct {
		act            v1alpha1.BenefitActivation
		wantRecordedAt time.Time
		wantCause      v1alpha1.ObjectReference
	}{
		"Kept": {
			act:            revoked(v1alpha1.Revocation{Reason: v1alpha1.RevocationFraud, Time: metaTime(baSince.Add(time.Hour)), CausedBy: &v1alpha1.ObjectReference{Kind: "SalesRecord", Name: "s-1"}}),
			wantRecordedAt: baSince.Add(time.Hour), wantCause: v1alpha1.ObjectReference{Kind: "SalesRecord", Name: "s-1"},
		},
		"RecordedBeforeTheGrant": {
			act:            revoked(v1alpha1.Revocation{Reason: v1alpha1.RevocationFraud, Time: metaTime(baSince.Add(-time.Hour)), CausedBy: &v1alpha1.ObjectReference{Kind: "SalesRecord", Name: "s-1"}}),
			wantRecordedAt: baSince, wantCause: v1alpha1.ObjectReference{Kind: "SalesRecord", Name: "s-1"},
		},
		"ViolationWithoutCause": {
			act:            revoked(v1alpha1.Revocation{Reason: v1alpha1.RevocationViolation, Time: metaTime(baSince.Add(time.Hour))}),
			wantRecordedAt: baSince.Add(time.Hour), wantCause: v1alpha1.ObjectReference{Kind: "Publisher", Name: "contoso"},
		},
		"DelistingWithoutCause": {
			act:            revoked(v1alpha1.Revocation{Reason: v1alpha1.RevocationOfferDelisted, Time: metaTime(baSince.Add(time.Hour))}),
			wantRecordedAt: baSince.Add(time.Hour), wantCause: v1alpha1.ObjectReference{Kind: "Offer", Name: "trial"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := AdoptedGrant(&tc.act)
			if g == nil || g.Revocation == nil {
				t.Fatalf("AdoptedGrant = %+v, want a revoked grant", g)
			}
			if !g.Revocation.RecordedAt.Time.Equal(tc.wantRecordedAt) || *g.Revocation.CausedBy != tc.wantCause {
				t.Errorf("revocation recorded at %s caused by %+v, want %s and %+v", g.Revocation.RecordedAt.Time, *g.Revocation.CausedBy, tc.wantRecordedAt, tc.wantCause)
			}
		})
	}
}
