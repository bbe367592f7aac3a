// Package gather reads what the program's decisions depend on: for an
// activation, its grant, offer, siblings, publisher, program and sales
// facts; for a publisher, its program, sales facts and grants (cert-manager's
// policies.Gatherer is the model). One Gatherer serves the reconcile (over
// the operator's cache), the B3 check before a one-time grant (over the API
// server) and `kubectl rewards explain` (over the API server), so that the
// operator and the plugin decide on the same inputs. What is decided is
// internal/rewards'; what is kept forever, internal/records'.
package gather

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
)

// Gatherer reads decisions' inputs from one reader.
type Gatherer struct {
	// Reader is the operator's cache (with Indexes) or an API client.
	Reader client.Reader
	// Programs resolves the rules in force; Grants reads the record. Both
	// read from Reader.
	Programs *records.Programs
	Grants   records.Grants
	// Sales, if set, shares each publisher's sales facts between the
	// reconciles that need them; nil computes them from the lines each
	// time.
	Sales *SalesMemo
	// Lost, if set, returns the grant of an activation's name that is being
	// written again after the garbage collector deleted it (nil when none):
	// until it is back, it is still the record of that name.
	Lost func(types.NamespacedName) *v1alpha1.BenefitGrant
}

// Activation gathers what an activation's decision depends on, at now.
func (g Gatherer) Activation(ctx context.Context, act *v1alpha1.BenefitActivation, now time.Time) (rewards.ActivationInput, error) {
	in := rewards.ActivationInput{Activation: act, Now: now}
	if err := g.grantOf(ctx, act, &in); err != nil {
		return in, err
	}
	rel := Relations{g.Reader}
	offer, err := rel.Offer(ctx, act.Namespace, act.Spec.OfferRef.Name)
	if err != nil || offer == nil {
		return in, err
	}
	in.Offer = offer
	if in.Siblings, in.SiblingGrants, err = g.oneTimeInputs(ctx, act, offer); err != nil {
		return in, err
	}
	pub, prog, err := rel.PublisherAndProgram(ctx, g.Programs, act.Namespace, offer.Spec.PublisherRef.Name)
	if err != nil || pub == nil {
		return in, err
	}
	in.Publisher, in.Program = pub, prog
	_, _, in.Sales, err = g.Sales.Facts(client.ObjectKeyFromObject(pub), prog, now, rel.SalesInputs(ctx, pub.Namespace, pub.Name))
	return in, err
}

// OneTimeUse returns in with what B3 decides on read again through g: the
// activation's own grant, its siblings and the grants of its offer. The
// rest of the input stays as it was gathered: reading it again would not
// make a one-time grant any safer. in.Offer is not nil.
func (g Gatherer) OneTimeUse(ctx context.Context, act *v1alpha1.BenefitActivation, in rewards.ActivationInput) (rewards.ActivationInput, error) {
	if err := g.grantOf(ctx, act, &in); err != nil {
		return in, err
	}
	var err error
	in.Siblings, in.SiblingGrants, err = g.oneTimeInputs(ctx, act, in.Offer)
	return in, err
}

// grantOf reads the activation's grant, or the grant that holds its name
// (R7), into in.
func (g Gatherer) grantOf(ctx context.Context, act *v1alpha1.BenefitActivation, in *rewards.ActivationInput) error {
	found, err := g.Grants.Of(ctx, act)
	if err != nil {
		return err
	}
	if found.Grant == nil && found.NameHeldBy == nil && g.Lost != nil {
		if lost := g.Lost(client.ObjectKeyFromObject(act)); lost != nil {
			found = records.Lookup{Grant: lost}
			if !records.Belongs(lost, act) {
				found = records.Lookup{NameHeldBy: lost}
			}
		}
	}
	in.Grant, in.NameHeldBy = found.Grant, found.NameHeldBy
	return nil
}

// oneTimeInputs reads what B3 decides on (records.OneTimeInputs): the
// activations of the offer and its grants. A Transact offer's benefits are
// not one-time: only its activations are read.
func (g Gatherer) oneTimeInputs(ctx context.Context, act *v1alpha1.BenefitActivation,
	offer *v1alpha1.Offer) ([]v1alpha1.BenefitActivation, []v1alpha1.BenefitGrant, error) {
	acts, err := Relations{g.Reader}.ActivationsOfOffer(ctx, act.Namespace, offer.Name)
	if err != nil || offer.Spec.ListingType == v1alpha1.ListingTypeTransact {
		return acts, nil, err
	}
	ofOffer, err := g.Grants.OfOffer(ctx, act.Namespace, offer.Name)
	if err != nil {
		return nil, nil, err
	}
	return records.OneTimeInputs(ctx, g.Grants, act, acts, ofOffer)
}

// PublisherInput is what a publisher's status depends on.
type PublisherInput struct {
	Program rewards.ProgramState
	Tier    rewards.TierResult
	Detail  rewards.TierDetail
	// Grants are every grant of the publisher, whether its activation still
	// exists or not (R8): its revocation history.
	Grants []v1alpha1.BenefitGrant
}

// Publisher gathers what a publisher's status depends on, at now.
func (g Gatherer) Publisher(ctx context.Context, pub *v1alpha1.Publisher, now time.Time) (PublisherInput, error) {
	var in PublisherInput
	var err error
	if in.Program, err = g.Programs.State(ctx, ProgramName(pub)); err != nil {
		return in, err
	}
	rel := Relations{g.Reader}
	if in.Tier, in.Detail, _, err = g.Sales.Facts(client.ObjectKeyFromObject(pub), in.Program, now, rel.SalesInputs(ctx, pub.Namespace, pub.Name)); err != nil {
		return in, err
	}
	in.Grants, err = g.Grants.OfPublisher(ctx, pub.Namespace, pub.Name)
	return in, err
}
