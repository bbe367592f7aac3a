package rewards

import (
	"fmt"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// ProgramState is a RewardsProgram as the kinds that follow it see it: the
// rules in force, and why they may not be its current spec's (DESIGN.md,
// "Program safety"). A spec that is not valid never changes what is
// decided: the last valid rules stay in force, and a program never valid
// decides nothing.
type ProgramState struct {
	Name string
	// Rules are the rules in force: the spec's when it is valid, the last
	// valid spec's otherwise; DefaultRules (no tier, no catalog) when the
	// program is missing or was never valid, so that nothing is unlocked.
	// The operator shares one Rules among all the reconciles under the same
	// program: read only.
	Rules *Rules
	// Missing is true when the RewardsProgram does not exist.
	Missing bool
	// Problem describes why the current spec is not valid; "" when it is.
	Problem string
	// Generation is the spec's generation; RulesGeneration the one whose
	// rules are in force, 0 when none is.
	Generation      int64
	RulesGeneration int64
	// UID of the RewardsProgram, "" when missing: with RulesGeneration it
	// names the rules in force (a program deleted and created again starts
	// its generations over).
	UID string
}

// ProgramStateOf resolves the program named name; prog is nil when it does
// not exist. The last valid rules come from prog's status.rulesInForce.
func ProgramStateOf(name string, prog *v1alpha1.RewardsProgram) ProgramState {
	st := ProgramState{Name: name, Rules: DefaultRules()}
	if prog == nil {
		st.Missing = true
		return st
	}
	st.Generation, st.UID = prog.Generation, string(prog.UID)
	rules, problems := ResolveProgram(&prog.Spec)
	if len(problems) == 0 {
		st.Rules, st.RulesGeneration = rules, prog.Generation
		return st
	}
	st.Problem = problems[0].Message
	if last := prog.Status.RulesInForce; last != nil && prog.Status.RulesGeneration > 0 {
		if rules, problems := ResolveProgram(last); len(problems) == 0 {
			st.Rules, st.RulesGeneration = rules, prog.Status.RulesGeneration
		}
	}
	return st
}

// InForce reports whether the program has rules in force: its spec's, or
// the last valid ones.
func (p ProgramState) InForce() bool { return !p.Missing && (p.Problem == "" || p.RulesGeneration > 0) }

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
	return fmt.Sprintf("RewardsProgram %q generation %d is not valid (%s); the rules of generation %d stay in force",
		p.Name, p.Generation, p.Problem, p.RulesGeneration)
}
