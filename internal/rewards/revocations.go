package rewards

import (
	"fmt"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// Revocation is a revocation as the decision makes it and reads it back
// (R1–R4, R6). The API shows a revocation in three places, each converted
// from or to this one here and nowhere else: an activation's status
// (Status), a grant's record (Grant, RevocationOfGrant) and a publisher's
// history (RevocationHistory).
type Revocation struct {
	Reason  v1alpha1.RevocationReason
	Message string
	// CausedBy is the object whose state caused it: the publisher (R1), the
	// offer (R2) or a sales line (R3, R4).
	CausedBy v1alpha1.ObjectReference
	// CauseTime is the cause's own instant from its spec (violation.time,
	// offer.delistedAt, cancellation.time); nil when it has none.
	CauseTime *time.Time
	// RecordedAt is when the operator recorded it in the activation's grant;
	// nil for an activation never granted (R2 ends a Pending one: nothing
	// was taken away, and the offer's spec says it all).
	RecordedAt *time.Time
}

// RevocationHistoryLimit bounds a publisher's revocation history.
const RevocationHistoryLimit = 50

// maxRecordedMessage is the schema's bound on a recorded message.
const maxRecordedMessage = 1024

// violationRevocation: a violation on the publisher (R1).
func violationRevocation(pub *v1alpha1.Publisher, v v1alpha1.Violation) Revocation {
	at := v.Time.Time
	return Revocation{Reason: v1alpha1.RevocationViolation, Message: violationMessage(pub, v),
		CausedBy: v1alpha1.ObjectReference{Kind: "Publisher", Name: pub.Name}, CauseTime: &at}
}

// delisting: a delisted offer ends its publication (R2).
func delisting(offer *v1alpha1.Offer) Revocation {
	at := offer.Spec.DelistedAt.Time
	return Revocation{
		Reason:   v1alpha1.RevocationOfferDelisted,
		Message:  fmt.Sprintf("offer %q was delisted at %s, which ends this publication (R2)", offer.Name, at.UTC().Format(time.RFC3339)),
		CausedBy: v1alpha1.ObjectReference{Kind: "Offer", Name: offer.Name}, CauseTime: &at,
	}
}

// fraudRevocation: fraud reported on a sales line in scope (R3); a fraud
// report has no instant of its own.
func fraudRevocation(f FraudLine, scope v1alpha1.FraudRevocationScope) Revocation {
	return Revocation{Reason: v1alpha1.RevocationFraud, Message: fraudMessage(f, scope),
		CausedBy: v1alpha1.ObjectReference{Kind: "SalesRecord", Name: f.Name}}
}

// cancellationRevocation: a cancelled purchase that alone had unlocked the
// tier a benefit needs (R4).
func cancellationRevocation(c CancelledLine, need int32) Revocation {
	return Revocation{Reason: v1alpha1.RevocationCancellation,
		Message:  fmt.Sprintf("cancelled purchase %q had unlocked tier %d, which this benefit needs (R4)", c.Name, need),
		CausedBy: v1alpha1.ObjectReference{Kind: "SalesRecord", Name: c.Name}, CauseTime: c.CancelledAt}
}

// Status is r as an activation's status shows it.
func (r *Revocation) Status() *v1alpha1.Revocation {
	if r == nil {
		return nil
	}
	causedBy := r.CausedBy
	out := &v1alpha1.Revocation{Reason: r.Reason, Message: r.Message, CausedBy: &causedBy, CauseTime: metaTimeOrNil(r.CauseTime)}
	switch {
	case r.RecordedAt != nil:
		out.RecordedAt = metaTimeOrNil(r.RecordedAt)
		out.Time = *out.RecordedAt
	case r.CauseTime != nil:
		out.Time = metav1.NewTime(*r.CauseTime)
	}
	return out
}

// Grant is r as a grant records it; r.RecordedAt is set.
func (r *Revocation) Grant() *v1alpha1.GrantRevocation {
	causedBy := r.CausedBy
	return &v1alpha1.GrantRevocation{
		Reason: r.Reason, Message: truncate(r.Message, maxRecordedMessage),
		CausedBy: &causedBy, CauseTime: metaTimeOrNil(r.CauseTime), RecordedAt: metav1.NewTime(*r.RecordedAt),
	}
}

// RevocationOfGrant is the revocation a grant records, nil when it has
// none.
func RevocationOfGrant(g *v1alpha1.GrantRevocation) *Revocation {
	if g == nil {
		return nil
	}
	recordedAt := g.RecordedAt.Time
	r := &Revocation{Reason: g.Reason, Message: g.Message, CauseTime: timePtr(g.CauseTime), RecordedAt: &recordedAt}
	if g.CausedBy != nil {
		r.CausedBy = *g.CausedBy
	}
	return r
}

// RevocationHistory is a publisher's revocation history read from its
// grants (R6), whether their activations still exist or not (R8): each
// revoked grant once, newest recordedAt first (activation name breaking
// ties), at most limit entries, and the number of revoked grants in all.
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

// sortRevocations orders a revocation history newest recordedAt first,
// activation name breaking ties, so the same grants always give the same
// history.
func sortRevocations(h []v1alpha1.RevocationRecord) {
	sort.SliceStable(h, func(i, j int) bool {
		if !h[i].Time.Equal(&h[j].Time) {
			return h[i].Time.After(h[j].Time.Time)
		}
		return h[i].Activation < h[j].Activation
	})
}
