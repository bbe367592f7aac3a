package gather

import (
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
)

// The fields related objects are listed by: field indexes of the same
// names in the operator's cache (Indexes), selectable fields of the CRDs
// on the API server, so that one List serves both readers.
const (
	// FieldOfferPublisher lists Offers by spec.publisherRef.name.
	FieldOfferPublisher = "spec.publisherRef.name"
	// FieldOfferRef lists SalesRecords and BenefitActivations by
	// spec.offerRef.name.
	FieldOfferRef = "spec.offerRef.name"
	// FieldPublisherProgram lists Publishers by the program they follow
	// (ProgramName); a cache index only, across namespaces.
	FieldPublisherProgram = "programName"
)

// Index is a field index the operator's cache holds.
type Index struct {
	Object  client.Object
	Field   string
	Extract func(client.Object) string
	// AcrossNamespaces: listed across namespaces (every publisher following
	// a program; a program's revisions, cluster-scoped). The others answer
	// lists within one namespace only.
	AcrossNamespaces bool
}

// Indexes are the field indexes a cache must hold for Relations, and the
// grants and program stores, to list from it.
func Indexes() []Index {
	indexes := make([]Index, 0, 5+len(records.GrantIndexes))
	indexes = append(indexes,
		Index{Object: &v1alpha1.Offer{}, Field: FieldOfferPublisher,
			Extract: func(o client.Object) string { return o.(*v1alpha1.Offer).Spec.PublisherRef.Name }},
		Index{Object: &v1alpha1.SalesRecord{}, Field: FieldOfferRef,
			Extract: func(o client.Object) string { return o.(*v1alpha1.SalesRecord).Spec.OfferRef.Name }},
		Index{Object: &v1alpha1.BenefitActivation{}, Field: FieldOfferRef,
			Extract: func(o client.Object) string { return o.(*v1alpha1.BenefitActivation).Spec.OfferRef.Name }},
		Index{Object: &v1alpha1.Publisher{}, Field: FieldPublisherProgram, AcrossNamespaces: true,
			Extract: func(o client.Object) string { return ProgramName(o.(*v1alpha1.Publisher)) }},
		Index{Object: &v1alpha1.RewardsProgramRevision{}, Field: records.FieldRevisionProgram, AcrossNamespaces: true,
			Extract: func(o client.Object) string { return records.RevisionIndex(o.(*v1alpha1.RewardsProgramRevision)) }},
	)
	for field, extract := range records.GrantIndexes {
		indexes = append(indexes, Index{Object: &v1alpha1.BenefitGrant{}, Field: field,
			Extract: func(o client.Object) string { return extract(o.(*v1alpha1.BenefitGrant)) }})
	}
	return indexes
}

// ProgramName is the RewardsProgram a publisher follows: spec.programRef,
// or "default".
func ProgramName(p *v1alpha1.Publisher) string {
	if p.Spec.ProgramRef != nil && p.Spec.ProgramRef.Name != "" {
		return p.Spec.ProgramRef.Name
	}
	return v1alpha1.DefaultProgramName
}
