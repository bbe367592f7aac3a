package rewards

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

func TestFollowUpHint(t *testing.T) {
	live := utc(2026, time.November, 30, 9, 0, 0)
	due := utc(2026, time.December, 28, 9, 0, 0) // live + 28 days (4 weeks)
	trial := mkOffer("trial", v1alpha1.ListingTypeTrial, live)
	act := func(name string, mods ...func(*v1alpha1.BenefitActivation)) v1alpha1.BenefitActivation {
		return baActivation(name, "trial", "go-live-blog", live, mods...)
	}
	contacted := build.ContactedAt(live.Add(24 * time.Hour))
	type want struct {
		hint bool
		next *time.Time
	}
	type args struct {
		offer       v1alpha1.Offer
		activations []v1alpha1.BenefitActivation
		rules       *Rules
		now         time.Time
	}
	cases := map[string]struct {
		reason string
		args   args
		want   want
		// msgHas are substrings the hint must contain when shown.
		msgHas []string
	}{
		"JustLive": {
			reason: "O5: an offer that just went live shows no hint and looks again at liveAt + 28 days",
			args:   args{trial, []v1alpha1.BenefitActivation{act("a")}, baRules(), live},
			want:   want{false, &due},
		},
		"OneNanosecondBefore": {
			reason: "O5: one nanosecond before liveAt + followUpAfter there is no hint yet; next = that instant",
			args:   args{trial, []v1alpha1.BenefitActivation{act("a")}, baRules(), due.Add(-time.Nanosecond)},
			want:   want{false, &due},
		},
		"AtDue": {
			reason: "O5: at exactly liveAt + followUpAfter with no contacted activation the hint shows, naming the owner and a support ticket",
			args:   args{trial, []v1alpha1.BenefitActivation{act("a"), act("b")}, baRules(), due},
			want:   want{true, nil},
			msgHas: []string{`"trial"`, "28 days", "owns the offer", "owner", "support ticket"},
		},
		"LongAfter": {
			reason: "O5: long after, the hint still shows",
			args:   args{trial, []v1alpha1.BenefitActivation{act("a")}, baRules(), due.AddDate(1, 0, 0)},
			want:   want{true, nil},
		},
		"NoActivations": {
			reason: "O5: an offer with no activation at all has none contacted: the hint shows",
			args:   args{trial, nil, baRules(), due},
			want:   want{true, nil},
		},
		"Transact": {
			reason: "O5: the hint applies to every listing type, Transact too",
			args: args{mkOffer("saas", v1alpha1.ListingTypeTransact, live),
				[]v1alpha1.BenefitActivation{baActivation("co-sell", "saas", "co-sell", live)}, baRules(), due},
			want:   want{true, nil},
			msgHas: []string{`"saas"`},
		},
		"ProgramFollowUpDays": {
			reason: "O5: followUpAfterDays of the program sets the instant and the message",
			args: args{trial, nil, baRules(func(s *v1alpha1.RewardsProgramSpec) { s.Durations.FollowUpAfterDays = ptrTo[int32](10) }),
				live.AddDate(0, 0, 10)},
			want:   want{true, nil},
			msgHas: []string{"10 days"},
		},
		"ProgramFollowUpDaysBefore": {
			reason: "O5: with followUpAfterDays 10, next is liveAt + 10 days",
			args: args{trial, nil, baRules(func(s *v1alpha1.RewardsProgramSpec) { s.Durations.FollowUpAfterDays = ptrTo[int32](10) }),
				live.AddDate(0, 0, 9)},
			want: want{false, ptrTo(live.AddDate(0, 0, 10))},
		},
		"OneContacted": {
			reason: "O5: no hint once any activation of the offer has contactedAt",
			args:   args{trial, []v1alpha1.BenefitActivation{act("a"), act("b", contacted), act("c")}, baRules(), due},
			want:   want{false, nil},
		},
		"ContactedBeforeDue": {
			reason: "O5: contacted before the follow-up instant: no hint and nothing to look at again",
			args:   args{trial, []v1alpha1.BenefitActivation{act("a", contacted)}, baRules(), due.Add(-time.Hour)},
			want:   want{false, nil},
		},
		"ContactedRevokedActivation": {
			reason: "O5: a contacted activation counts even once Revoked",
			args: args{trial, []v1alpha1.BenefitActivation{act("a", contacted, baPhase(v1alpha1.ActivationRevoked))},
				baRules(), due},
			want: want{false, nil},
		},
		"OptedOut": {
			reason: "O5/O6: an opted-out offer takes part in no activity: no hint",
			args: args{mkOffer("trial", v1alpha1.ListingTypeTrial, live, build.OfferOptedOut()),
				[]v1alpha1.BenefitActivation{act("a")}, baRules(), due},
			want: want{false, nil},
		},
		"OptedOutBeforeDue": {
			reason: "O5/O6: an opted-out offer has no follow-up instant",
			args: args{mkOffer("trial", v1alpha1.ListingTypeTrial, live, build.OfferOptedOut()),
				nil, baRules(), live},
			want: want{false, nil},
		},
		"Delisted": {
			reason: "O5/O2: a delisted offer shows no hint",
			args: args{mkOffer("trial", v1alpha1.ListingTypeTrial, live, build.DelistedAt(due.Add(-24*time.Hour))),
				[]v1alpha1.BenefitActivation{act("a")}, baRules(), due},
			want: want{false, nil},
		},
		"DelistedAtDue": {
			reason: "O5/O2: an offer delisted at exactly the follow-up instant shows no hint",
			args: args{mkOffer("trial", v1alpha1.ListingTypeTrial, live, build.DelistedAt(due)),
				nil, baRules(), due},
			want: want{false, nil},
		},
		"Scheduled": {
			reason: "O5/O2: a Scheduled offer shows no hint (its own liveAt wakes it)",
			args: args{mkOffer("trial", v1alpha1.ListingTypeTrial, due.AddDate(0, 1, 0)),
				[]v1alpha1.BenefitActivation{act("a")}, baRules(), due},
			want: want{false, nil},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			hint, msg, next := FollowUpHint(&tc.args.offer, tc.args.activations, tc.args.rules, tc.args.now)
			if diff := cmp.Diff(tc.want, want{hint, next}, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nFollowUpHint(..., %s): -want, +got:\n%s", tc.reason, tc.args.now, diff)
			}
			if hint != (msg != "") {
				t.Errorf("%s\nFollowUpHint(...) = %t with message %q: a message goes with the hint and only with it", tc.reason, hint, msg)
			}
			for _, s := range tc.msgHas {
				if !strings.Contains(msg, s) {
					t.Errorf("%s\nFollowUpHint(...) message %q, want it to mention %q", tc.reason, msg, s)
				}
			}
		})
	}
}
