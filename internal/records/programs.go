package records

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
)

// FieldRevisionProgram is the field RewardsProgramRevisions are listed by:
// a field index of that name in the operator's cache (RevisionIndex), a
// selectable field of the CRD on the API server.
const FieldRevisionProgram = "spec.program"

// RevisionIndex is the field index a cache must hold for Programs to list
// revisions from it.
func RevisionIndex(r *v1alpha1.RewardsProgramRevision) string { return r.Spec.Program }

// Programs resolves the rules in force of RewardsPrograms
// (rewards.ProgramStateOf): the spec's when it is valid, else those of the
// program's last valid RewardsProgramRevision. It remembers each
// program's state until the program (or, for a spec that is not valid,
// its last revision) changes: every reconcile of every kind asks for its
// program's rules, which change a few times a year. A state's Rules are
// shared by every caller: read only.
type Programs struct {
	reader client.Reader
	mu     sync.Mutex
	states map[string]rememberedState
}

// rememberedState is a program's state, and what it was resolved from.
type rememberedState struct {
	program, revision string
	state             rewards.ProgramState
}

// NewPrograms returns Programs reading from reader. A cache reader needs
// RevisionIndex.
func NewPrograms(reader client.Reader) *Programs {
	return &Programs{reader: reader, states: map[string]rememberedState{}}
}

// State resolves the program named name. A missing program is not an
// error: the state says so.
func (p *Programs) State(ctx context.Context, name string) (rewards.ProgramState, error) {
	// Read without a copy: every reconcile of every kind asks. (A cache
	// limited to namespaces honours that only when it is the operator's:
	// controller-runtime's multiNamespaceCache.Get drops the options of a
	// Get of a cluster-scoped object, and operator.ManagerOptions' cache
	// reads its store instead.)
	var prog v1alpha1.RewardsProgram
	if err := p.reader.Get(ctx, types.NamespacedName{Name: name}, &prog, client.UnsafeDisableDeepCopy); err != nil {
		if !apierrors.IsNotFound(err) {
			return rewards.ProgramState{}, fmt.Errorf("reading RewardsProgram %q: %w", name, err)
		}
		return rewards.ProgramStateOf(name, nil, nil), nil
	}
	// The uid and resourceVersion name one content of one object, so a
	// state remembered for them is prog's, whatever API server it came
	// from. A state without rules of the spec's own also depends on the
	// program's last revision.
	program := string(prog.UID) + "/" + prog.ResourceVersion
	kept, ok := p.remembered(name)
	known := ok && prog.ResourceVersion != "" && kept.program == program
	if known && kept.state.Problem == "" {
		return kept.state, nil
	}
	invalid := known // a known program with a problem
	if !known {
		_, problems := rewards.ResolveProgram(&prog.Spec)
		invalid = len(problems) > 0
	}
	var last *v1alpha1.RewardsProgramRevision
	revision := ""
	if invalid {
		revs, err := p.Revisions(ctx, name)
		if err != nil {
			return rewards.ProgramState{}, err
		}
		revision = versionsOf(revs)
		if known && kept.revision == revision {
			return kept.state, nil
		}
		last = rewards.LastRevision(name, revs)
	}
	state := rewards.ProgramStateOf(name, &prog, last)
	p.mu.Lock()
	p.states[name] = rememberedState{program: program, revision: revision, state: state}
	p.mu.Unlock()
	return state, nil
}

func (p *Programs) remembered(name string) (rememberedState, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	kept, ok := p.states[name]
	return kept, ok
}

// versionsOf names the contents of a list of revisions: their names and
// resourceVersions, in name order.
func versionsOf(revs []v1alpha1.RewardsProgramRevision) string {
	keys := make([]string, len(revs))
	for i := range revs {
		keys[i] = revs[i].Name + "@" + revs[i].ResourceVersion
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}

// Revisions lists the RewardsProgramRevisions of a program; from a cache
// they are the cache's own: only read them.
func (p *Programs) Revisions(ctx context.Context, program string) ([]v1alpha1.RewardsProgramRevision, error) {
	var list v1alpha1.RewardsProgramRevisionList
	if err := p.reader.List(ctx, &list, client.MatchingFields{FieldRevisionProgram: program}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing the RewardsProgramRevisions of %q: %w", program, err)
	}
	return list.Items, nil
}

// Recorded is what Programs.Record did.
type Recorded struct {
	// Revision names the revision holding the rules.
	Revision string
	// Number is its spec.revision.
	Number int64
	// Created and Renumbered say what was written, if anything.
	Created, Renumbered bool
}

// Record makes the revision holding prog's spec, which must be valid, the
// program's highest (rewards.NextRevision): creating it through writer, or
// renumbering it past the others when these rules come back. revs are the
// program's revisions as read (Revisions). A revision written meanwhile
// by another writer makes it fail with AlreadyExists or a conflict: read
// again and call it again.
func (p *Programs) Record(ctx context.Context, writer client.Writer, prog *v1alpha1.RewardsProgram,
	revs []v1alpha1.RewardsProgramRevision) (Recorded, error) {
	name, number, create := rewards.NextRevision(prog.Name, &prog.Spec, revs)
	out := Recorded{Revision: name, Number: number}
	if create {
		rev := &v1alpha1.RewardsProgramRevision{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{v1alpha1.LabelProgram: LabelValue(prog.Name)}},
			Spec: v1alpha1.RewardsProgramRevisionSpec{
				Program: prog.Name, Revision: number, ProgramGeneration: prog.Generation, Rules: *prog.Spec.DeepCopy(),
			},
		}
		if err := writer.Create(ctx, rev); err != nil {
			return out, fmt.Errorf("recording the rules of RewardsProgram %q in RewardsProgramRevision %s: %w", prog.Name, name, err)
		}
		out.Created = true
		return out, nil
	}
	var existing *v1alpha1.RewardsProgramRevision
	for i := range revs {
		if revs[i].Name == name {
			existing = &revs[i]
		}
	}
	if existing.Spec.Revision == number && existing.Spec.ProgramGeneration == prog.Generation {
		return out, nil
	}
	changed := existing.DeepCopy()
	changed.Spec.Revision, changed.Spec.ProgramGeneration = number, prog.Generation
	if err := writer.Patch(ctx, changed, client.MergeFromWithOptions(existing, client.MergeFromWithOptimisticLock{})); err != nil {
		return out, fmt.Errorf("renumbering RewardsProgramRevision %s of RewardsProgram %q: %w", name, prog.Name, err)
	}
	out.Renumbered = existing.Spec.Revision != number
	return out, nil
}
