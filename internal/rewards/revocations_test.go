package rewards

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// rvBase is the time of the oldest revocation of the revocation tests.
var rvBase = utc(2027, time.January, 1, 0, 0, 0)

// rvRevoked is an activation revoked at at.
func rvRevoked(name string, at time.Time, mods ...func(*v1alpha1.BenefitActivation)) v1alpha1.BenefitActivation {
	a := baActivation(name, "saas", "co-sell", rvBase.AddDate(0, -1, 0), func(a *v1alpha1.BenefitActivation) {
		a.Status.Phase = v1alpha1.ActivationRevoked
		a.Status.Revocation = &v1alpha1.Revocation{
			Reason: v1alpha1.RevocationViolation, Message: "violation of " + name, Time: metav1.NewTime(at),
			CausedBy: &v1alpha1.ObjectReference{Kind: "Publisher", Name: "contoso"},
		}
	})
	for _, m := range mods {
		m(&a)
	}
	return a
}

// rvRecord is the history entry of rvRevoked(name, at), as the API server
// keeps it (whole seconds).
func rvRecord(name string, at time.Time) v1alpha1.RevocationRecord {
	return v1alpha1.RevocationRecord{
		Activation: name, Benefit: "co-sell", Reason: v1alpha1.RevocationViolation, Message: "violation of " + name,
		Time: metav1.NewTime(at.Truncate(time.Second)), CausedBy: &v1alpha1.ObjectReference{Kind: "Publisher", Name: "contoso"},
	}
}

// rvName is the name of the i-th activation of a long history.
func rvName(i int) string { return fmt.Sprintf("h-%03d", i) }

// rvHistory is a history of the activations h-000 … h-<n-1>, h-000 revoked
// at rvBase and each next one an hour later: newest first.
func rvHistory(n int) []v1alpha1.RevocationRecord {
	h := make([]v1alpha1.RevocationRecord, 0, n)
	for i := n - 1; i >= 0; i-- {
		h = append(h, rvRecord(rvName(i), rvBase.Add(time.Duration(i)*time.Hour)))
	}
	return h
}

// rvActivations are the revoked activations h-000 … h-<n-1> of rvHistory.
func rvActivations(n int) []v1alpha1.BenefitActivation {
	acts := make([]v1alpha1.BenefitActivation, 0, n)
	for i := 0; i < n; i++ {
		acts = append(acts, rvRevoked(rvName(i), rvBase.Add(time.Duration(i)*time.Hour)))
	}
	return acts
}

