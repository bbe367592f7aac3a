package controllers

import (
	"context"
	"slices"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// keysFromStores stands for the operator's cache (operator.ManagerOptions),
// which lists keys from its informers' stores: here a fixed answer.
type keysFromStores struct {
	client.Reader
	keys []string
	ok   bool
}

func (k keysFromStores) CachedKeys(client.Object) ([]string, bool) { return k.keys, k.ok }

// The resync sweeps list the keys of a kind from the operator's cache when
// it can, and from any other cache (a manager built without
// operator.ManagerOptions) by listing its objects.
func TestCachedKeysFromAnyCache(t *testing.T) {
	ctx := context.Background()
	scheme, program, publisher, offer := trialFixtures(t, time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC))
	other := publisher.DeepCopy()
	other.Namespace, other.Name, other.ResourceVersion = "elsewhere", "fabrikam", ""
	c := fakeCache(scheme, program, publisher, other, offer).Build()
	listed := func(r client.Reader, obj client.Object, list client.ObjectList) []string {
		t.Helper()
		keys, err := cachedKeys(r, obj, list)(ctx)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(keys)
		return keys
	}

	if got, want := listed(c, &v1alpha1.Publisher{}, &v1alpha1.PublisherList{}), []string{"elsewhere/fabrikam", publisher.Namespace + "/" + publisher.Name}; !slices.Equal(got, want) {
		t.Errorf("publishers' keys from a plain cache: %v, want %v", got, want)
	}
	if got, want := listed(c, &v1alpha1.RewardsProgram{}, &v1alpha1.RewardsProgramList{}), []string{program.Name}; !slices.Equal(got, want) {
		t.Errorf("programs' keys from a plain cache: %v, want %v (cluster-scoped: the name alone)", got, want)
	}
	stores := keysFromStores{Reader: c, keys: []string{"ns/from-the-stores"}, ok: true}
	if got := listed(stores, &v1alpha1.Publisher{}, &v1alpha1.PublisherList{}); !slices.Equal(got, stores.keys) {
		t.Errorf("keys from the operator's cache: %v, want its stores' %v", got, stores.keys)
	}
	stores.ok = false // no informer of the kind yet
	if got := listed(stores, &v1alpha1.Offer{}, &v1alpha1.OfferList{}); !slices.Equal(got, []string{offer.Namespace + "/" + offer.Name}) {
		t.Errorf("offers' keys from a cache without their informer: %v, want the listed offer", got)
	}
}
