package deploy

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// The roles config/rbac ships for people and pipelines, bound as their
// comments say and exercised with real requests by impersonated users.
var _ = Describe("The shipped partner-editor and viewer roles", Ordered, func() {
	const (
		editorRole = "rewards-operator-rewards-partner-editor"
		viewerRole = "rewards-operator-rewards-viewer"
	)
	var (
		ns, otherNS string
		pub         *v1alpha1.Publisher
		sale        *v1alpha1.SalesRecord
		prog        *v1alpha1.RewardsProgram
		now         = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	)

	allowed := func(what string, err error) {
		GinkgoHelper()
		Expect(err).NotTo(HaveOccurred(), what)
	}
	forbidden := func(what string, err error) {
		GinkgoHelper()
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%s: want Forbidden, got %v", what, err)
	}
	// can asks the API server, as user, whether it may do verb on the
	// resource (SelfSubjectAccessReview).
	can := func(user, namespace, verb, resource, subresource string) bool {
		GinkgoHelper()
		r := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: namespace, Verb: verb, Group: v1alpha1.GroupVersion.Group, Resource: resource, Subresource: subresource,
			},
		}}
		Expect(clientAs(user).Create(bg, r)).To(Succeed())
		return r.Status.Allowed
	}

	BeforeAll(func() {
		ns = newNamespace("partner")
		otherNS = newNamespace("someone-else")
		prog = shippedProgram()
		pub = newPublisher(ns, "contoso", prog.Name)
		sale = build.SalesRecord(ns, "billed-line", "saas", "100", "USD", now)
		create(prog, pub, sale, newPublisher(otherNS, "fabrikam", prog.Name))

		By("binding the roles as their comments say")
		create(
			// The partner team: a RoleBinding in its namespace.
			&rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "partner-editor"},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: editorRole},
				Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "partner"}},
			},
			// A namespace viewer.
			&rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ns-viewer"},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: viewerRole},
				Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "ns-viewer"}},
			},
			// An auditor reading everything, RewardsPrograms included.
			&rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: "deploy-test-auditor"},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: viewerRole},
				Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "auditor"}},
			},
		)
	})

	Describe("rewards-partner-editor, bound in the partner's namespace", func() {
		It("may create, update, patch and delete Offers", func() {
			c := clientAs("partner")
			offer := build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now)
			allowed("create an Offer", c.Create(bg, offer))
			allowed("get an Offer", c.Get(bg, client.ObjectKeyFromObject(offer), offer))
			allowed("list Offers", c.List(bg, &v1alpha1.OfferList{}, client.InNamespace(ns)))
			offer.Spec.OptOut = true
			allowed("update an Offer", c.Update(bg, offer))
			before := offer.DeepCopy()
			offer.Spec.OptOut = false
			allowed("patch an Offer", c.Patch(bg, offer, client.MergeFrom(before)))

			doomed := build.Offer(ns, "withdrawn", pub.Name, v1alpha1.ListingTypeList, now)
			allowed("create an Offer", c.Create(bg, doomed))
			allowed("delete an Offer", c.Delete(bg, doomed))
		})

		It("may create, update and delete BenefitActivations", func() {
			c := clientAs("partner")
			act := build.Activation(ns, "saas-badge", "saas", "marketplace-listing-badge")
			allowed("create a BenefitActivation", c.Create(bg, act))
			act.Spec.OptOut = true
			allowed("update a BenefitActivation (opt out, O6)", c.Update(bg, act))
			allowed("list BenefitActivations", c.List(bg, &v1alpha1.BenefitActivationList{}, client.InNamespace(ns)))
			doomed := build.Activation(ns, "saas-other", "saas", "technical-deployment-consultation")
			allowed("create a BenefitActivation", c.Create(bg, doomed))
			allowed("delete a BenefitActivation", c.Delete(bg, doomed))
		})

		It("may read Publishers and SalesRecords but write neither", func() {
			c := clientAs("partner")
			p := &v1alpha1.Publisher{}
			allowed("get a Publisher", c.Get(bg, client.ObjectKeyFromObject(pub), p))
			allowed("list Publishers", c.List(bg, &v1alpha1.PublisherList{}, client.InNamespace(ns)))
			p.Spec.Enrolled = false
			forbidden("update a Publisher", c.Update(bg, p))
			forbidden("create a Publisher", c.Create(bg, newPublisher(ns, "another", prog.Name)))

			s := &v1alpha1.SalesRecord{}
			allowed("get a SalesRecord", c.Get(bg, client.ObjectKeyFromObject(sale), s))
			allowed("list SalesRecords", c.List(bg, &v1alpha1.SalesRecordList{}, client.InNamespace(ns)))
			forbidden("create a SalesRecord", c.Create(bg, build.SalesRecord(ns, "self-billed", "saas", "1000000", "USD", now)))
			s.Spec.Fraud = v1alpha1.FraudSuspected
			forbidden("update a SalesRecord", c.Update(bg, s))
			forbidden("patch a SalesRecord", c.Patch(bg, s, client.MergeFrom(fetch(sale)())))
			forbidden("delete a SalesRecord", c.Delete(bg, fetch(sale)()))
		})

		It("may read BenefitGrants but never write one: only the operator records grants", func() {
			c := clientAs("partner")
			allowed("list BenefitGrants", c.List(bg, &v1alpha1.BenefitGrantList{}, client.InNamespace(ns)))
			forged := build.Grant(ns, "saas-badge", "saas", "marketplace-listing-badge", pub.Name, now,
				build.ActivationUID("forged"), build.ContactDueBy(now))
			forbidden("create a BenefitGrant", c.Create(bg, forged))
			for _, verb := range []string{"create", "update", "patch", "delete", "deletecollection"} {
				Expect(can("partner", ns, verb, "benefitgrants", "")).To(BeFalse(), "%s benefitgrants", verb)
			}
		})

		It("may not write any status", func() {
			c := clientAs("partner")
			offer := &v1alpha1.Offer{}
			allowed("get an Offer", c.Get(bg, client.ObjectKey{Namespace: ns, Name: "saas"}, offer))
			offer.Status.Phase = v1alpha1.OfferLive
			forbidden("update offers/status", c.Status().Update(bg, offer))
			forbidden("patch offers/status", c.Status().Patch(bg, offer, client.MergeFrom(&v1alpha1.Offer{})))

			act := &v1alpha1.BenefitActivation{}
			allowed("get a BenefitActivation", c.Get(bg, client.ObjectKey{Namespace: ns, Name: "saas-badge"}, act))
			act.Status.Phase = v1alpha1.ActivationActive
			forbidden("update benefitactivations/status", c.Status().Update(bg, act))

			p := fetch(pub)()
			p.Status.Tier = 5
			forbidden("update publishers/status", c.Status().Update(bg, p))
			s := fetch(sale)()
			s.Status.Counted = true
			forbidden("update salesrecords/status", c.Status().Update(bg, s))

			for _, res := range []string{"offers", "benefitactivations", "publishers", "salesrecords"} {
				for _, verb := range []string{"update", "patch"} {
					Expect(can("partner", ns, verb, res, "status")).To(BeFalse(), "%s %s/status", verb, res)
				}
			}
		})

		It("grants nothing outside the partner's namespace, nor any RewardsProgram (cluster-scoped, a RoleBinding cannot reach it)", func() {
			c := clientAs("partner")
			forbidden("create an Offer elsewhere", c.Create(bg, build.Offer(otherNS, "saas", "fabrikam", v1alpha1.ListingTypeTransact, now)))
			forbidden("list Offers elsewhere", c.List(bg, &v1alpha1.OfferList{}, client.InNamespace(otherNS)))
			forbidden("list Publishers in all namespaces", c.List(bg, &v1alpha1.PublisherList{}))
			forbidden("get a RewardsProgram", c.Get(bg, client.ObjectKeyFromObject(prog), &v1alpha1.RewardsProgram{}))
			forbidden("list Secrets", c.List(bg, &corev1.SecretList{}, client.InNamespace(ns)))
		})

		It("agrees with SelfSubjectAccessReview, verb by verb", func() {
			type row struct {
				resource string
				verbs    map[string]bool
			}
			write := map[string]bool{"get": true, "list": true, "watch": true, "create": true, "update": true, "patch": true, "delete": true}
			read := map[string]bool{"get": true, "list": true, "watch": true, "create": false, "update": false, "patch": false, "delete": false}
			for _, r := range []row{
				{"offers", write}, {"benefitactivations", write},
				{"publishers", read}, {"salesrecords", read}, {"benefitgrants", read}, {"rewardsprogramrevisions", read},
			} {
				for verb, want := range r.verbs {
					Expect(can("partner", ns, verb, r.resource, "")).To(Equal(want), "%s %s", verb, r.resource)
				}
			}
			Expect(can("partner", ns, "deletecollection", "salesrecords", "")).To(BeFalse())
		})
	})

	Describe("rewards-viewer", func() {
		It("lets a cluster-wide viewer get and list all seven kinds, and write none", func() {
			c := clientAs("auditor")
			allowed("list RewardsPrograms", c.List(bg, &v1alpha1.RewardsProgramList{}))
			allowed("get a RewardsProgram", c.Get(bg, client.ObjectKeyFromObject(prog), &v1alpha1.RewardsProgram{}))
			allowed("list Publishers", c.List(bg, &v1alpha1.PublisherList{}))
			allowed("get a Publisher", c.Get(bg, client.ObjectKeyFromObject(pub), &v1alpha1.Publisher{}))
			allowed("list Offers", c.List(bg, &v1alpha1.OfferList{}))
			allowed("get an Offer", c.Get(bg, client.ObjectKey{Namespace: ns, Name: "saas"}, &v1alpha1.Offer{}))
			allowed("list SalesRecords", c.List(bg, &v1alpha1.SalesRecordList{}))
			allowed("get a SalesRecord", c.Get(bg, client.ObjectKeyFromObject(sale), &v1alpha1.SalesRecord{}))
			allowed("list BenefitActivations", c.List(bg, &v1alpha1.BenefitActivationList{}))
			allowed("get a BenefitActivation", c.Get(bg, client.ObjectKey{Namespace: ns, Name: "saas-badge"}, &v1alpha1.BenefitActivation{}))

			forbidden("create a RewardsProgram", c.Create(bg, shippedProgram()))
			forbidden("create a Publisher", c.Create(bg, newPublisher(ns, "viewer-pub", prog.Name)))
			forbidden("create an Offer", c.Create(bg, build.Offer(ns, "viewer-offer", pub.Name, v1alpha1.ListingTypeList, now)))
			forbidden("create a SalesRecord", c.Create(bg, build.SalesRecord(ns, "viewer-sale", "saas", "1", "USD", now)))
			forbidden("create a BenefitActivation", c.Create(bg, build.Activation(ns, "viewer-act", "saas", "marketplace-listing-badge")))
			p := fetch(pub)()
			p.Spec.Enrolled = false
			forbidden("update a Publisher", c.Update(bg, p))
			forbidden("delete an Offer", c.Delete(bg, &v1alpha1.Offer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "saas"}}))
			forbidden("update publishers/status", c.Status().Update(bg, fetch(pub)()))
			forbidden("list Secrets", c.List(bg, &corev1.SecretList{}))

			allowed("list BenefitGrants", c.List(bg, &v1alpha1.BenefitGrantList{}))
			allowed("list RewardsProgramRevisions", c.List(bg, &v1alpha1.RewardsProgramRevisionList{}))
			for _, res := range []string{"rewardsprograms", "publishers", "offers", "salesrecords", "benefitactivations", "benefitgrants", "rewardsprogramrevisions"} {
				Expect(can("auditor", "", "list", res, "")).To(BeTrue(), "list %s", res)
				for _, verb := range []string{"create", "update", "patch", "delete"} {
					Expect(can("auditor", ns, verb, res, "")).To(BeFalse(), "%s %s", verb, res)
				}
			}
		})

		It("bound in one namespace, reads the four namespaced kinds there only (RewardsPrograms need a ClusterRoleBinding)", func() {
			c := clientAs("ns-viewer")
			allowed("list Publishers", c.List(bg, &v1alpha1.PublisherList{}, client.InNamespace(ns)))
			allowed("list Offers", c.List(bg, &v1alpha1.OfferList{}, client.InNamespace(ns)))
			allowed("list SalesRecords", c.List(bg, &v1alpha1.SalesRecordList{}, client.InNamespace(ns)))
			allowed("list BenefitActivations", c.List(bg, &v1alpha1.BenefitActivationList{}, client.InNamespace(ns)))
			allowed("list BenefitGrants", c.List(bg, &v1alpha1.BenefitGrantList{}, client.InNamespace(ns)))
			forbidden("list Publishers elsewhere", c.List(bg, &v1alpha1.PublisherList{}, client.InNamespace(otherNS)))
			forbidden("list RewardsPrograms", c.List(bg, &v1alpha1.RewardsProgramList{}))
			forbidden("create an Offer", c.Create(bg, build.Offer(ns, "ns-viewer-offer", pub.Name, v1alpha1.ListingTypeList, now)))
		})
	})
})
