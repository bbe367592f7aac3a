package records_test

import (
	"context"
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/gather"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// A namespace-limited cache ignores the options of a Get of a
// cluster-scoped object (Programs.State): State reads a program through
// the field indexes of the operator's cache (gather.Indexes), by a List,
// and resolves it from a reader whose every Get fails.
func TestProgramsStateReadsThroughTheCacheIndexes(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	gold := build.Program(build.ProgramName("gold"), build.Tiers(build.Tier(1, "0", "co-sell")),
		build.Catalog(build.Benefit("co-sell", v1alpha1.BenefitCategorySales, v1alpha1.ListingTypeTransact)))
	b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(gold)
	for _, idx := range gather.Indexes() {
		extract := idx.Extract
		b = b.WithIndex(idx.Object, idx.Field, func(o client.Object) []string { return []string{extract(o)} })
	}
	cache := b.Build()
	noGet := interceptor.NewClient(cache, interceptor.Funcs{
		Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
			return errors.New("no Get")
		},
	})
	for reader, c := range map[string]client.Reader{"cache": cache, "a reader whose Get fails": noGet} {
		p := records.NewPrograms(c)
		st, err := p.State(ctx, "gold")
		if err != nil {
			t.Fatalf("%s: %v", reader, err)
		}
		if st.Missing || st.Problem != "" || st.Name != "gold" || len(st.Rules.Tiers) != 1 {
			t.Errorf("%s: state of gold %+v, want its spec's rules in force", reader, st)
		}
		st, err = p.State(ctx, "silver")
		if err != nil {
			t.Fatalf("%s: %v", reader, err)
		}
		if !st.Missing {
			t.Errorf("%s: state of a missing program %+v, want missing", reader, st)
		}
	}
}
