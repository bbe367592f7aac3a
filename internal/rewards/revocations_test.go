package rewards

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// rvGrant is the grant of activation name, granted at baSince; revoked at
// recordedAt for reason when reason is not "".
func rvGrant(name string, reason v1alpha1.RevocationReason, recordedAt time.Time) v1alpha1.BenefitGrant {
	opts := []build.GrantOption{build.ActivationUID("uid-" + name)}
	if reason != "" {
		cause := metaTime(recordedAt.Add(-time.Hour))
		opts = append(opts, build.Revoked(v1alpha1.GrantRevocation{
			Reason: reason, Message: "because", CausedBy: &v1alpha1.ObjectReference{Kind: "Publisher", Name: "contoso"},
			CauseTime: &cause, RecordedAt: metaTime(recordedAt),
		}))
	}
	return *build.Grant("contoso", name, "trial", "blog-"+name, "contoso", baSince, opts...)
}

// rvEntry is the history entry rvGrant(name, reason, at) gives.
func rvEntry(name string, reason v1alpha1.RevocationReason, at time.Time) v1alpha1.RevocationRecord {
	recorded, cause := metaTime(at), metaTime(at.Add(-time.Hour))
	return v1alpha1.RevocationRecord{
		Activation: name, Benefit: "blog-" + name, Reason: reason, Message: "because",
		CausedBy:  &v1alpha1.ObjectReference{Kind: "Publisher", Name: "contoso"},
		CauseTime: &cause, RecordedAt: &recorded, Time: recorded,
	}
}

func TestRevocationHistory(t *testing.T) {
	t1, t2, t3 := baNow, baNow.Add(time.Hour), baNow.Add(2*time.Hour)
	many := make([]v1alpha1.BenefitGrant, 0, 60)
	for i := range 60 {
		many = append(many, rvGrant(fmt.Sprintf("a-%02d", i), v1alpha1.RevocationFraud, baNow.Add(time.Duration(i)*time.Minute)))
	}
	cases := map[string]struct {
		reason    string
		grants    []v1alpha1.BenefitGrant
		limit     int
		want      []v1alpha1.RevocationRecord
		wantCount int64
	}{
		"None": {
			reason: "R6: grants never revoked give an empty history and a zero count",
			grants: []v1alpha1.BenefitGrant{rvGrant("a", "", t1), rvGrant("b", "", t1)},
			limit:  50,
		},
		"NewestFirst": {
			reason: "R6: each revoked grant once, newest recordedAt first, with causeTime and recordedAt; unrevoked grants are left out",
			grants: []v1alpha1.BenefitGrant{
				rvGrant("a", v1alpha1.RevocationViolation, t1), rvGrant("b", "", t2),
				rvGrant("c", v1alpha1.RevocationFraud, t3), rvGrant("d", v1alpha1.RevocationOfferDelisted, t2),
			},
			limit: 50,
			want: []v1alpha1.RevocationRecord{
				rvEntry("c", v1alpha1.RevocationFraud, t3), rvEntry("d", v1alpha1.RevocationOfferDelisted, t2),
				rvEntry("a", v1alpha1.RevocationViolation, t1),
			},
			wantCount: 3,
		},
		"TieByName": {
			reason: "R6: revocations recorded in the same second are ordered by activation name, whatever the grants' order",
			grants: []v1alpha1.BenefitGrant{rvGrant("z", v1alpha1.RevocationFraud, t1), rvGrant("m", v1alpha1.RevocationFraud, t1), rvGrant("a", v1alpha1.RevocationFraud, t1)},
			limit:  50,
			want: []v1alpha1.RevocationRecord{
				rvEntry("a", v1alpha1.RevocationFraud, t1), rvEntry("m", v1alpha1.RevocationFraud, t1), rvEntry("z", v1alpha1.RevocationFraud, t1),
			},
			wantCount: 3,
		},
		"Bounded": {
			reason: "R6: the history keeps the newest limit entries; the count still counts every revoked grant",
			grants: many,
			limit:  3,
			want: []v1alpha1.RevocationRecord{
				rvEntry("a-59", v1alpha1.RevocationFraud, baNow.Add(59*time.Minute)),
				rvEntry("a-58", v1alpha1.RevocationFraud, baNow.Add(58*time.Minute)),
				rvEntry("a-57", v1alpha1.RevocationFraud, baNow.Add(57*time.Minute)),
			},
			wantCount: 60,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, count := RevocationHistory(tc.grants, tc.limit)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nRevocationHistory(...): -want, +got:\n%s", tc.reason, diff)
			}
			if count != tc.wantCount {
				t.Errorf("%s\nRevocationHistory(...) count = %d, want %d", tc.reason, count, tc.wantCount)
			}
			// Idempotent: the same grants in another order give the same.
			reversed := append([]v1alpha1.BenefitGrant(nil), tc.grants...)
			for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
				reversed[i], reversed[j] = reversed[j], reversed[i]
			}
			again, _ := RevocationHistory(reversed, tc.limit)
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("%s\nRevocationHistory depends on the grants' order: -first, +reversed:\n%s", tc.reason, diff)
			}
		})
	}
}
