package rewards

import (
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// The durable record (DESIGN.md, "The durable record"): a BenefitGrant
// records that an activation was granted, when, until when, and whether it
// was revoked. Status is rebuilt from it; it is never rebuilt from status,
// but once: an activation granted by a version of the operator that kept
// these facts in status only gets a grant built from that status.

// Record is what an activation's BenefitGrant needs after a decision.
type Record struct {
	// Create is the spec of the BenefitGrant to create: the activation
	// becomes Active for the first time, or (Adopted) it was granted by an
	// earlier version of the operator and its grant is rebuilt from status.
	Create *v1alpha1.BenefitGrantSpec
	// Adopted is true when Create comes from the activation's status.
	Adopted bool
	// Revoke is the revocation to add to the existing grant (R6: once).
	Revoke *v1alpha1.GrantRevocation
}

// IsZero reports whether the record needs no write.
func (r Record) IsZero() bool { return r.Create == nil && r.Revoke == nil }

// maxRecordedMessage is the schema's bound on a recorded message.
const maxRecordedMessage = 1024

// grantOf returns the grant an activation's decision reads: its
// BenefitGrant, or one adopted from the status an earlier version wrote
// (activatedAt and category set), or nil when it was never granted.
func grantOf(in ActivationInput) (grant *v1alpha1.BenefitGrantSpec, adopted bool) {
	if in.Grant != nil {
		return &in.Grant.Spec, false
	}
	if g := AdoptedGrant(in.Activation); g != nil {
		return g, true
	}
	return nil, false
}

// AdoptedGrant rebuilds the grant of an activation that an earlier version
// of the operator made Active, from its status: nil when its status does
// not say it was granted. It is what upgrading keeps: activatedAt,
// contactDueBy, expiresAt and a revocation move into the durable record.
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
		g.Revocation = &v1alpha1.GrantRevocation{
			Reason: r.Reason, Message: truncate(r.Message, maxRecordedMessage),
			CausedBy: r.CausedBy, CauseTime: r.CauseTime, RecordedAt: recordedAt,
		}
	}
	return g
}

// newGrant is the grant of an activation becoming Active now.
func newGrant(in ActivationInput, category v1alpha1.BenefitCategory, activatedAt, contactDueBy time.Time, expiresAt *time.Time) *v1alpha1.BenefitGrantSpec {
	a := in.Activation
	return &v1alpha1.BenefitGrantSpec{
		Activation:   v1alpha1.GrantedActivation{Name: a.Name, UID: a.UID},
		Benefit:      a.Spec.Benefit,
		Category:     category,
		Offer:        a.Spec.OfferRef.Name,
		Publisher:    in.Offer.Spec.PublisherRef.Name,
		ActivatedAt:  metav1.NewTime(activatedAt),
		ContactDueBy: metav1.NewTime(contactDueBy),
		ExpiresAt:    metaTimeOrNil(expiresAt),
	}
}

// recordFor says what the grant needs so that it records the decision d.
func recordFor(grant *v1alpha1.BenefitGrantSpec, adopted bool, in ActivationInput, d ActivationDecision) Record {
	var rec Record
	switch {
	case grant == nil && d.Phase == v1alpha1.ActivationActive:
		rec.Create = newGrant(in, d.Category, *d.ActivatedAt, *d.ContactDueBy, d.ExpiresAt)
	case grant != nil && adopted:
		g := *grant
		rec.Create, rec.Adopted = &g, true
	}
	if grant != nil && grant.Revocation == nil && d.Revocation != nil {
		r := grantRevocation(d.Revocation)
		if rec.Create != nil {
			rec.Create.Revocation = r
		} else {
			rec.Revoke = r
		}
	}
	return rec
}

// grantRevocation is a decided revocation as the grant records it.
func grantRevocation(r *v1alpha1.Revocation) *v1alpha1.GrantRevocation {
	return &v1alpha1.GrantRevocation{
		Reason: r.Reason, Message: truncate(r.Message, maxRecordedMessage),
		CausedBy: r.CausedBy, CauseTime: r.CauseTime, RecordedAt: *r.RecordedAt,
	}
}

// statusRevocation is a recorded revocation as the activation's status
// shows it.
func statusRevocation(r *v1alpha1.GrantRevocation) *v1alpha1.Revocation {
	recordedAt := r.RecordedAt
	return &v1alpha1.Revocation{
		Reason: r.Reason, Message: r.Message, CausedBy: r.CausedBy,
		CauseTime: r.CauseTime, RecordedAt: &recordedAt, Time: recordedAt,
	}
}

// RevocationHistory is a publisher's revocation history read from its
// grants (R6): each revoked grant once, newest recordedAt first (activation
// name breaking ties), at most limit entries, and the number of revoked
// grants in all.
func RevocationHistory(grants []v1alpha1.BenefitGrant, limit int) ([]v1alpha1.RevocationRecord, int64) {
	var history []v1alpha1.RevocationRecord
	for i := range grants {
		g := &grants[i]
		r := g.Spec.Revocation
		if r == nil {
			continue
		}
		recordedAt := r.RecordedAt
		history = append(history, v1alpha1.RevocationRecord{
			Activation: g.Spec.Activation.Name,
			Benefit:    g.Spec.Benefit,
			Reason:     r.Reason,
			Message:    r.Message,
			CausedBy:   r.CausedBy,
			CauseTime:  r.CauseTime,
			RecordedAt: &recordedAt,
			Time:       recordedAt,
		})
	}
	count := int64(len(history))
	sortRevocations(history)
	if len(history) > limit {
		history = history[:limit]
	}
	return history, count
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
