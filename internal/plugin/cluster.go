package plugin

import (
	"context"
	"fmt"
	"sort"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
)

// loadProgram reads the named RewardsProgram and resolves the rules in
// force as the operator does (records.Programs): its spec when valid, else
// the rules of its last valid RewardsProgramRevision; default rules (no
// tier) when it is missing or was never valid.
func loadProgram(ctx context.Context, c client.Reader, name string) (rewards.ProgramState, error) {
	return records.NewPrograms(c).State(ctx, name)
}

// snapshot is the operator's objects of one namespace (or of all, for ""),
// listed once, with what belongs to each publisher.
type snapshot struct {
	publishers  []v1alpha1.Publisher
	offers      []v1alpha1.Offer
	records     []v1alpha1.SalesRecord
	activations []v1alpha1.BenefitActivation
}

// publisherObjects are a publisher's offers, their sales lines and their
// activations, as the operator relates them: offers by spec.publisherRef,
// lines and activations by spec.offerRef, all in the publisher's
// namespace.
type publisherObjects struct {
	publisher   *v1alpha1.Publisher
	offers      []v1alpha1.Offer
	records     []v1alpha1.SalesRecord
	activations []v1alpha1.BenefitActivation
}

func listSnapshot(ctx context.Context, c client.Reader, namespace string, withActivations bool) (*snapshot, error) {
	s := &snapshot{}
	var pubs v1alpha1.PublisherList
	var offers v1alpha1.OfferList
	var lines v1alpha1.SalesRecordList
	lists := []client.ObjectList{&pubs, &offers, &lines}
	var acts v1alpha1.BenefitActivationList
	if withActivations {
		lists = append(lists, &acts)
	}
	for _, l := range lists {
		if err := c.List(ctx, l, client.InNamespace(namespace)); err != nil {
			return nil, fmt.Errorf("listing %T: %w", l, err)
		}
	}
	s.publishers, s.offers, s.records, s.activations = pubs.Items, offers.Items, lines.Items, acts.Items
	sort.Slice(s.publishers, func(i, j int) bool {
		a, b := &s.publishers[i], &s.publishers[j]
		return a.Namespace < b.Namespace || (a.Namespace == b.Namespace && a.Name < b.Name)
	})
	return s, nil
}

// byPublisher groups the snapshot by publisher, in the order of
// s.publishers.
func (s *snapshot) byPublisher() []*publisherObjects {
	type key struct{ ns, name string }
	out := make([]*publisherObjects, len(s.publishers))
	pubs := make(map[key]*publisherObjects, len(s.publishers))
	for i := range s.publishers {
		p := &s.publishers[i]
		out[i] = &publisherObjects{publisher: p}
		pubs[key{p.Namespace, p.Name}] = out[i]
	}
	offerOwner := make(map[key]*publisherObjects, len(s.offers))
	for i := range s.offers {
		o := &s.offers[i]
		if po := pubs[key{o.Namespace, o.Spec.PublisherRef.Name}]; po != nil {
			po.offers = append(po.offers, *o)
			offerOwner[key{o.Namespace, o.Name}] = po
		}
	}
	for i := range s.records {
		r := &s.records[i]
		if po := offerOwner[key{r.Namespace, r.Spec.OfferRef.Name}]; po != nil {
			po.records = append(po.records, *r)
		}
	}
	for i := range s.activations {
		a := &s.activations[i]
		if po := offerOwner[key{a.Namespace, a.Spec.OfferRef.Name}]; po != nil {
			po.activations = append(po.activations, *a)
		}
	}
	return out
}
