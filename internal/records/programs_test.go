package records

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
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
	return &v1alpha1.RewardsProgram{
		ObjectMeta: metav1.ObjectMeta{Name: "gold"},
		Spec: v1alpha1.RewardsProgramSpec{
			Tiers: []v1alpha1.Tier{{Level: 1, MinBilledSales: "0", Benefits: []string{"co-sell"}}},
			Benefits: []v1alpha1.Benefit{{Name: "co-sell", Category: v1alpha1.BenefitCategorySales,
				ListingTypes: []v1alpha1.ListingType{v1alpha1.ListingTypeTransact}}},
		},
	}
}

// Program safety through the record: the program's valid rules are
// recorded in a revision; when its spec stops being valid (its status
// wiped or not), the revision's rules stay in force; when it comes back to
// earlier rules, their revision is renumbered past the others.
func TestProgramsRecordAndState(t *testing.T) {
	ctx := context.Background()
	c := programClient(t, goldProgram())
	p := NewPrograms(c)
	var prog v1alpha1.RewardsProgram
	get := func() *v1alpha1.RewardsProgram {
		t.Helper()
		if err := c.Get(ctx, types.NamespacedName{Name: "gold"}, &prog); err != nil {
			t.Fatal(err)
		}
		return &prog
	}
	record := func(step string) Recorded {
		t.Helper()
		revs, err := p.Revisions(ctx, "gold")
		if err != nil {
			t.Fatal(err)
		}
		rec, err := p.Record(ctx, c, get(), revs)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return rec
	}
	first := record("first valid spec")
	if !first.Created || first.Number != 1 || first.Revision != rewards.RevisionName("gold", &prog.Spec) {
		t.Errorf("first valid spec recorded as %+v", first)
	}
	if again := record("same spec"); again.Created || again.Renumbered {
		t.Errorf("the same spec recorded again: %+v", again)
	}

	edited := get().DeepCopy()
	edited.Spec.Description = "second rules"
	if err := c.Update(ctx, edited); err != nil {
		t.Fatal(err)
	}
	if second := record("edited spec"); !second.Created || second.Number != 2 {
		t.Errorf("other valid rules recorded as %+v, want revision 2 created", second)
	}

	// Made invalid: a tier names a benefit missing from the catalog.
	broken := get().DeepCopy()
	broken.Spec.Tiers[0].Benefits = append(broken.Spec.Tiers[0].Benefits, "no-such-benefit")
	if err := c.Update(ctx, broken); err != nil {
		t.Fatal(err)
	}
	st, err := p.State(ctx, "gold")
	if err != nil {
		t.Fatal(err)
	}
	if st.Problem == "" || !st.InForce() || st.Rules.Catalog["co-sell"].Name == "" || st.Revision == first.Revision {
		t.Errorf("invalid spec: state %+v, want the second revision's rules in force", st)
	}

	// Back to the first rules: their revision is renumbered past the
	// second, and is the one in force.
	back := get().DeepCopy()
	back.Spec = goldProgram().Spec
	if err := c.Update(ctx, back); err != nil {
		t.Fatal(err)
	}
	if rec := record("first rules again"); rec.Created || !rec.Renumbered || rec.Number != 3 || rec.Revision != first.Revision {
		t.Errorf("the first rules coming back recorded as %+v, want their revision renumbered 3", rec)
	}
	revs, _ := p.Revisions(ctx, "gold")
	if last := rewards.LastRevision("gold", revs); last == nil || last.Name != first.Revision {
		t.Errorf("last revision %v, want the first rules'", last)
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
