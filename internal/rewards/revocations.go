package rewards

import (
	"sort"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// RevocationHistoryLimit bounds a publisher's revocation history.
const RevocationHistoryLimit = 50

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
