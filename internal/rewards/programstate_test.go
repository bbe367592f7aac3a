package rewards

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

func TestProgramStateOf(t *testing.T) {
	valid := defaultProgramSpec()
	invalid := defaultProgramSpec()
	invalid.Tiers[1].Benefits = append(invalid.Tiers[1].Benefits, "no-such-benefit")
	cheaper := defaultProgramSpec()
	cheaper.Tiers[1].MinBilledSales = "1000"
	program := func(gen int64, spec *v1alpha1.RewardsProgramSpec, st v1alpha1.RewardsProgramStatus) *v1alpha1.RewardsProgram {
		return &v1alpha1.RewardsProgram{ObjectMeta: metav1.ObjectMeta{Name: "gold", Generation: gen}, Spec: *spec, Status: st}
	}
	cases := map[string]struct {
		reason          string
		prog            *v1alpha1.RewardsProgram
		wantRulesGen    int64
		wantTier2From   string // tier 2's threshold in the rules in force; "" for none
		wantNotInForce  string
		wantSuperseded  bool
		wantMessageHave string
	}{
		"Missing": {
			reason: "a program that does not exist decides nothing: default rules, no tier",
			prog:   nil, wantNotInForce: v1alpha1.ReasonProgramNotFound, wantMessageHave: "does not exist",
		},
		"Valid": {
			reason: "a valid spec is in force, at its generation",
			prog:   program(3, valid, v1alpha1.RewardsProgramStatus{}), wantRulesGen: 3, wantTier2From: "25000.00",
		},
		"InvalidKeepsLastValidRules": {
			reason:       "program safety: a spec that is not valid leaves the last valid rules (status.rulesInForce) in force, at their generation",
			prog:         program(4, invalid, v1alpha1.RewardsProgramStatus{RulesGeneration: 3, RulesInForce: cheaper}),
			wantRulesGen: 3, wantTier2From: "1000.00", wantSuperseded: true,
		},
		"NeverValidDecidesNothing": {
			reason: "program safety: a program never valid decides nothing: no rules in force, ProgramInvalid",
			prog:   program(1, invalid, v1alpha1.RewardsProgramStatus{}), wantNotInForce: v1alpha1.ReasonProgramInvalid, wantMessageHave: "no-such-benefit",
		},
		"WipedStatusWhileInvalid": {
			reason: "program safety: the last valid rules live in status; wiped while the spec is not valid, none are in force",
			prog:   program(4, invalid, v1alpha1.RewardsProgramStatus{RulesGeneration: 3}), wantNotInForce: v1alpha1.ReasonProgramInvalid,
		},
		"RulesInForceNoLongerValid": {
			reason: "defence in depth: rules in force that do not resolve either are not used",
			prog:   program(4, invalid, v1alpha1.RewardsProgramStatus{RulesGeneration: 3, RulesInForce: invalid}), wantNotInForce: v1alpha1.ReasonProgramInvalid,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			st := ProgramStateOf("gold", tc.prog)
			if st.RulesGeneration != tc.wantRulesGen {
				t.Errorf("%s\nRulesGeneration = %d, want %d", tc.reason, st.RulesGeneration, tc.wantRulesGen)
			}
			got := ""
			if len(st.Rules.Tiers) > 1 {
				got = st.Rules.Tiers[1].MinBilledSales.String()
			}
			if got != tc.wantTier2From {
				t.Errorf("%s\ntier 2 in force from %q, want %q", tc.reason, got, tc.wantTier2From)
			}
			reason, msg := st.NotInForce()
			if reason != tc.wantNotInForce || !strings.Contains(msg, tc.wantMessageHave) {
				t.Errorf("%s\nNotInForce() = %q, %q; want %q mentioning %q", tc.reason, reason, msg, tc.wantNotInForce, tc.wantMessageHave)
			}
			if sup := st.Superseded(); (sup != "") != tc.wantSuperseded {
				t.Errorf("%s\nSuperseded() = %q, want it set: %v", tc.reason, sup, tc.wantSuperseded)
			} else if tc.wantSuperseded && !strings.Contains(sup, "generation 3 stay in force") {
				t.Errorf("%s\nSuperseded() = %q, want it to name the generation in force", tc.reason, sup)
			}
		})
	}
}
