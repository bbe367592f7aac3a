package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/metrics"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

var _ = Describe("Collector", func() {
	var (
		ctx      context.Context
		nsA, nsB string
		// Expiry instants, earliest first.
		t1 = time.Date(2027, 1, 15, 10, 0, 0, 0, time.UTC)
		t2 = time.Date(2027, 2, 20, 11, 30, 0, 0, time.UTC)
		t3 = time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	)

	BeforeEach(func() {
		ctx = context.Background()
		nsA, nsB = newNamespace(ctx), newNamespace(ctx)
	})

	It("exports the cached objects' status and follows the cache, with no stale series", func() {
		createPublisher(ctx, nsA, "unranked", v1alpha1.PublisherStatus{Tier: 0, BilledSales: "0", Currency: "USD"})
		createPublisher(ctx, nsA, "contoso", v1alpha1.PublisherStatus{Tier: 1, BilledSales: "1234.56", Currency: "USD"})
		createPublisher(ctx, nsA, "fabrikam", v1alpha1.PublisherStatus{Tier: 2, BilledSales: "30000", Currency: "USD"})
		createPublisher(ctx, nsA, "tailspin", v1alpha1.PublisherStatus{Tier: 2, BilledSales: "25000.5", Currency: "EUR"})
		// Not computed yet: a tier of 0, no billed sales series.
		createPublisher(ctx, nsA, "new", v1alpha1.PublisherStatus{})
		createPublisher(ctx, nsB, "northwind", v1alpha1.PublisherStatus{Tier: 3, BilledSales: "150000", Currency: "USD"})

		revoked := func(reason v1alpha1.RevocationReason) v1alpha1.BenefitActivationStatus {
			return v1alpha1.BenefitActivationStatus{
				Phase:      v1alpha1.ActivationRevoked,
				Publisher:  "fabrikam",
				Revocation: &v1alpha1.Revocation{Reason: reason, Time: metav1.NewTime(t1.Add(-48 * time.Hour))},
			}
		}
		createActivation(ctx, nsA, "fab-ads", "fab-saas", "ads", v1alpha1.BenefitActivationStatus{
			Phase: v1alpha1.ActivationActive, Publisher: "fabrikam", ExpiresAt: ptrTime(t2)})
		createActivation(ctx, nsA, "fab-consult", "fab-saas", "consulting", v1alpha1.BenefitActivationStatus{
			Phase: v1alpha1.ActivationActive, Publisher: "fabrikam", ExpiresAt: ptrTime(t1)})
		// Active without expiry (a List benefit): no expiry series.
		createActivation(ctx, nsA, "con-listing", "con-vm", "listing", v1alpha1.BenefitActivationStatus{
			Phase: v1alpha1.ActivationActive, Publisher: "contoso"})
		createActivation(ctx, nsA, "con-pending", "con-vm", "ads", v1alpha1.BenefitActivationStatus{
			Phase: v1alpha1.ActivationPending, Publisher: "contoso"})
		// Expired: its expiresAt is not a next expiry any more.
		createActivation(ctx, nsA, "con-old", "con-vm", "azure-credits", v1alpha1.BenefitActivationStatus{
			Phase: v1alpha1.ActivationExpired, Publisher: "contoso", ExpiresAt: ptrTime(t3)})
		createActivation(ctx, nsA, "fab-fraud", "fab-saas", "credits", revoked(v1alpha1.RevocationFraud))
		createActivation(ctx, nsA, "fab-viol-1", "fab-saas", "support", revoked(v1alpha1.RevocationViolation))
		createActivation(ctx, nsA, "fab-viol-2", "fab-saas", "training", revoked(v1alpha1.RevocationViolation))
		// Revocations are counted from the grants, the durable record: a
		// revoked status without a grant counts nothing (con-pending's
		// stale revocation below), a grant not revoked counts nothing.
		createGrant(ctx, nsA, "fab-fraud", v1alpha1.RevocationFraud, t1)
		createGrant(ctx, nsA, "fab-viol-1", v1alpha1.RevocationViolation, t1)
		createGrant(ctx, nsA, "fab-viol-2", v1alpha1.RevocationViolation, t1)
		createGrant(ctx, nsA, "fab-ads", "", t1)
		createActivation(ctx, nsA, "status-only", "con-vm", "support", revoked(v1alpha1.RevocationCancellation))

		By("scraping the manager's /metrics endpoint")
		Eventually(func(g Gomega) {
			fams := scrape(g)
			for _, name := range []string{
				metrics.PublishersName, metrics.PublisherBilledSalesName, metrics.PublisherTierName,
				metrics.BenefitActivationsName, metrics.ActivationExpiryName,
				metrics.PublisherNextExpiryName, metrics.RevocationsName,
			} {
				g.Expect(fams).To(HaveKey(name))
				g.Expect(fams[name].GetType()).To(Equal(dto.MetricType_GAUGE), name)
			}
			g.Expect(seriesIn(fams, metrics.PublishersName, nsA)).To(Equal(map[string]float64{
				`tier="0"`: 2, `tier="1"`: 1, `tier="2"`: 2,
			}))
			g.Expect(seriesIn(fams, metrics.PublishersName, nsB)).To(Equal(map[string]float64{`tier="3"`: 1}))
			g.Expect(seriesIn(fams, metrics.PublisherTierName, nsA)).To(Equal(map[string]float64{
				`publisher="unranked"`: 0, `publisher="contoso"`: 1, `publisher="fabrikam"`: 2,
				`publisher="tailspin"`: 2, `publisher="new"`: 0,
			}))
			g.Expect(seriesIn(fams, metrics.PublisherBilledSalesName, nsA)).To(Equal(map[string]float64{
				`currency="USD",publisher="unranked"`: 0,
				`currency="USD",publisher="contoso"`:  1234.56,
				`currency="USD",publisher="fabrikam"`: 30000,
				`currency="EUR",publisher="tailspin"`: 25000.5,
			}))
			g.Expect(seriesIn(fams, metrics.PublisherBilledSalesName, nsB)).To(Equal(map[string]float64{
				`currency="USD",publisher="northwind"`: 150000,
			}))
			g.Expect(seriesIn(fams, metrics.BenefitActivationsName, nsA)).To(Equal(map[string]float64{
				`phase="Pending"`: 1, `phase="Active"`: 3, `phase="Expired"`: 1,
				`phase="Revoked"`: 4, `phase="OptedOut"`: 0,
			}))
			g.Expect(seriesIn(fams, metrics.ActivationExpiryName, nsA)).To(Equal(map[string]float64{
				`activation="fab-ads",benefit="ads",offer="fab-saas"`:            float64(t2.Unix()),
				`activation="fab-consult",benefit="consulting",offer="fab-saas"`: float64(t1.Unix()),
			}))
			g.Expect(seriesIn(fams, metrics.PublisherNextExpiryName, nsA)).To(Equal(map[string]float64{
				`publisher="fabrikam"`: float64(t1.Unix()),
			}))
			g.Expect(seriesIn(fams, metrics.RevocationsName, nsA)).To(Equal(map[string]float64{
				`reason="Violation"`: 2, `reason="Fraud"`: 1,
				`reason="OfferDelisted"`: 0, `reason="Cancellation"`: 0,
			}))
			// A namespace with no activation gets no activation series.
			for _, name := range []string{metrics.BenefitActivationsName, metrics.ActivationExpiryName,
				metrics.PublisherNextExpiryName, metrics.RevocationsName} {
				g.Expect(seriesIn(fams, name, nsB)).To(BeEmpty(), name)
			}
		}).Should(Succeed())

		By("changing a tier, deleting objects and revoking an activation")
		var contoso v1alpha1.Publisher
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: nsA, Name: "contoso"}, &contoso)).To(Succeed())
		contoso.Status.Tier = 2
		contoso.Status.BilledSales = "26000"
		Expect(k8sClient.Status().Update(ctx, &contoso)).To(Succeed())
		deleteObject(ctx, &v1alpha1.Publisher{}, nsA, "unranked")
		deleteObject(ctx, &v1alpha1.BenefitActivation{}, nsA, "fab-consult")
		deleteObject(ctx, &v1alpha1.BenefitActivation{}, nsA, "fab-fraud")
		// The garbage collector deletes the grant with its activation;
		// envtest runs none.
		deleteObject(ctx, &v1alpha1.BenefitGrant{}, nsA, "fab-fraud")
		var ads v1alpha1.BenefitActivation
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: nsA, Name: "fab-ads"}, &ads)).To(Succeed())
		ads.Status.Phase = v1alpha1.ActivationRevoked
		ads.Status.Revocation = &v1alpha1.Revocation{Reason: v1alpha1.RevocationOfferDelisted, Time: metav1.NewTime(t1)}
		Expect(k8sClient.Status().Update(ctx, &ads)).To(Succeed())
		var adsGrant v1alpha1.BenefitGrant
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: nsA, Name: "fab-ads"}, &adsGrant)).To(Succeed())
		adsGrant.Spec.Revocation = &v1alpha1.GrantRevocation{Reason: v1alpha1.RevocationOfferDelisted, RecordedAt: metav1.NewTime(t1),
			CausedBy: &v1alpha1.ObjectReference{Kind: "Offer", Name: "fab-saas"}}
		Expect(k8sClient.Update(ctx, &adsGrant)).To(Succeed())
		deleteObject(ctx, &v1alpha1.Publisher{}, nsB, "northwind")

		Eventually(func(g Gomega) {
			fams := scrape(g)
			// No publisher of tier 1 is left: its series is gone, not 0.
			g.Expect(seriesIn(fams, metrics.PublishersName, nsA)).To(Equal(map[string]float64{
				`tier="0"`: 1, `tier="2"`: 3,
			}))
			g.Expect(seriesIn(fams, metrics.PublisherTierName, nsA)).To(Equal(map[string]float64{
				`publisher="contoso"`: 2, `publisher="fabrikam"`: 2, `publisher="tailspin"`: 2, `publisher="new"`: 0,
			}))
			g.Expect(seriesIn(fams, metrics.PublisherBilledSalesName, nsA)).To(Equal(map[string]float64{
				`currency="USD",publisher="contoso"`:  26000,
				`currency="USD",publisher="fabrikam"`: 30000,
				`currency="EUR",publisher="tailspin"`: 25000.5,
			}))
			g.Expect(seriesIn(fams, metrics.BenefitActivationsName, nsA)).To(Equal(map[string]float64{
				`phase="Pending"`: 1, `phase="Active"`: 1, `phase="Expired"`: 1,
				`phase="Revoked"`: 4, `phase="OptedOut"`: 0,
			}))
			// Neither fab-consult (deleted) nor fab-ads (no longer Active)
			// has an expiry, so fabrikam has no next expiry.
			g.Expect(seriesIn(fams, metrics.ActivationExpiryName, nsA)).To(BeEmpty())
			g.Expect(seriesIn(fams, metrics.PublisherNextExpiryName, nsA)).To(BeEmpty())
			g.Expect(seriesIn(fams, metrics.RevocationsName, nsA)).To(Equal(map[string]float64{
				`reason="Violation"`: 2, `reason="Fraud"`: 0,
				`reason="OfferDelisted"`: 1, `reason="Cancellation"`: 0,
			}))
			// nsB has no object left: none of its series remains.
			for _, name := range []string{metrics.PublishersName, metrics.PublisherTierName, metrics.PublisherBilledSalesName} {
				g.Expect(seriesIn(fams, name, nsB)).To(BeEmpty(), name)
			}
		}).Should(Succeed())
	})

	It("emits all five phases, zero when none, and the earliest expiry per publisher", func() {
		createActivation(ctx, nsA, "opted", "offer", "ads", v1alpha1.BenefitActivationStatus{
			Phase: v1alpha1.ActivationOptedOut, Publisher: "adatum"})
		createActivation(ctx, nsA, "late", "offer", "support", v1alpha1.BenefitActivationStatus{
			Phase: v1alpha1.ActivationActive, Publisher: "adatum", ExpiresAt: ptrTime(t3)})
		createActivation(ctx, nsA, "early", "other-offer", "support", v1alpha1.BenefitActivationStatus{
			Phase: v1alpha1.ActivationActive, Publisher: "adatum", ExpiresAt: ptrTime(t2)})
		createActivation(ctx, nsA, "other-publisher", "their-offer", "support", v1alpha1.BenefitActivationStatus{
			Phase: v1alpha1.ActivationActive, Publisher: "litware", ExpiresAt: ptrTime(t1)})

		Eventually(func(g Gomega) {
			fams := scrape(g)
			g.Expect(seriesIn(fams, metrics.BenefitActivationsName, nsA)).To(Equal(map[string]float64{
				`phase="Pending"`: 0, `phase="Active"`: 3, `phase="Expired"`: 0,
				`phase="Revoked"`: 0, `phase="OptedOut"`: 1,
			}))
			g.Expect(seriesIn(fams, metrics.RevocationsName, nsA)).To(Equal(map[string]float64{
				`reason="Violation"`: 0, `reason="Fraud"`: 0, `reason="OfferDelisted"`: 0, `reason="Cancellation"`: 0,
			}))
			g.Expect(seriesIn(fams, metrics.PublisherNextExpiryName, nsA)).To(Equal(map[string]float64{
				`publisher="adatum"`: float64(t2.Unix()), `publisher="litware"`: float64(t1.Unix()),
			}))
		}).Should(Succeed())

		By("deleting the earliest one, the next expiry moves to the later one")
		deleteObject(ctx, &v1alpha1.BenefitActivation{}, nsA, "early")
		Eventually(func(g Gomega) {
			g.Expect(seriesIn(scrape(g), metrics.PublisherNextExpiryName, nsA)).To(Equal(map[string]float64{
				`publisher="adatum"`: float64(t3.Unix()), `publisher="litware"`: float64(t1.Unix()),
			}))
		}).Should(Succeed())
	})

	It("exports the contact due instant of each Active activation not yet contacted (B4)", func() {
		due1, due2 := t1.Add(-7*24*time.Hour), t2.Add(-7*24*time.Hour)
		createActivation(ctx, nsA, "open", "offer", "ads", v1alpha1.BenefitActivationStatus{
			Phase: v1alpha1.ActivationActive, Publisher: "adatum", ContactDueBy: ptrTime(due1)})
		createActivation(ctx, nsA, "open-too", "other-offer", "support", v1alpha1.BenefitActivationStatus{
			Phase: v1alpha1.ActivationActive, Publisher: "adatum", ContactDueBy: ptrTime(due2), ExpiresAt: ptrTime(t3)})
		// Contacted already: the obligation is closed.
		contacted := build.Activation(nsA, "contacted", "offer", "case-study")
		contacted.Spec.ContactedAt = ptrTime(due1.Add(-time.Hour))
		Expect(k8sClient.Create(ctx, contacted)).To(Succeed())
		contacted.Status = v1alpha1.BenefitActivationStatus{
			Phase: v1alpha1.ActivationActive, Publisher: "adatum", ContactDueBy: ptrTime(due1)}
		Expect(k8sClient.Status().Update(ctx, contacted)).To(Succeed())
		// No longer Active: nothing to contact about.
		createActivation(ctx, nsA, "expired", "offer", "credits", v1alpha1.BenefitActivationStatus{
			Phase: v1alpha1.ActivationExpired, Publisher: "adatum", ContactDueBy: ptrTime(due1)})
		createActivation(ctx, nsB, "revoked", "offer", "ads", v1alpha1.BenefitActivationStatus{
			Phase: v1alpha1.ActivationRevoked, Publisher: "litware", ContactDueBy: ptrTime(due1),
			Revocation: &v1alpha1.Revocation{Reason: v1alpha1.RevocationFraud, Time: metav1.NewTime(t1)}})

		Eventually(func(g Gomega) {
			fams := scrape(g)
			g.Expect(fams).To(HaveKey(metrics.ActivationContactDueName))
			g.Expect(fams[metrics.ActivationContactDueName].GetType()).To(Equal(dto.MetricType_GAUGE))
			g.Expect(seriesIn(fams, metrics.ActivationContactDueName, nsA)).To(Equal(map[string]float64{
				`activation="open",benefit="ads",offer="offer"`:               float64(due1.Unix()),
				`activation="open-too",benefit="support",offer="other-offer"`: float64(due2.Unix()),
			}))
			g.Expect(seriesIn(fams, metrics.ActivationContactDueName, nsB)).To(BeEmpty())
		}).Should(Succeed())

		By("recording the contact, its series disappears")
		var open v1alpha1.BenefitActivation
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: nsA, Name: "open"}, &open)).To(Succeed())
		open.Spec.ContactedAt = ptrTime(due1)
		Expect(k8sClient.Update(ctx, &open)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(seriesIn(scrape(g), metrics.ActivationContactDueName, nsA)).To(Equal(map[string]float64{
				`activation="open-too",benefit="support",offer="other-offer"`: float64(due2.Unix()),
			}))
		}).Should(Succeed())
	})

	It("describes every metric it collects (pedantic registry)", func() {
		createPublisher(ctx, nsA, "contoso", v1alpha1.PublisherStatus{Tier: 1, BilledSales: "10", Currency: "USD"})
		createActivation(ctx, nsA, "a", "offer", "ads", v1alpha1.BenefitActivationStatus{
			Phase: v1alpha1.ActivationActive, Publisher: "contoso", ExpiresAt: ptrTime(t1), ContactDueBy: ptrTime(t1)})
		reg := prometheus.NewPedanticRegistry()
		Expect(reg.Register(metrics.NewCollector(mgr.GetCache()))).To(Succeed())
		Eventually(func(g Gomega) {
			fams, err := reg.Gather()
			g.Expect(err).NotTo(HaveOccurred())
			names := map[string]bool{}
			for _, f := range fams {
				names[f.GetName()] = true
			}
			g.Expect(names).To(HaveLen(8))
		}).Should(Succeed())
	})

	It("replaces a collector registered before rather than failing", func() {
		reg := prometheus.NewRegistry()
		Expect(metrics.RegisterWith(reg, metrics.NewCollector(failingReader{}))).To(Succeed())
		Expect(metrics.RegisterWith(reg, metrics.NewCollector(mgr.GetCache()))).To(Succeed())
		createPublisher(ctx, nsA, "contoso", v1alpha1.PublisherStatus{Tier: 1, BilledSales: "10", Currency: "USD"})
		Eventually(func(g Gomega) {
			fams, err := reg.Gather()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(fams).NotTo(BeEmpty())
		}).Should(Succeed())
	})

	It("logs a failed cache read and leaves those metrics out, without failing the scrape", func() {
		reg := prometheus.NewPedanticRegistry()
		Expect(reg.Register(metrics.NewCollector(failingReader{}))).To(Succeed())
		fams, err := reg.Gather()
		Expect(err).NotTo(HaveOccurred())
		Expect(fams).To(BeEmpty())
	})
})

