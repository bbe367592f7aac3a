// Package metrics exports the state of the rewards program as Prometheus
// metrics. A single collector reads Publishers and BenefitActivations from
// the manager's informer cache at scrape time and turns them into constant
// metrics, the way kube-state-metrics and cert-manager's certificate
// collector do: nothing is kept in memory between scrapes, so a deleted
// object's series disappears at the next scrape and no reconciler has to
// maintain gauges.
package metrics

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// Metric names.
const (
	PublishersName           = "rewards_publishers"
	PublisherBilledSalesName = "rewards_publisher_billed_sales"
	PublisherTierName        = "rewards_publisher_tier"
	BenefitActivationsName   = "rewards_benefit_activations"
	ActivationExpiryName     = "rewards_benefit_activation_expiry_timestamp_seconds"
	PublisherNextExpiryName  = "rewards_publisher_next_expiry_timestamp_seconds"
	ActivationContactDueName = "rewards_benefit_activation_contact_due_timestamp_seconds"
	RevocationsName          = "rewards_revocations"
)

// readOnly lists the cache's objects without copying each one: a scrape
// only reads them, and copying every publisher and activation at every
// scrape was most of its cost.
var readOnly = client.UnsafeDisableDeepCopy

// collectTimeout bounds the cache reads of one scrape.
const collectTimeout = 10 * time.Second

// Label names shared by several metrics (and the collector's log keys).
const (
	namespaceLabel = "namespace"
	publisherLabel = "publisher"
)

var (
	publishersDesc = prometheus.NewDesc(PublishersName,
		"Number of Publishers per tier reached (status.tier; 0 means no tier).",
		[]string{namespaceLabel, "tier"}, nil)
	publisherBilledSalesDesc = prometheus.NewDesc(PublisherBilledSalesName,
		"Billed sales counted towards the publisher's tier (status.billedSales), in status.currency.",
		[]string{namespaceLabel, publisherLabel, "currency"}, nil)
	publisherTierDesc = prometheus.NewDesc(PublisherTierName,
		"Tier reached by the publisher (status.tier; 0 means no tier).",
		[]string{namespaceLabel, publisherLabel}, nil)
	benefitActivationsDesc = prometheus.NewDesc(BenefitActivationsName,
		"Number of BenefitActivations per phase (Pending, Active, Expired, Revoked, OptedOut).",
		[]string{namespaceLabel, "phase"}, nil)
	activationExpiryDesc = prometheus.NewDesc(ActivationExpiryName,
		"When an Active BenefitActivation expires (status.expiresAt), as a Unix timestamp in seconds.",
		[]string{namespaceLabel, "activation", "offer", "benefit"}, nil)
	publisherNextExpiryDesc = prometheus.NewDesc(PublisherNextExpiryName,
		"Earliest status.expiresAt among the publisher's Active BenefitActivations, as a Unix timestamp in seconds.",
		[]string{namespaceLabel, publisherLabel}, nil)
	activationContactDueDesc = prometheus.NewDesc(ActivationContactDueName,
		"When the marketing contact of an Active BenefitActivation must have been contacted (status.contactDueBy), "+
			"as a Unix timestamp in seconds; absent once spec.contactedAt records the contact.",
		[]string{namespaceLabel, "activation", "offer", "benefit"}, nil)
	revocationsDesc = prometheus.NewDesc(RevocationsName,
		"Number of revocations recorded in BenefitGrants per revocation reason (spec.revocation.reason).",
		[]string{namespaceLabel, "reason"}, nil)
)

// activationPhases are the phases always exported for a namespace that
// holds any activation, zero when none is in that phase.
var activationPhases = []v1alpha1.ActivationPhase{
	v1alpha1.ActivationPending,
	v1alpha1.ActivationActive,
	v1alpha1.ActivationExpired,
	v1alpha1.ActivationRevoked,
	v1alpha1.ActivationOptedOut,
}

// revocationReasons are the reasons always exported for a namespace that
// holds any activation, zero when no activation was revoked for it.
var revocationReasons = []v1alpha1.RevocationReason{
	v1alpha1.RevocationViolation,
	v1alpha1.RevocationOfferDelisted,
	v1alpha1.RevocationFraud,
	v1alpha1.RevocationCancellation,
}

