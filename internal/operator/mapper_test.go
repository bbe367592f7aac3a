package operator

import (
	"net/http"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
)

// countingMapper counts the RESTMapping calls that reach it.
type countingMapper struct {
	meta.RESTMapper
	calls int
}

func (c *countingMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	c.calls++
	return c.RESTMapper.RESTMapping(gk, versions...)
}

func newCountingMapper() *countingMapper {
	gv := schema.GroupVersion{Group: "rewards.marketplace.io", Version: "v1alpha1"}
	m := meta.NewDefaultRESTMapper([]schema.GroupVersion{gv})
	m.Add(gv.WithKind("Offer"), meta.RESTScopeNamespace)
	m.Add(gv.WithKind("RewardsProgram"), meta.RESTScopeRoot)
	return &countingMapper{RESTMapper: m}
}

// A namespace-limited cache asks for the same mappings on every read: the
// memo answers them without asking its mapper again, with the mapper's
// answer, a copy for each caller.
func TestMappingMemoRemembersWhatItFound(t *testing.T) {
	under := newCountingMapper()
	memo := &mappingMemo{RESTMapper: under}
	offer := schema.GroupKind{Group: "rewards.marketplace.io", Kind: "Offer"}
	program := schema.GroupKind{Group: "rewards.marketplace.io", Kind: "RewardsProgram"}

	for range 3 {
		got, err := memo.RESTMapping(offer, "v1alpha1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Scope.Name() != meta.RESTScopeNameNamespace || got.Resource.Resource != "offers" {
			t.Fatalf("Offer mapped to %v, scope %s", got.Resource, got.Scope.Name())
		}
		got.Resource.Resource = "changed by a caller"
	}
	got, err := memo.RESTMapping(program, "v1alpha1")
	if err != nil || got.Scope.Name() != meta.RESTScopeNameRoot {
		t.Fatalf("RewardsProgram: %v, %v", got, err)
	}
	if under.calls != 2 {
		t.Errorf("the mapper was asked %d times for two kinds, want 2", under.calls)
	}
}

// What the mapper could not find is asked again (the dynamic mapper then
// looks for a kind installed since), and a lookup of several versions,
// which may pick another one later, is not remembered.
func TestMappingMemoAsksAgainForWhatItDidNotFind(t *testing.T) {
	under := newCountingMapper()
	memo := &mappingMemo{RESTMapper: under}
	missing := schema.GroupKind{Group: "rewards.marketplace.io", Kind: "Missing"}
	for range 2 {
		if _, err := memo.RESTMapping(missing, "v1alpha1"); !meta.IsNoMatchError(err) {
			t.Fatalf("missing kind: %v, want a no-match error", err)
		}
	}
	offer := schema.GroupKind{Group: "rewards.marketplace.io", Kind: "Offer"}
	for range 2 {
		if _, err := memo.RESTMapping(offer); err != nil {
			t.Fatal(err)
		}
	}
	if under.calls != 4 {
		t.Errorf("the mapper was asked %d times, want 4 (nothing remembered)", under.calls)
	}
}

// Shard remembers mappings unless the caller brings its own mapper; the
// whole cluster's options are left as they are.
func TestShardRemembersMappings(t *testing.T) {
	if opts := Shard(ctrl.Options{}, nil); opts.MapperProvider != nil {
		t.Error("the whole cluster's options got a mapper")
	}
	if opts := Shard(ctrl.Options{}, []string{"team-a"}); opts.MapperProvider == nil {
		t.Error("a shard's options have no mapper memo")
	}
	called := false
	own := ctrl.Options{}
	own.MapperProvider = func(_ *rest.Config, _ *http.Client) (meta.RESTMapper, error) {
		called = true
		return nil, nil
	}
	opts := Shard(own, []string{"team-a"})
	if _, err := opts.MapperProvider(nil, nil); err != nil || !called {
		t.Error("Shard replaced the caller's mapper")
	}
}