// failingReader fails every read, like a cache that has not started.
type failingReader struct{}

func (failingReader) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return errors.New("cache not started")
}

func (failingReader) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errors.New("cache not started")
}

func newNamespace(ctx context.Context) string {
	ns, err := testenv.NewNamespace(ctx, k8sClient, "metrics-")
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return ns
}

func ptrTime(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t)
	return &mt
}

// createPublisher creates a publisher, then writes its status through the
// status subresource (create ignores status).
func createPublisher(ctx context.Context, ns, name string, st v1alpha1.PublisherStatus) {
	p := build.Publisher(ns, name, build.NotEnrolled())
	Expect(k8sClient.Create(ctx, p)).To(Succeed())
	p.Status = st
	Expect(k8sClient.Status().Update(ctx, p)).To(Succeed())
}

func createActivation(ctx context.Context, ns, name, offer, benefit string, st v1alpha1.BenefitActivationStatus) {
	a := build.Activation(ns, name, offer, benefit)
	Expect(k8sClient.Create(ctx, a)).To(Succeed())
	a.Status = st
	Expect(k8sClient.Status().Update(ctx, a)).To(Succeed())
}

// grantPublisher is the publisher of every grant createGrant creates.
const grantPublisher = "fabrikam"

// createGrant creates the BenefitGrant of activation name (of publisher
// grantPublisher), revoked for reason at t when reason is not "".
func createGrant(ctx context.Context, ns, name string, reason v1alpha1.RevocationReason, t time.Time) {
	g := build.Grant(ns, name, "offer", "benefit", grantPublisher, t.Add(-72*time.Hour), build.ActivationUID("uid-"+name), build.ContactDueBy(t))
	if reason != "" {
		g.Spec.Revocation = &v1alpha1.GrantRevocation{Reason: reason, RecordedAt: metav1.NewTime(t), CausedBy: causeOf(reason, g)}
	}
	Expect(k8sClient.Create(ctx, g)).To(Succeed())
}

