package rewards

import (
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// The durable record (docs/rules.md, "The durable record"): a BenefitGrant
// records that the activation of its name was granted, when, until when,
// and whether it was revoked. Status is rebuilt from it, never the other
// way round; the one exception is the upgrade from a version that kept
// these facts in status only, whose grants are built from that status once
// (AdoptedGrant, run by the operator's first start).

// Record is what an activation's BenefitGrant needs after a decision.
type Record struct {
	// Create is the spec of the BenefitGrant to create: the activation
	// becomes Active for the first time.
	Create *v1alpha1.BenefitGrantSpec
	// Revoke is the revocation to add to the existing grant (R6: once).
	Revoke *v1alpha1.GrantRevocation
}

// IsZero reports whether the record needs no write.
func (r Record) IsZero() bool { return r.Create == nil && r.Revoke == nil }

// AdoptedGrant rebuilds the grant of an activation that a version of the
// operator without grants made Active, from its status: nil when its
// status does not say it was granted. It is what upgrading keeps:
// activatedAt, contactDueBy, expiresAt and a revocation move into the
// durable record. A revocation's instant is kept, but never before the
// grant's (admission refuses a revocation recorded before activatedAt),
// and one without causedBy (never written so, but status is anyone's to
// edit) names the object its reason points to.
func AdoptedGrant(act *v1alpha1.BenefitActivation) *v1alpha1.BenefitGrantSpec {
	st := act.Status
	if st.ActivatedAt == nil || st.Category == "" || st.Publisher == "" {
		return nil
	}
	g := &v1alpha1.BenefitGrantSpec{
		Activation:  v1alpha1.GrantedActivation{Name: act.Name, UID: act.UID},
		Benefit:     act.Spec.Benefit,
		Category:    st.Category,
		Offer:       act.Spec.OfferRef.Name,
		Publisher:   st.Publisher,
		ActivatedAt: *st.ActivatedAt,
		ExpiresAt:   st.ExpiresAt,
	}
	if st.ContactDueBy != nil {
		g.ContactDueBy = *st.ContactDueBy
	} else {
		g.ContactDueBy = metav1.NewTime(st.ActivatedAt.Add(days(v1alpha1.DefaultContactDueDays)))
	}
	if r := st.Revocation; st.Phase == v1alpha1.ActivationRevoked && r != nil {
		recordedAt := r.Time
		if r.RecordedAt != nil {
			recordedAt = *r.RecordedAt
		}
		if recordedAt.Before(st.ActivatedAt) {
			recordedAt = *st.ActivatedAt
		}
		causedBy := r.CausedBy
		if causedBy == nil || causedBy.Name == "" {
			causedBy = adoptedCause(r.Reason, act, st.Publisher)
		}
		g.Revocation = &v1alpha1.GrantRevocation{
			Reason: r.Reason, Message: truncate(r.Message, maxRecordedMessage),
			CausedBy: causedBy, CauseTime: r.CauseTime, RecordedAt: recordedAt,
		}
	}
	return g
}

// adoptedCause is the object a revocation's reason points to, for a
// revocation adopted from a status that does not name it: the publisher
// for a violation, the offer otherwise (a fraudulent or cancelled line is
// one of the offer's; which one the status no longer says).
func adoptedCause(reason v1alpha1.RevocationReason, act *v1alpha1.BenefitActivation, publisher string) *v1alpha1.ObjectReference {
	if reason == v1alpha1.RevocationViolation {
		return &v1alpha1.ObjectReference{Kind: "Publisher", Name: publisher}
	}
	return &v1alpha1.ObjectReference{Kind: "Offer", Name: act.Spec.OfferRef.Name}
}

// newGrant is the grant of an activation becoming Active now, under the
// program revision in force.
func newGrant(in ActivationInput, category v1alpha1.BenefitCategory, activatedAt, contactDueBy time.Time, expiresAt *time.Time) *v1alpha1.BenefitGrantSpec {
	a := in.Activation
	g := &v1alpha1.BenefitGrantSpec{
		Activation:   v1alpha1.GrantedActivation{Name: a.Name, UID: a.UID},
		Benefit:      a.Spec.Benefit,
		Category:     category,
		Offer:        a.Spec.OfferRef.Name,
		Publisher:    in.Offer.Spec.PublisherRef.Name,
		ActivatedAt:  metav1.NewTime(activatedAt),
		ContactDueBy: metav1.NewTime(contactDueBy),
		ExpiresAt:    metaTimeOrNil(expiresAt),
	}
	if in.Program.Revision != "" {
		g.Program = &v1alpha1.GrantedUnder{Name: in.Program.Name, Revision: in.Program.Revision}
	}
	return g
}

// recordFor says what the grant needs so that it records the decision d.
func recordFor(grant *v1alpha1.BenefitGrantSpec, in ActivationInput, d ActivationDecision) Record {
	var rec Record
	if grant == nil && d.Phase == v1alpha1.ActivationActive {
		rec.Create = newGrant(in, d.Category, *d.ActivatedAt, *d.ContactDueBy, d.ExpiresAt)
	}
	if grant != nil && grant.Revocation == nil && d.Revocation != nil {
		rec.Revoke = d.Revocation.Grant()
	}
	return rec
}

func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func metaTimeOrNil(t *time.Time) *metav1.Time {
	if t == nil {
		return nil
	}
	m := metav1.NewTime(*t)
	return &m
}
