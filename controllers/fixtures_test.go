package controllers_test

import (
	"context"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
)

var bg = context.Background()

func create(objs ...client.Object) {
	ExpectWithOffset(1, testenv.Create(bg, k8sClient, objs...)).To(Succeed())
}

// update re-reads obj, applies mutate and writes it, retrying on conflicts.
func update[T client.Object](obj T, mutate func(T)) {
	ExpectWithOffset(1, testenv.UpdateWithRetry(bg, k8sClient, obj, mutate)).To(Succeed())
}

// fetch returns a function reading obj fresh from the API server, for use
// in Eventually. It reads into obj itself, on purpose: after an Eventually
// on fetch(obj), obj holds the state the assertion accepted, which the
// specs go on to read. Use a copy to keep an earlier state.
func fetch[T client.Object](obj T) func() T {
	return func() T {
		ExpectWithOffset(1, k8sClient.Get(bg, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		return obj
	}
}

// grantOf returns a function reading an activation's BenefitGrant fresh
// from the API server; nil when it has none.
func grantOf(a *v1alpha1.BenefitActivation) func() *v1alpha1.BenefitGrant {
	return func() *v1alpha1.BenefitGrant {
		var g v1alpha1.BenefitGrant
		err := k8sClient.Get(bg, client.ObjectKeyFromObject(a), &g)
		if apierrors.IsNotFound(err) {
			return nil
		}
		ExpectWithOffset(1, err).NotTo(HaveOccurred())
		return &g
	}
}

// readyCondition returns the Ready condition of a status' conditions.
func readyCondition(conds []metav1.Condition) *metav1.Condition {
	return meta.FindStatusCondition(conds, v1alpha1.ConditionReady)
}

func publisherTier(p *v1alpha1.Publisher) func() int32 {
	return func() int32 { return fetch(p)().Status.Tier }
}

func publisherSales(p *v1alpha1.Publisher) func() v1alpha1.DerivedMoney {
	return func() v1alpha1.DerivedMoney { return fetch(p)().Status.BilledSales }
}

func readyReasonOf(conds func() []metav1.Condition) func() string {
	return func() string {
		c := readyCondition(conds())
		if c == nil {
			return ""
		}
		return c.Reason
	}
}
