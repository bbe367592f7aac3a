package rewards

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// ProgramState is a RewardsProgram as the kinds that follow it see it: the
// rules in force, which revision holds them, and why they may not be its
// current spec's (docs/rules.md, "Program safety"). A spec that is not valid
// never changes what is decided: the last valid rules, kept in the
// program's RewardsProgramRevisions, stay in force, and a program never
// valid decides nothing.
type ProgramState struct {
	Name string
	// Rules are the rules in force: the spec's when it is valid, the last
	// valid revision's otherwise; DefaultRules (no tier, no catalog) when
	// the program is missing or was never valid, so that nothing is
	// unlocked. The operator shares one Rules among all the reconciles
	// under the same program: read only.
	Rules *Rules
	// Missing is true when the RewardsProgram does not exist.
	Missing bool
	// Problem describes why the current spec is not valid; "" when it is.
	Problem string
	// Generation is the spec's generation; RulesGeneration the one whose
	// rules are in force (from the revision when the spec is not valid),
	// 0 when none is.
	Generation      int64
	RulesGeneration int64
	// Revision names the RewardsProgramRevision of the rules in force
	// (RevisionName), "" when none are. Grants record it.
	Revision string
}

// ProgramStateOf resolves the program named name; prog is nil when it does
// not exist. last is the program's last valid revision (LastRevision), nil
// when it has none: its rules are in force while the spec is not valid.
func ProgramStateOf(name string, prog *v1alpha1.RewardsProgram, last *v1alpha1.RewardsProgramRevision) ProgramState {
	st := ProgramState{Name: name, Rules: DefaultRules()}
	if prog == nil {
		st.Missing = true
		return st
	}
	st.Generation = prog.Generation
	rules, problems := ResolveProgram(&prog.Spec)
	if len(problems) == 0 {
		st.Rules, st.RulesGeneration, st.Revision = rules, prog.Generation, RevisionName(name, &prog.Spec)
		return st
	}
	st.Problem = problems[0].Message
	if last != nil {
		if rules, problems := ResolveProgram(&last.Spec.Rules); len(problems) == 0 {
			st.Rules, st.RulesGeneration, st.Revision = rules, last.Spec.ProgramGeneration, last.Name
		}
	}
	return st
}

// InForce reports whether the program has rules in force: its spec's, or
// the last valid ones.
func (p ProgramState) InForce() bool { return !p.Missing && p.Revision != "" }

// NotInForce says why the program decides nothing: it does not exist, or
// it was never valid. It returns "" while rules are in force.
func (p ProgramState) NotInForce() (reason, message string) {
	switch {
	case p.Missing:
		return v1alpha1.ReasonProgramNotFound, fmt.Sprintf("RewardsProgram %q does not exist; create it or set spec.programRef", p.Name)
	case !p.InForce():
		return v1alpha1.ReasonProgramInvalid, fmt.Sprintf("RewardsProgram %q is not valid and never was, so it decides nothing until it is fixed: %s",
			p.Name, p.Problem)
	}
	return "", ""
}

// Superseded says, when the current spec is not valid but earlier rules
// are in force, which rules decide; "" otherwise.
func (p ProgramState) Superseded() string {
	if p.Problem == "" || !p.InForce() {
		return ""
	}
	return fmt.Sprintf("RewardsProgram %q generation %d is not valid (%s); the rules of generation %d (RewardsProgramRevision %q) stay in force",
		p.Name, p.Generation, p.Problem, p.RulesGeneration, p.Revision)
}

// revisionHashLength is how many hex digits of the rules' hash end a
// revision's name: 40 bits, so that two sets of rules of one program
// sharing a name is out of the question.
const revisionHashLength = 10

// RevisionName is the name of the RewardsProgramRevision that holds spec
// as the rules of program: the program's name, "-", and a hash of the
// rules' JSON. The same rules always have the same name, so a grant can
// name its revision whether or not the operator has written it yet, and a
// revision whose rules were changed by hand no longer matches its name.
// Encoding a RewardsProgramSpec cannot fail: it holds strings, numbers,
// lists and objects only.
func RevisionName(program string, spec *v1alpha1.RewardsProgramSpec) string {
	data, _ := json.Marshal(spec) //nolint:errchkjson // see above
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])[:revisionHashLength]
	// An object name holds at most 253 characters.
	prefix := program
	if max := 253 - len(hash) - 1; len(prefix) > max {
		prefix = strings.TrimRight(prefix[:max], ".-")
	}
	return prefix + "-" + hash
}

// LastRevision is the revision of program whose rules stay in force while
// its spec is not valid: among revs, those of program whose rules match
// their name (RevisionName) and are valid, the one with the highest
// spec.revision, name breaking ties. Nil when there is none.
func LastRevision(program string, revs []v1alpha1.RewardsProgramRevision) *v1alpha1.RewardsProgramRevision {
	var last *v1alpha1.RewardsProgramRevision
	for i := range revs {
		r := &revs[i]
		if r.Spec.Program != program || r.Name != RevisionName(program, &r.Spec.Rules) {
			continue
		}
		if last != nil && (r.Spec.Revision < last.Spec.Revision || (r.Spec.Revision == last.Spec.Revision && r.Name < last.Name)) {
			continue
		}
		if _, problems := ResolveProgram(&r.Spec.Rules); len(problems) == 0 {
			last = r
		}
	}
	return last
}

// NextRevision says what recording spec, a valid spec of program, asks of
// its revisions: the revision to create (create true) or the existing one
// to renumber (its name, with revision the number to give it), or nothing
// when the revision holding spec is already the highest. As with
// ControllerRevisions, rules that come back keep their revision object,
// renumbered past the others.
func NextRevision(program string, spec *v1alpha1.RewardsProgramSpec, revs []v1alpha1.RewardsProgramRevision) (name string, revision int64, create bool) {
	name = RevisionName(program, spec)
	var highest int64
	var existing *v1alpha1.RewardsProgramRevision
	for i := range revs {
		r := &revs[i]
		if r.Spec.Program != program {
			continue
		}
		if r.Name == name {
			existing = r
		}
		highest = max(highest, r.Spec.Revision)
	}
	switch {
	case existing == nil:
		return name, highest + 1, true
	case existing.Spec.Revision < highest || (existing.Spec.Revision == highest && moreThanOneAt(revs, program, highest)):
		return name, highest + 1, false
	}
	return name, existing.Spec.Revision, false
}

// moreThanOneAt reports whether two revisions of program share the
// revision number n (two writers numbered at once); the one in force must
// then be renumbered to stand alone at the top.
func moreThanOneAt(revs []v1alpha1.RewardsProgramRevision, program string, n int64) bool {
	count := 0
	for i := range revs {
		if revs[i].Spec.Program == program && revs[i].Spec.Revision == n {
			count++
		}
	}
	return count > 1
}
