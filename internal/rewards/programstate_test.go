package rewards

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// revisionOf is the revision a program's controller records for spec.
func revisionOf(program string, number, generation int64, spec *v1alpha1.RewardsProgramSpec) v1alpha1.RewardsProgramRevision {
	return v1alpha1.RewardsProgramRevision{
		ObjectMeta: metav1.ObjectMeta{Name: RevisionName(program, spec)},
		Spec:       v1alpha1.RewardsProgramRevisionSpec{Program: program, Revision: number, ProgramGeneration: generation, Rules: *spec.DeepCopy()},
	}
}

func TestProgramStateOf(t *testing.T) {
	valid := defaultProgramSpec()
	invalid := defaultProgramSpec()
	invalid.Tiers[1].Benefits = append(invalid.Tiers[1].Benefits, "no-such-benefit")
	cheaper := defaultProgramSpec()
	cheaper.Tiers[1].MinBilledSales = "1000"
	program := func(gen int64, spec *v1alpha1.RewardsProgramSpec) *v1alpha1.RewardsProgram {
		return &v1alpha1.RewardsProgram{ObjectMeta: metav1.ObjectMeta{Name: "gold", Generation: gen}, Spec: *spec}
	}
	cheaperRev := revisionOf("gold", 2, 3, cheaper)
	invalidRev := revisionOf("gold", 3, 4, invalid)
	cases := map[string]struct {
		reason          string
		prog            *v1alpha1.RewardsProgram
		last            *v1alpha1.RewardsProgramRevision
		wantRulesGen    int64
		wantRevision    string
		wantTier2From   string // tier 2's threshold in the rules in force; "" for none
		wantNotInForce  string
		wantSuperseded  bool
		wantMessageHave string
	}{
		"Missing": {
			reason: "a program that does not exist decides nothing: default rules, no tier, whatever revisions it left",
			prog:   nil, last: &cheaperRev, wantNotInForce: v1alpha1.ReasonProgramNotFound, wantMessageHave: "does not exist",
		},
		"Valid": {
			reason: "a valid spec is in force, at its generation, under the revision named after its rules",
			prog:   program(3, valid), wantRulesGen: 3, wantRevision: RevisionName("gold", valid), wantTier2From: "25000.00",
		},
		"ValidWinsOverItsRevisions": {
			reason: "a valid spec is in force, whatever the revisions say",
			prog:   program(5, valid), last: &cheaperRev, wantRulesGen: 5, wantRevision: RevisionName("gold", valid), wantTier2From: "25000.00",
		},
		"InvalidKeepsLastValidRules": {
			reason: "program safety: a spec that is not valid leaves the last valid revision's rules in force, at their generation",
			prog:   program(4, invalid), last: &cheaperRev,
			wantRulesGen: 3, wantRevision: cheaperRev.Name, wantTier2From: "1000.00", wantSuperseded: true,
		},
		"NeverValidDecidesNothing": {
			reason: "program safety: a program never valid (no revision) decides nothing: no rules in force, ProgramInvalid",
			prog:   program(1, invalid), wantNotInForce: v1alpha1.ReasonProgramInvalid, wantMessageHave: "no-such-benefit",
		},
		"RevisionNoLongerValid": {
			reason: "defence in depth: a revision whose rules do not resolve either is not used",
			prog:   program(4, invalid), last: &invalidRev, wantNotInForce: v1alpha1.ReasonProgramInvalid,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			st := ProgramStateOf("gold", tc.prog, tc.last)
			if st.RulesGeneration != tc.wantRulesGen || st.Revision != tc.wantRevision {
				t.Errorf("%s\nrules of generation %d, revision %q; want %d, %q", tc.reason, st.RulesGeneration, st.Revision, tc.wantRulesGen, tc.wantRevision)
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
			} else if tc.wantSuperseded && !strings.Contains(sup, "generation 3") || tc.wantSuperseded && !strings.Contains(sup, cheaperRev.Name) {
				t.Errorf("%s\nSuperseded() = %q, want it to name the generation and revision in force", tc.reason, sup)
			}
		})
	}
}

func TestRevisionName(t *testing.T) {
	spec := defaultProgramSpec()
	name := RevisionName("gold", spec)
	if !strings.HasPrefix(name, "gold-") || len(name) != len("gold-")+revisionHashLength {
		t.Errorf("RevisionName = %q, want gold- and %d hex digits", name, revisionHashLength)
	}
	if again := RevisionName("gold", spec.DeepCopy()); again != name {
		t.Errorf("the same rules named %q then %q: a grant must be able to name its revision before it is written", name, again)
	}
	other := defaultProgramSpec()
	other.Description = "another description"
	if RevisionName("gold", other) == name {
		t.Errorf("other rules got the same revision name %q", name)
	}
	if RevisionName("silver", spec) == name {
		t.Errorf("another program's revision of the same rules got the same name %q", name)
	}
	long := strings.Repeat("a", 240) + "." + strings.Repeat("b", 20)
	if got := RevisionName(long, spec); len(got) > 253 || strings.Contains(got, ".-") {
		t.Errorf("RevisionName of a %d-character program = %q (%d characters): want a valid object name", len(long), got, len(got))
	}
}