// Collector is a prometheus.Collector that computes the rewards metrics
// from a client.Reader at each scrape. Give it the manager's cache (or its
// cache-backed client): a scrape then costs no API request.
type Collector struct {
	reader  client.Reader
	timeout time.Duration
	log     logr.Logger
}

var _ prometheus.Collector = &Collector{}

// NewCollector returns a collector that lists objects from reader.
func NewCollector(reader client.Reader) *Collector {
	return &Collector{
		reader:  reader,
		timeout: collectTimeout,
		log:     logf.Log.WithName("metrics-collector"),
	}
}

// Describe sends the descriptors of every metric the collector exports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		publishersDesc, publisherBilledSalesDesc, publisherTierDesc,
		benefitActivationsDesc, activationExpiryDesc, publisherNextExpiryDesc,
		activationContactDueDesc, revocationsDesc,
	} {
		ch <- d
	}
}

// Collect lists Publishers and BenefitActivations and sends their metrics.
// A failed list is logged and its metrics are left out of this scrape; it
// never fails the scrape (controller-runtime's handler would then drop every
// other metric too) and never panics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()

	var publishers v1alpha1.PublisherList
	if err := c.reader.List(ctx, &publishers, readOnly); err != nil {
		c.log.Error(err, "listing Publishers for metrics; publisher metrics left out of this scrape")
	} else {
		c.collectPublishers(ch, publishers.Items)
	}

	var activations v1alpha1.BenefitActivationList
	if err := c.reader.List(ctx, &activations, readOnly); err != nil {
		c.log.Error(err, "listing BenefitActivations for metrics; activation metrics left out of this scrape")
		return
	}
	var grants v1alpha1.BenefitGrantList
	if err := c.reader.List(ctx, &grants, readOnly); err != nil {
		c.log.Error(err, "listing BenefitGrants for metrics; revocation metrics left out of this scrape")
		grants.Items = nil
	}
	c.collectActivations(ch, activations.Items, grants.Items)
}

type nsKey struct{ namespace, value string }

func (c *Collector) collectPublishers(ch chan<- prometheus.Metric, publishers []v1alpha1.Publisher) {
	perTier := map[nsKey]int{}
	for i := range publishers {
		p := &publishers[i]
		tier := strconv.Itoa(int(p.Status.Tier))
		perTier[nsKey{p.Namespace, tier}]++
		c.send(ch, publisherTierDesc, float64(p.Status.Tier), p.Namespace, p.Name)

		// Absent until the operator has computed the publisher's sales.
		if p.Status.BilledSales == "" {
			continue
		}
		sales, err := strconv.ParseFloat(string(p.Status.BilledSales), 64)
		if err != nil {
			c.log.Error(err, "status.billedSales is not a number", namespaceLabel, p.Namespace, publisherLabel, p.Name,
				"billedSales", p.Status.BilledSales)
			continue
		}
		c.send(ch, publisherBilledSalesDesc, sales, p.Namespace, p.Name, string(p.Status.Currency))
	}
	for k, n := range perTier {
		c.send(ch, publishersDesc, float64(n), k.namespace, k.value)
	}
}

// collectActivations exports the activations' phases and expiries, and the
// revocations recorded in grants: the record, not status, is what counts.
func (c *Collector) collectActivations(ch chan<- prometheus.Metric, activations []v1alpha1.BenefitActivation, grants []v1alpha1.BenefitGrant) {
	perPhase := map[nsKey]int{}
	perReason := map[nsKey]int{}
	nextExpiry := map[nsKey]time.Time{} // by namespace and publisher
	namespaces := map[string]bool{}
	for i := range activations {
		a := &activations[i]
		namespaces[a.Namespace] = true
		// An activation the operator has not evaluated yet has no phase;
		// it is counted in none.
		if a.Status.Phase != "" {
			perPhase[nsKey{a.Namespace, string(a.Status.Phase)}]++
		}
		c.collectActivationTimes(ch, a, nextExpiry)
	}

	for i := range grants {
		g := &grants[i]
		namespaces[g.Namespace] = true
		if r := g.Spec.Revocation; r != nil && r.Reason != "" {
			perReason[nsKey{g.Namespace, string(r.Reason)}]++
		}
	}

	c.sendCounts(ch, namespaces, perPhase, perReason)
	for k, t := range nextExpiry {
		c.send(ch, publisherNextExpiryDesc, float64(t.Unix()), k.namespace, k.value)
	}
}