func TestMergeRevocations(t *testing.T) {
	t1, t2, t3 := rvBase, rvBase.Add(time.Hour), rvBase.Add(2*time.Hour)
	full := rvHistory(RevocationHistoryLimit) // h-049 newest … h-000 oldest, at rvBase
	type args struct {
		history     []v1alpha1.RevocationRecord
		count       int64
		activations []v1alpha1.BenefitActivation
		limit       int
	}
	type want struct {
		history []v1alpha1.RevocationRecord
		count   int64
	}
	cases := map[string]struct {
		reason string
		args   args
		want   want
	}{
		"AddsNewestFirst": {
			reason: "R1-R4 history: revoked activations are added newest first, with benefit, reason, message, time and cause; count grows by the number added",
			args: args{nil, 0, []v1alpha1.BenefitActivation{
				rvRevoked("b", t2), rvRevoked("a", t1), rvRevoked("c", t3),
			}, RevocationHistoryLimit},
			want: want{[]v1alpha1.RevocationRecord{rvRecord("c", t3), rvRecord("b", t2), rvRecord("a", t1)}, 3},
		},
		"AddsToExisting": {
			reason: "R1-R4 history: a new revocation goes in front of the existing history",
			args:   args{[]v1alpha1.RevocationRecord{rvRecord("b", t2), rvRecord("a", t1)}, 7, []v1alpha1.BenefitActivation{rvRevoked("c", t3)}, RevocationHistoryLimit},
			want:   want{[]v1alpha1.RevocationRecord{rvRecord("c", t3), rvRecord("b", t2), rvRecord("a", t1)}, 8},
		},
		"OlderThanNewestOfPartialHistory": {
			reason: "R1-R4 history: a history that is not full takes any missing revocation, in time order",
			args:   args{[]v1alpha1.RevocationRecord{rvRecord("c", t3), rvRecord("a", t1)}, 2, []v1alpha1.BenefitActivation{rvRevoked("b", t2)}, RevocationHistoryLimit},
			want:   want{[]v1alpha1.RevocationRecord{rvRecord("c", t3), rvRecord("b", t2), rvRecord("a", t1)}, 3},
		},
		"TiesByName": {
			reason: "R1-R4 history: revocations of the same instant are ordered by activation name",
			args: args{nil, 0, []v1alpha1.BenefitActivation{
				rvRevoked("c", t1), rvRevoked("a", t1), rvRevoked("b", t1),
			}, RevocationHistoryLimit},
			want: want{[]v1alpha1.RevocationRecord{rvRecord("a", t1), rvRecord("b", t1), rvRecord("c", t1)}, 3},
		},
		"IgnoresNonRevoked": {
			reason: "R1-R4 history: only Revoked activations with a revocation are merged",
			args: args{nil, 4, []v1alpha1.BenefitActivation{
				baActivation("pending", "saas", "co-sell", t1, baPhase(v1alpha1.ActivationPending)),
				baActivation("active", "saas", "co-sell", t1, baActive(t1, v1alpha1.BenefitCategorySales, nil)),
				baActivation("expired", "trial", "go-live-blog", t1, baPhase(v1alpha1.ActivationExpired)),
				baActivation("opted-out", "trial", "go-live-blog", t1, baPhase(v1alpha1.ActivationOptedOut)),
				rvRevoked("active-with-revocation", t2, baPhase(v1alpha1.ActivationActive)),
				rvRevoked("revoked-without-revocation", t2, func(a *v1alpha1.BenefitActivation) { a.Status.Revocation = nil }),
			}, RevocationHistoryLimit},
			want: want{nil, 4},
		},
		"AlreadyHeld": {
			reason: "R1-R4 history: a revocation already in the history is not added again",
			args: args{[]v1alpha1.RevocationRecord{rvRecord("a", t1)}, 1, []v1alpha1.BenefitActivation{
				rvRevoked("a", t1), rvRevoked("b", t2),
			}, RevocationHistoryLimit},
			want: want{[]v1alpha1.RevocationRecord{rvRecord("b", t2), rvRecord("a", t1)}, 2},
		},
		"AlreadyHeldAfterRoundTrip": {
			reason: "R1-R4 history: the history keeps whole seconds; a revocation held at its second is not added again",
			args: args{[]v1alpha1.RevocationRecord{rvRecord("a", t1)}, 1, []v1alpha1.BenefitActivation{
				rvRevoked("a", t1.Add(300*time.Millisecond)),
			}, RevocationHistoryLimit},
			want: want{[]v1alpha1.RevocationRecord{rvRecord("a", t1)}, 1},
		},
		"RecreatedActivation": {
			reason: "R1-R4 history: an activation of the same name revoked at another time is another revocation",
			args: args{[]v1alpha1.RevocationRecord{rvRecord("a", t1)}, 1, []v1alpha1.BenefitActivation{
				rvRevoked("a", t3),
			}, RevocationHistoryLimit},
			want: want{[]v1alpha1.RevocationRecord{rvRecord("a", t3), rvRecord("a", t1)}, 2},
		},
		"CappedAtLimit": {
			reason: "R1-R4 history: a newer revocation enters a full history, the oldest entry drops, count keeps counting",
			args: args{full, 120, append(rvActivations(RevocationHistoryLimit),
				rvRevoked("new", rvBase.Add(100*time.Hour))), RevocationHistoryLimit},
			want: want{append([]v1alpha1.RevocationRecord{rvRecord("new", rvBase.Add(100*time.Hour))}, full[:RevocationHistoryLimit-1]...), 121},
		},
		"OlderThanOldestOfFullHistory": {
			reason: "R1-R4 history: a revocation older than the oldest entry of a full history was dropped from it and is not re-added nor counted",
			args: args{full, 120, append(rvActivations(RevocationHistoryLimit),
				rvRevoked("dropped", rvBase.Add(-time.Hour))), RevocationHistoryLimit},
			want: want{full, 120},
		},
		"SameSecondAsOldestOfFullHistory": {
			reason: "R1-R4 history: a-new was revoked in the same second as the oldest entry h-000 but was never merged; it sorts before h-000, so it cannot be an entry dropped from the history: it is added and counted",
			args: args{full, 120, append(rvActivations(RevocationHistoryLimit),
				rvRevoked("a-new", rvBase)), RevocationHistoryLimit},
			want: want{append(append([]v1alpha1.RevocationRecord(nil), full[:RevocationHistoryLimit-1]...), rvRecord("a-new", rvBase)), 121},
		},
		"SmallLimit": {
			reason: "R1-R4 history: the history keeps the limit's newest entries while count counts them all",
			args: args{nil, 0, []v1alpha1.BenefitActivation{
				rvRevoked("a", t1), rvRevoked("b", t2), rvRevoked("c", t3),
			}, 2},
			want: want{[]v1alpha1.RevocationRecord{rvRecord("c", t3), rvRecord("b", t2)}, 3},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := append([]v1alpha1.RevocationRecord(nil), tc.args.history...)
			history, count := MergeRevocations(tc.args.history, tc.args.count, tc.args.activations, tc.args.limit)
			if diff := cmp.Diff(tc.want, want{history, count}, cmp.AllowUnexported(want{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nMergeRevocations(...): -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(before, tc.args.history, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nMergeRevocations(...) changed its input history: -before, +after:\n%s", tc.reason, diff)
			}
			// Idempotent: merging the same activations again adds nothing.
			again, countAgain := MergeRevocations(history, count, tc.args.activations, tc.args.limit)
			if diff := cmp.Diff(want{history, count}, want{again, countAgain}, cmp.AllowUnexported(want{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nMergeRevocations(...) twice: -once, +twice:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestMergeRevocationsCountGrowsPastLimit revokes 80 activations one after
// the other, merging after each, as the publisher reconciler does.
func TestMergeRevocationsCountGrowsPastLimit(t *testing.T) {
	const n = 80
	acts := rvActivations(n)
	var history []v1alpha1.RevocationRecord
	var count int64
	for i := 1; i <= n; i++ {
		history, count = MergeRevocations(history, count, acts[:i], RevocationHistoryLimit)
		if count != int64(i) {
			t.Fatalf("R1-R4 history: after %d revocations count = %d, want %d", i, count, i)
		}
		if want := min(i, RevocationHistoryLimit); len(history) != want {
			t.Fatalf("R1-R4 history: after %d revocations the history holds %d entries, want %d", i, len(history), want)
		}
		if history[0].Activation != rvName(i-1) {
			t.Fatalf("R1-R4 history: after %d revocations the newest entry is %q, want %q", i, history[0].Activation, rvName(i-1))
		}
		// Merging the same activations again adds nothing.
		again, countAgain := MergeRevocations(history, count, acts[:i], RevocationHistoryLimit)
		if diff := cmp.Diff(history, again); diff != "" || countAgain != count {
			t.Fatalf("R1-R4 history: merging %d revocations twice changed it (count %d → %d): -once, +twice:\n%s", i, count, countAgain, diff)
		}
	}
	if diff := cmp.Diff(rvHistory(n)[:RevocationHistoryLimit], history); diff != "" {
		t.Errorf("R1-R4 history: the history holds the 50 newest revocations, newest first: -want, +got:\n%s", diff)
	}

	// All at once from an empty history, then again: the same result.
	once, countOnce := MergeRevocations(nil, 0, acts, RevocationHistoryLimit)
	if countOnce != n {
		t.Errorf("R1-R4 history: merging %d revocations at once counts %d, want %d", n, countOnce, n)
	}
	if diff := cmp.Diff(history, once); diff != "" {
		t.Errorf("R1-R4 history: merging at once differs from merging one by one: -one by one, +at once:\n%s", diff)
	}
	twice, countTwice := MergeRevocations(once, countOnce, acts, RevocationHistoryLimit)
	if diff := cmp.Diff(once, twice); diff != "" || countTwice != countOnce {
		t.Errorf("R1-R4 history: merging %d revocations twice changed it (count %d → %d): -once, +twice:\n%s", n, countOnce, countTwice, diff)
	}
}
