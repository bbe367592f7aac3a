package records

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

func programClient(t *testing.T, objs ...client.Object) client.Client {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithIndex(&v1alpha1.RewardsProgramRevision{}, FieldRevisionProgram, func(o client.Object) []string {
			return []string{RevisionIndex(o.(*v1alpha1.RewardsProgramRevision))}
		}).Build()
}

func goldProgram() *v1alpha1.RewardsProgram {
	return build.Program(build.ProgramName("gold"), build.Tiers(build.Tier(1, "0", "co-sell")),
		build.Catalog(build.Benefit("co-sell", v1alpha1.BenefitCategorySales, v1alpha1.ListingTypeTransact)))
}

// programsFixture is a program in a fake client and the Programs that
// record and resolve it.
type programsFixture struct {
	t *testing.T
	c client.Client
	p *Programs
}

func newProgramsFixture(t *testing.T) *programsFixture {
	c := programClient(t, goldProgram())
	return &programsFixture{t: t, c: c, p: NewPrograms(c)}
}

func (f *programsFixture) program() *v1alpha1.RewardsProgram {
	f.t.Helper()
	var prog v1alpha1.RewardsProgram
	if err := f.c.Get(context.Background(), types.NamespacedName{Name: "gold"}, &prog); err != nil {
		f.t.Fatal(err)
	}
	return &prog
}

// edit changes the program's spec.
func (f *programsFixture) edit(mutate func(*v1alpha1.RewardsProgramSpec)) {
	f.t.Helper()
	prog := f.program()
	mutate(&prog.Spec)
	if err := f.c.Update(context.Background(), prog); err != nil {
		f.t.Fatal(err)
	}
}

// record records the program's spec as its controller does.
func (f *programsFixture) record() Recorded {
	f.t.Helper()
	revs, err := f.p.Revisions(context.Background(), "gold")
	if err != nil {
		f.t.Fatal(err)
	}
	rec, err := f.p.Record(context.Background(), f.c, f.program(), revs)
	if err != nil {
		f.t.Fatal(err)
	}
	return rec
}

// Program safety through the record: the program's valid rules are
// recorded in a revision; when its spec stops being valid (its status
// wiped or not), the revision's rules stay in force; when it comes back to
// earlier rules, their revision is renumbered past the others.
func TestProgramsRecordAndState(t *testing.T) {
	f := newProgramsFixture(t)
	firstName := rewards.RevisionName("gold", &f.program().Spec)
	f.expect("first valid spec", f.record(), Recorded{Revision: firstName, Number: 1, Created: true})
	f.expect("the same spec again", f.record(), Recorded{Revision: firstName, Number: 1})
	f.edit(func(s *v1alpha1.RewardsProgramSpec) { s.Description = "second rules" })
	secondName := rewards.RevisionName("gold", &f.program().Spec)
	f.expect("other valid rules", f.record(), Recorded{Revision: secondName, Number: 2, Created: true})

	// Made invalid: a tier names a benefit missing from the catalog.
	f.edit(func(s *v1alpha1.RewardsProgramSpec) {
		s.Tiers[0].Benefits = append(s.Tiers[0].Benefits, "no-such-benefit")
	})
	st, err := f.p.State(context.Background(), "gold")
	if err != nil {
		t.Fatal(err)
	}
	if st.Problem == "" || st.Revision != secondName {
		t.Errorf("invalid spec: state %+v, want the second revision's rules in force", st)
	}

	// Back to the first rules: their revision is renumbered past the
	// second, and is the one in force.
	f.edit(func(s *v1alpha1.RewardsProgramSpec) { *s = goldProgram().Spec })
	f.expect("the first rules again", f.record(), Recorded{Revision: firstName, Number: 3, Renumbered: true})
	revs, _ := f.p.Revisions(context.Background(), "gold")
	if last := rewards.LastRevision("gold", revs); last == nil || last.Name != firstName {
		t.Errorf("last revision %v, want the first rules'", last)
	}
}

func (f *programsFixture) expect(step string, got, want Recorded) {
	f.t.Helper()
	if got != want {
		f.t.Errorf("%s: recorded %+v, want %+v", step, got, want)
	}
}

// A program's rules are resolved once per content of the program: the same
// uid and resourceVersion give the state resolved before; an edit or a
// program created again resolve it as it is now.
func TestProgramsResolveEachContentOnce(t *testing.T) {
	ctx := context.Background()
	c := programClient(t, goldProgram())
	p := NewPrograms(c)
	first, err := p.State(ctx, "gold")
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := p.State(ctx, "gold"); again.Rules != first.Rules {
		t.Errorf("the same program resolved again")
	}
	var prog v1alpha1.RewardsProgram
	if err := c.Get(ctx, types.NamespacedName{Name: "gold"}, &prog); err != nil {
		t.Fatal(err)
	}
	prog.Spec.Currency = "EUR"
	if err := c.Update(ctx, &prog); err != nil {
		t.Fatal(err)
	}
	if got, _ := p.State(ctx, "gold"); got.Rules == first.Rules || got.Rules.Currency != "EUR" {
		t.Errorf("after an edit: currency %s, want the edited program's (EUR)", got.Rules.Currency)
	}
	if err := c.Delete(ctx, &prog); err != nil {
		t.Fatal(err)
	}
	if got, _ := p.State(ctx, "gold"); !got.Missing {
		t.Errorf("a deleted program is not missing: %+v", got)
	}
}