// collectActivationTimes sends an Active activation's contact deadline and
// expiry and folds its expiry into nextExpiry (by namespace and publisher).
// Only an Active activation has instants ahead of it: a contact is due
// until it is made (B4), a benefit expires unless it is revoked first.
func (c *Collector) collectActivationTimes(ch chan<- prometheus.Metric, a *v1alpha1.BenefitActivation, nextExpiry map[nsKey]time.Time) {
	// An open contact obligation (B4); overdue once the time has passed.
	if a.Status.Phase == v1alpha1.ActivationActive && a.Status.ContactDueBy != nil && a.Spec.ContactedAt == nil {
		c.send(ch, activationContactDueDesc, float64(a.Status.ContactDueBy.Unix()),
			a.Namespace, a.Name, a.Spec.OfferRef.Name, a.Spec.Benefit)
	}
	if a.Status.Phase != v1alpha1.ActivationActive || a.Status.ExpiresAt == nil {
		return
	}
	expiresAt := a.Status.ExpiresAt.Time
	c.send(ch, activationExpiryDesc, float64(expiresAt.Unix()),
		a.Namespace, a.Name, a.Spec.OfferRef.Name, a.Spec.Benefit)
	if a.Status.Publisher == "" {
		return
	}
	k := nsKey{a.Namespace, a.Status.Publisher}
	if t, ok := nextExpiry[k]; !ok || expiresAt.Before(t) {
		nextExpiry[k] = expiresAt
	}
}

// sendCounts sends the per-phase and per-reason counts: every known phase and
// reason for each namespace in namespaces (zero when none, so that a count
// that falls to zero reads 0 rather than vanishing from a query), then
// whatever values outside the enums were counted. It consumes perPhase and
// perReason.
func (c *Collector) sendCounts(ch chan<- prometheus.Metric, namespaces map[string]bool, perPhase, perReason map[nsKey]int) {
	for ns := range namespaces {
		for _, phase := range activationPhases {
			k := nsKey{ns, string(phase)}
			c.send(ch, benefitActivationsDesc, float64(perPhase[k]), ns, string(phase))
			delete(perPhase, k)
		}
		for _, reason := range revocationReasons {
			k := nsKey{ns, string(reason)}
			c.send(ch, revocationsDesc, float64(perReason[k]), ns, string(reason))
			delete(perReason, k)
		}
	}
	// Values outside the enums (a newer API version, say) are still shown.
	for k, n := range perPhase {
		c.send(ch, benefitActivationsDesc, float64(n), k.namespace, k.value)
	}
	for k, n := range perReason {
		c.send(ch, revocationsDesc, float64(n), k.namespace, k.value)
	}
}

// send builds a gauge and sends it; a metric that cannot be built is logged
// and skipped rather than panicking in the scrape.
func (c *Collector) send(ch chan<- prometheus.Metric, desc *prometheus.Desc, value float64, labelValues ...string) {
	m, err := prometheus.NewConstMetric(desc, prometheus.GaugeValue, value, labelValues...)
	if err != nil {
		c.log.Error(err, "building metric", "desc", desc.String(), "labels", labelValues)
		return
	}
	ch <- m
}

var registerMu sync.Mutex

// Register registers a collector reading mgr's informer cache with
// controller-runtime's metrics registry, served by the manager's metrics
// endpoint. It also makes the cache watch Publishers and
// BenefitActivations, so that the first scrape does not wait for an
// informer to sync even if no controller watches them.
//
// Registering again (a second manager in the same process, as in tests that
// restart the manager) replaces the previous collector: the metrics always
// come from the latest manager's cache.
func Register(mgr manager.Manager) error {
	for _, obj := range []client.Object{&v1alpha1.Publisher{}, &v1alpha1.BenefitActivation{}, &v1alpha1.BenefitGrant{}} {
		if _, err := mgr.GetCache().GetInformer(context.Background(), obj, cache.BlockUntilSynced(false)); err != nil {
			return err
		}
	}
	return RegisterWith(ctrlmetrics.Registry, NewCollector(mgr.GetCache()))
}

// RegisterWith registers c with reg, replacing a collector of the same
// metrics registered before.
func RegisterWith(reg prometheus.Registerer, c prometheus.Collector) error {
	registerMu.Lock()
	defer registerMu.Unlock()
	err := reg.Register(c)
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		reg.Unregister(already.ExistingCollector)
		err = reg.Register(c)
	}
	return err
}
