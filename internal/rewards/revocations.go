package rewards

import (
	"sort"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// RevocationHistoryLimit bounds a publisher's revocation history.
const RevocationHistoryLimit = 50

// MergeRevocations adds to a publisher's revocation history the revocations
// of its activations that it does not hold yet, newest first, keeping at
// most limit entries; count grows by the number added and so keeps counting
// what the bounded history drops. It is idempotent: merging the same
// activations again adds nothing. A revocation older than the oldest entry
// of a full history is taken as already counted (it was dropped from it).
func MergeRevocations(history []v1alpha1.RevocationRecord, count int64, activations []v1alpha1.BenefitActivation, limit int) ([]v1alpha1.RevocationRecord, int64) {
	type key struct {
		activation string
		unix       int64
	}
	seen := make(map[key]bool, len(history))
	for _, h := range history {
		seen[key{h.Activation, h.Time.Unix()}] = true
	}
	merged := append([]v1alpha1.RevocationRecord(nil), history...)
	for i := range activations {
		a := &activations[i]
		rev := a.Status.Revocation
		if a.Status.Phase != v1alpha1.ActivationRevoked || rev == nil || seen[key{a.Name, rev.Time.Unix()}] {
			continue
		}
		// A full history may have dropped this revocation already: skip
		// what sorts after its oldest entry (older, or as old with a later
		// name), which an earlier trim would have cut.
		if n := len(history); n >= limit {
			oldest := history[n-1]
			if rev.Time.Unix() < oldest.Time.Unix() || (rev.Time.Unix() == oldest.Time.Unix() && a.Name > oldest.Activation) {
				continue
			}
		}
		merged = append(merged, v1alpha1.RevocationRecord{
			Activation: a.Name,
			Benefit:    a.Spec.Benefit,
			Reason:     rev.Reason,
			Message:    rev.Message,
			Time:       rev.Time,
			CausedBy:   rev.CausedBy,
		})
		count++
	}
	sort.SliceStable(merged, func(i, j int) bool {
		if !merged[i].Time.Equal(&merged[j].Time) {
			return merged[i].Time.After(merged[j].Time.Time)
		}
		return merged[i].Activation < merged[j].Activation
	})
	if len(merged) > limit {
		merged = merged[:limit]
	}
	return merged, count
}
