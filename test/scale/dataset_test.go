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
	bigPublisher            = "big"
	// programName is the program every copy's publishers take part in:
	// the operator's, cluster-scoped (the floor leaves it alone).
	programName = "scale"
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

// dataset is one copy of the benchmark's objects, in namespaces of its
// own: the operator and the floor each converge a copy, at the same time.
// Copies made with the same arguments hold the same objects (names,
// amounts, instants), in other namespaces.
type dataset struct {
	program    string
	namespaces []string // the ordinary publishers'
	big        string   // the big publisher's namespace
	publishers int
	bigRecords int
	// now is when the dataset was made; offers went live a week before,
	// so nothing changes by itself for weeks (no time-based writes).
	now time.Time
}

// newDataset names a copy's namespaces after prefix: prefix-00,
// prefix-01... for the ordinary publishers and prefix-big for the big one.
func newDataset(prefix string, publishers, namespaces, bigRecords int, now time.Time) *dataset {
	d := &dataset{program: programName, big: prefix + "-big", publishers: publishers, bigRecords: bigRecords, now: now}
	for i := range max(1, namespaces) {
		d.namespaces = append(d.namespaces, fmt.Sprintf("%s-%02d", prefix, i))
	}
	return d
}

// allNamespaces are the copy's namespaces, the big publisher's included.
func (d *dataset) allNamespaces() []string { return append(slices.Clone(d.namespaces), d.big) }

// owns says whether an object of namespace ns belongs to this copy.
func (d *dataset) owns(ns string) bool { return slices.Contains(d.namespaces, ns) || ns == d.big }

func (d *dataset) namespaceOf(i int) string { return d.namespaces[i%len(d.namespaces)] }
func publisherName(i int) string            { return fmt.Sprintf("pub-%05d", i) }
func offerName(i, j int) string             { return fmt.Sprintf("pub-%05d-offer-%d", i, j) }
func bigOfferName(j int) string             { return fmt.Sprintf("big-offer-%02d", j) }

// objects returns the dataset's objects in the order they are created:
// what others refer to first.
func (d *dataset) objects(rng *rand.Rand) [][]client.Object {
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
	if d.bigRecords > 0 {
		pubs = append(pubs, build.Publisher(d.big, bigPublisher, build.Following(d.program), build.WithContact()))
		for j := range bigOffers {
			offers = append(offers, build.Offer(d.big, bigOfferName(j), bigPublisher, v1alpha1.ListingTypeTransact, liveAt))
			for k := range 2 {
				acts = append(acts, build.Activation(d.big, fmt.Sprintf("big-act-%02d-%d", j, k), bigOfferName(j), transactBenefits[(2*j+k)%5]))
			}
		}
		// 100 to 200 USD a line: 10,000 lines reach Tier 4, not Tier 5.
		for k := range d.bigRecords {
			amount := fmt.Sprint(100 + rng.IntN(101))
			records = append(records, build.SalesRecord(d.big, fmt.Sprintf("big-line-%05d", k), bigOfferName(k%bigOffers), amount, "USD", billed()))
		}
	}
	return [][]client.Object{pubs, offers, records, acts}
}

// create creates the namespaces and the dataset (not the program, which
// every copy shares), each group with parallel goroutines, each group
// after the one before. The same seed every time: every copy gets the same
// amounts and instants.
func (d *dataset) create(ctx context.Context, c client.Client, parallel int) error {
	nss := make([]client.Object, 0, len(d.namespaces)+1)
	for _, ns := range d.allNamespaces() {
		nss = append(nss, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	groups := append([][]client.Object{nss}, d.objects(datasetRand())...)
	for _, g := range groups {
		if err := createAll(ctx, c, g, parallel); err != nil {
			return err
		}
	}
	return nil
}

// datasetRand is the random source every copy of the dataset is made
// with.
func datasetRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

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
