package controllers

import (
	"testing"

	"k8s.io/apimachinery/pkg/types"

	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
)

// A program's rules are resolved once per content of the program: the same
// UID and resourceVersion give the state resolved before; a new
// resourceVersion (an edit) or a new UID (the program deleted and created
// again) resolve the program as it is now. Program safety (DESIGN.md)
// rests on the rules in force being the current spec's or the last valid
// one's, never an older state kept by mistake.
func TestProgramStatesResolveEachContentOnce(t *testing.T) {
	p := &programStates{byName: map[string]programState{}}
	prog := testenv.Program()
	prog.UID, prog.ResourceVersion, prog.Generation = types.UID("uid-1"), "10", 1

	first := p.stateOf(prog.Name, prog)
	if again := p.stateOf(prog.Name, prog); again.Rules != first.Rules {
		t.Errorf("same UID and resourceVersion resolved again")
	}

	// An edit: another currency, a new resourceVersion and generation.
	edited := prog.DeepCopy()
	edited.ResourceVersion, edited.Generation = "11", 2
	edited.Spec.Currency = "EUR"
	got := p.stateOf(prog.Name, edited)
	if got.Rules == first.Rules || got.Rules.Currency != "EUR" || got.RulesGeneration != 2 {
		t.Errorf("after an edit: currency %s, rules generation %d; want the edited program's (EUR, 2)", got.Rules.Currency, got.RulesGeneration)
	}

	// Deleted and created again: same name and, by chance, resourceVersion.
	recreated := prog.DeepCopy()
	recreated.UID, recreated.ResourceVersion = types.UID("uid-2"), "11"
	if got := p.stateOf(prog.Name, recreated); got.UID != "uid-2" || got.Rules.Currency == "EUR" {
		t.Errorf("a program created again under the same name got the state of the one before: UID %s, currency %s", got.UID, got.Rules.Currency)
	}

	// An object without a resourceVersion (not from the API server) is
	// never taken for a known content.
	bare := prog.DeepCopy()
	bare.ResourceVersion = ""
	if a, b := p.stateOf(prog.Name, bare), p.stateOf(prog.Name, bare); a.Rules == b.Rules {
		t.Errorf("a program without a resourceVersion was resolved once for two reads")
	}
}