func TestLastRevision(t *testing.T) {
	valid := defaultProgramSpec()
	cheaper := defaultProgramSpec()
	cheaper.Tiers[1].MinBilledSales = "1000"
	invalid := defaultProgramSpec()
	invalid.Tiers[1].Benefits = append(invalid.Tiers[1].Benefits, "no-such-benefit")
	forged := revisionOf("gold", 9, 9, valid)
	forged.Spec.Rules = *cheaper.DeepCopy() // rules changed by hand: the name no longer matches
	cases := map[string]struct {
		revs []v1alpha1.RewardsProgramRevision
		want string
	}{
		"None":            {},
		"Highest":         {revs: []v1alpha1.RewardsProgramRevision{revisionOf("gold", 1, 1, valid), revisionOf("gold", 2, 3, cheaper)}, want: RevisionName("gold", cheaper)},
		"RenumberedBack":  {revs: []v1alpha1.RewardsProgramRevision{revisionOf("gold", 3, 5, valid), revisionOf("gold", 2, 3, cheaper)}, want: RevisionName("gold", valid)},
		"OtherProgram":    {revs: []v1alpha1.RewardsProgramRevision{revisionOf("gold", 1, 1, valid), revisionOf("silver", 7, 1, cheaper)}, want: RevisionName("gold", valid)},
		"InvalidSkipped":  {revs: []v1alpha1.RewardsProgramRevision{revisionOf("gold", 1, 1, valid), revisionOf("gold", 2, 2, invalid)}, want: RevisionName("gold", valid)},
		"ForgedSkipped":   {revs: []v1alpha1.RewardsProgramRevision{revisionOf("gold", 1, 1, valid), forged}, want: RevisionName("gold", valid)},
		"TieBrokenByName": {revs: []v1alpha1.RewardsProgramRevision{revisionOf("gold", 1, 1, valid), revisionOf("gold", 1, 1, cheaper)}, want: max(RevisionName("gold", valid), RevisionName("gold", cheaper))},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := ""
			if last := LastRevision("gold", tc.revs); last != nil {
				got = last.Name
			}
			if got != tc.want {
				t.Errorf("LastRevision = %q, want %q", got, tc.want)
			}
		})
	}
}

// NextRevision numbers revisions as Kubernetes numbers ControllerRevisions:
// new rules get the next number; rules that come back keep their object,
// renumbered past the others.
func TestNextRevision(t *testing.T) {
	a, b := defaultProgramSpec(), defaultProgramSpec()
	b.Description = "b"
	ra, rb := revisionOf("gold", 1, 1, a), revisionOf("gold", 2, 2, b)
	cases := map[string]struct {
		spec       *v1alpha1.RewardsProgramSpec
		revs       []v1alpha1.RewardsProgramRevision
		wantNumber int64
		wantCreate bool
	}{
		"First":                {spec: a, wantNumber: 1, wantCreate: true},
		"New":                  {spec: b, revs: []v1alpha1.RewardsProgramRevision{ra}, wantNumber: 2, wantCreate: true},
		"AlreadyHighest":       {spec: b, revs: []v1alpha1.RewardsProgramRevision{ra, rb}, wantNumber: 2},
		"ComesBack":            {spec: a, revs: []v1alpha1.RewardsProgramRevision{ra, rb}, wantNumber: 3},
		"OtherProgramsIgnored": {spec: a, revs: []v1alpha1.RewardsProgramRevision{revisionOf("silver", 5, 1, b)}, wantNumber: 1, wantCreate: true},
		"SharedTopRenumbered":  {spec: a, revs: []v1alpha1.RewardsProgramRevision{revisionOf("gold", 2, 1, a), rb}, wantNumber: 3},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			gotName, number, create := NextRevision("gold", tc.spec, tc.revs)
			if gotName != RevisionName("gold", tc.spec) || number != tc.wantNumber || create != tc.wantCreate {
				t.Errorf("NextRevision = %q, %d, create %v; want %q, %d, create %v", gotName, number, create, RevisionName("gold", tc.spec), tc.wantNumber, tc.wantCreate)
			}
		})
	}
}