func deleteObject(ctx context.Context, obj client.Object, ns, name string) {
	obj.SetNamespace(ns)
	obj.SetName(name)
	Expect(k8sClient.Delete(ctx, obj)).To(Succeed())
}

// scrape GETs the manager's metrics endpoint and parses the text format.
func scrape(g Gomega) map[string]*dto.MetricFamily {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(metricsURL)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	g.Expect(err).NotTo(HaveOccurred())
	return fams
}

// seriesIn returns the series of metric name in namespace ns, keyed by
// their other labels written name="value" in name order.
func seriesIn(fams map[string]*dto.MetricFamily, name, ns string) map[string]float64 {
	out := map[string]float64{}
	f, ok := fams[name]
	if !ok {
		return out
	}
	for _, m := range f.GetMetric() {
		var labels []string
		inNS := false
		for _, l := range m.GetLabel() {
			if l.GetName() == "namespace" {
				inNS = l.GetValue() == ns
				continue
			}
			labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
		}
		if !inNS {
			continue
		}
		sort.Strings(labels)
		out[strings.Join(labels, ",")] = m.GetGauge().GetValue()
	}
	return out
}

// causeOf is the object a revocation of reason names, as the operator
// records it: the publisher for a violation, the offer for a delisting, a
// sales line of the offer for fraud or a cancellation.
func causeOf(reason v1alpha1.RevocationReason, g *v1alpha1.BenefitGrant) *v1alpha1.ObjectReference {
	switch reason {
	case v1alpha1.RevocationViolation:
		return &v1alpha1.ObjectReference{Kind: "Publisher", Name: g.Spec.Publisher}
	case v1alpha1.RevocationOfferDelisted:
		return &v1alpha1.ObjectReference{Kind: "Offer", Name: g.Spec.Offer}
	}
	return &v1alpha1.ObjectReference{Kind: "SalesRecord", Name: g.Spec.Offer + "-line"}
}
