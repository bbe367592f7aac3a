//go:build scale

package scale

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// The dataset, per ordinary publisher: 5 offers (two Transact, one List,
// one Trial, one Consulting), 60 sales lines on its Transact offers and 2
// activations (one Transact benefit, one one-time benefit). Plus the big
// publisher, in a namespace of its own: bigOffers Transact offers sharing
// -big-records sales lines, and two activations per offer.
const (
	offersPerPublisher      = 5
	recordsPerPublisher     = 60
	activationsPerPublisher = 2
	bigOffers               = 20
	bigNamespace            = "scale-big"
	bigPublisher            = "big"
)

// Benefits of build.Program(): the Transact ones by tier (Tier 1 to 5)
// and the one-time one of List, Trial and Consulting offers.
var (
	transactBenefits = []string{"listing-badge", "case-study", "campaign", "event-showcase", "joint-gtm"}
	oneTimeBenefit   = "presales-consult"
	// tier5Benefit needs 5,000,000 USD, which no publisher here reaches:
	// its activations stay Pending without a grant (the expiry measure
	// gives them one).
	tier5Benefit = "joint-gtm"
)

type dataset struct {
	program    string
	namespaces []string
	publishers int
	// now is when the dataset was made; offers went live a week before,
	// so nothing changes by itself for weeks (no time-based writes).
	now time.Time
}

func (d *dataset) namespaceOf(i int) string { return d.namespaces[i%len(d.namespaces)] }
func publisherName(i int) string            { return fmt.Sprintf("pub-%05d", i) }
func offerName(i, j int) string             { return fmt.Sprintf("pub-%05d-offer-%d", i, j) }
func bigOfferName(j int) string             { return fmt.Sprintf("big-offer-%02d", j) }

// objects returns the dataset's objects in the order they are created:
// what others refer to first.
func (d *dataset) objects(bigRecords int, rng *rand.Rand) [][]client.Object {
	liveAt := d.now.Add(-7 * 24 * time.Hour)
	billed := func() time.Time { return d.now.Add(-time.Duration(1+rng.IntN(300)) * 24 * time.Hour) }
	var pubs, offers, records, acts []client.Object
	listing := []v1alpha1.ListingType{v1alpha1.ListingTypeTransact, v1alpha1.ListingTypeTransact,
		v1alpha1.ListingTypeList, v1alpha1.ListingTypeTrial, v1alpha1.ListingTypeConsulting}
	for i := range d.publishers {
		ns := d.namespaceOf(i)
		pubs = append(pubs, build.Publisher(ns, publisherName(i), build.Following(d.program), build.WithContact()))
		for j := range offersPerPublisher {
			offers = append(offers, build.Offer(ns, offerName(i, j), publisherName(i), listing[j], liveAt))
		}
		for k := range recordsPerPublisher {
			// 100 to 4,000 USD a line: 60 lines reach Tier 2 or 3. One line
			// in twenty is in EUR, which the program has no rate for: not
			// counted (S2), a reason shown.
			currency := v1alpha1.CurrencyCode("USD")
			if k%20 == 19 {
				currency = "EUR"
			}
			amount := fmt.Sprint(100 + rng.IntN(3901))
			records = append(records, build.SalesRecord(ns, fmt.Sprintf("pub-%05d-line-%03d", i, k), offerName(i, k%2), amount, currency, billed()))
		}
		// Tier 1 to 4 benefits in turn: those above the tier reached stay
		// Pending (TierNotReached).
		acts = append(acts,
			build.Activation(ns, fmt.Sprintf("pub-%05d-transact", i), offerName(i, 0), transactBenefits[i%4]),
			build.Activation(ns, fmt.Sprintf("pub-%05d-onetime", i), offerName(i, 2+i%3), oneTimeBenefit))
	}
	if bigRecords > 0 {
		pubs = append(pubs, build.Publisher(bigNamespace, bigPublisher, build.Following(d.program), build.WithContact()))
		for j := range bigOffers {
			offers = append(offers, build.Offer(bigNamespace, bigOfferName(j), bigPublisher, v1alpha1.ListingTypeTransact, liveAt))
			for k := range 2 {
				acts = append(acts, build.Activation(bigNamespace, fmt.Sprintf("big-act-%02d-%d", j, k), bigOfferName(j), transactBenefits[(2*j+k)%5]))
			}
		}
		// 100 to 200 USD a line: 10,000 lines reach Tier 4, not Tier 5.
		for k := range bigRecords {
			amount := fmt.Sprint(100 + rng.IntN(101))
			records = append(records, build.SalesRecord(bigNamespace, fmt.Sprintf("big-line-%05d", k), bigOfferName(k%bigOffers), amount, "USD", billed()))
		}
	}
	return [][]client.Object{pubs, offers, records, acts}
}

// create creates the program, the namespaces and the dataset, each group
// with parallel goroutines, each group after the one before.
func (d *dataset) create(ctx context.Context, c client.Client, bigRecords int, parallel int) error {
	prog := build.Program()
	prog.Name = d.program
	nss := make([]client.Object, 0, len(d.namespaces)+1)
	for _, ns := range append(slices.Clone(d.namespaces), bigNamespace) {
		nss = append(nss, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	groups := append([][]client.Object{{prog}, nss}, d.objects(bigRecords, rand.New(rand.NewPCG(1, 2)))...)
	for _, g := range groups {
		if err := createAll(ctx, c, g, parallel); err != nil {
			return err
		}
	}
	return nil
}

// createAll creates objs with parallel goroutines and returns the first
// error.
func createAll(ctx context.Context, c client.Client, objs []client.Object, parallel int) error {
	return forAll(ctx, objs, parallel, func(o client.Object) error {
		if err := c.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %T %s/%s: %w", o, o.GetNamespace(), o.GetName(), err)
		}
		return nil
	})
}

// forAll runs f on every item with parallel goroutines and returns the
// first error.
func forAll[T any](ctx context.Context, items []T, parallel int, f func(T) error) error {
	ch := make(chan T)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range parallel {
		wg.Go(func() {
			for it := range ch {
				if err := f(it); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		})
	}
loop:
	for _, it := range items {
		select {
		case ch <- it:
		case <-ctx.Done():
			break loop
		}
	}
	close(ch)
	wg.Wait()
	return first
}
