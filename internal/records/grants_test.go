package records

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

var granted = time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)

// activation is an activation as applied again: its uid is not the one
// its grant recorded.
func activation(name, offer, benefit string) *v1alpha1.BenefitActivation {
	a := build.Activation("ns", name, offer, benefit)
	a.UID = "uid-of-the-object-applied-again"
	return a
}

// grant is the record of activation name, granted at granted to publisher
// contoso.
func grant(name, offer, benefit string) v1alpha1.BenefitGrant {
	return *build.Grant("ns", name, offer, benefit, "contoso", granted, build.ActivationUID("uid-of-an-earlier-object"))
}

// storeCases run against the real store over a fake client holding the
// operator's indexes, and against FakeGrants: both must decide alike.
func stores(t *testing.T, grants ...v1alpha1.BenefitGrant) map[string]Grants {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	b := fake.NewClientBuilder().WithScheme(scheme)
	for field, extract := range GrantIndexes {
		b = b.WithIndex(&v1alpha1.BenefitGrant{}, field, func(o client.Object) []string { return []string{extract(o.(*v1alpha1.BenefitGrant))} })
	}
	for i := range grants {
		b = b.WithObjects(grants[i].DeepCopy())
	}
	c := b.Build()
	return map[string]Grants{"client": NewGrants(c, c), "fake": NewFakeGrants(grants...)}
}

// R7: a grant belongs to the activation of its namespace and name, whatever
// uid it recorded, provided offer and benefit match; otherwise it holds the
// name.
func TestGrantsOfR7(t *testing.T) {
	cases := map[string]struct {
		act      *v1alpha1.BenefitActivation
		wantOwn  bool
		wantHeld bool
	}{
		"SameNameNewUID": {act: activation("blog", "trial", "go-live-blog"), wantOwn: true},
		"NoGrant":        {act: activation("other", "trial", "go-live-blog")},
		"OtherBenefit":   {act: activation("blog", "trial", "webinar"), wantHeld: true},
		"OtherOffer":     {act: activation("blog", "trial-2", "go-live-blog"), wantHeld: true},
		"OtherNamespace": {act: func() *v1alpha1.BenefitActivation {
			a := activation("blog", "trial", "go-live-blog")
			a.Namespace = "ns-2"
			return a
		}()},
	}
	for storeName, store := range stores(t, grant("blog", "trial", "go-live-blog")) {
		for name, tc := range cases {
			t.Run(storeName+"/"+name, func(t *testing.T) {
				found, err := store.Of(context.Background(), tc.act)
				if err != nil {
					t.Fatal(err)
				}
				if (found.Grant != nil) != tc.wantOwn || (found.NameHeldBy != nil) != tc.wantHeld {
					t.Errorf("Of = %+v; want own grant %v, name held %v", found, tc.wantOwn, tc.wantHeld)
				}
			})
		}
	}
}

// R8: grants are created without ownerReferences, labelled, and listed by
// offer and publisher whether their activation exists or not.
func TestGrantsCreateAndListR8(t *testing.T) {
	ctx := context.Background()
	for storeName, store := range stores(t, grant("gone", "trial", "go-live-blog"), grant("elsewhere", "trial-2", "go-live-blog")) {
		t.Run(storeName, func(t *testing.T) {
			act := activation("blog", "trial", "webinar")
			spec := grant("blog", "trial", "webinar").Spec
			g, err := store.Create(ctx, act, spec)
			if err != nil {
				t.Fatal(err)
			}
			if len(g.OwnerReferences) != 0 {
				t.Errorf("created with ownerReferences %v: the garbage collector would delete it with its activation", g.OwnerReferences)
			}
			want := map[string]string{v1alpha1.LabelPublisher: "contoso", v1alpha1.LabelOffer: "trial", v1alpha1.LabelBenefit: "webinar"}
			if diff := cmp.Diff(want, g.Labels); diff != "" {
				t.Errorf("labels: -want +got:\n%s", diff)
			}
			if _, err := store.Create(ctx, act, spec); !apierrors.IsAlreadyExists(err) {
				t.Errorf("second create: %v, want AlreadyExists", err)
			}
			ofOffer, err := store.OfOffer(ctx, "ns", "trial")
			if err != nil || len(ofOffer) != 2 {
				t.Errorf("OfOffer = %d grants (%v), want the offer's two, the one whose activation is gone included, not another offer's", len(ofOffer), err)
			}
			ofPub, err := store.OfPublisher(ctx, "ns", "contoso")
			if err != nil || len(ofPub) != 3 {
				t.Errorf("OfPublisher = %d grants (%v), want all three", len(ofPub), err)
			}
			if other, _ := store.OfOffer(ctx, "ns-2", "trial"); len(other) != 0 {
				t.Errorf("OfOffer in another namespace = %d grants, want none", len(other))
			}
		})
	}
}

// R6: a revocation is recorded once, on the grant as read; a grant that
// changed since is refused with a conflict.
func TestGrantsRevoke(t *testing.T) {
	ctx := context.Background()
	rev := v1alpha1.GrantRevocation{Reason: v1alpha1.RevocationViolation, RecordedAt: metav1.NewTime(granted.Add(time.Hour)),
		CausedBy: &v1alpha1.ObjectReference{Kind: "Publisher", Name: "contoso"}}
	for storeName, store := range stores(t, grant("blog", "trial", "go-live-blog")) {
		t.Run(storeName, func(t *testing.T) {
			found, err := store.Of(ctx, activation("blog", "trial", "go-live-blog"))
			if err != nil || found.Grant == nil {
				t.Fatalf("Of: %+v, %v", found, err)
			}
			revoked, err := store.Revoke(ctx, found.Grant, rev)
			if err != nil || revoked.Spec.Revocation == nil || revoked.Spec.Revocation.Reason != v1alpha1.RevocationViolation {
				t.Fatalf("Revoke = %+v, %v", revoked, err)
			}
			if _, err := store.Revoke(ctx, found.Grant, rev); !apierrors.IsConflict(err) && !apierrors.IsInvalid(err) {
				t.Errorf("a second revocation from the grant as first read: %v, want it refused", err)
			}
		})
	}
}

func TestLabelValue(t *testing.T) {
	long := strings.Repeat("contoso-", 10) + "ltd"
	cases := map[string]string{
		"contoso":               "contoso",
		"contoso.example":       "contoso.example",
		strings.Repeat("a", 63): strings.Repeat("a", 63),
		long:                    "",
		strings.Repeat("b", 51) + ".c" + strings.Repeat("d", 20): "",
	}
	for name, want := range cases {
		got := LabelValue(name)
		if errs := validation.IsValidLabelValue(got); len(errs) > 0 {
			t.Errorf("LabelValue(%q) = %q, not a label value: %v", name, got, errs)
		}
		if want != "" && got != want {
			t.Errorf("LabelValue(%q) = %q, want the name itself", name, got)
		}
		if want == "" && (got == name || !strings.HasPrefix(name, strings.TrimRight(got[:len(got)-labelHashLength-1], ".-"))) {
			t.Errorf("LabelValue(%q) = %q, want the name's start and a hash", name, got)
		}
	}
	if LabelValue(long) == LabelValue(long+"x") {
		t.Errorf("two long names sharing their start got one label value %q", LabelValue(long))
	}
}

// B3 reads the siblings that could use a benefit and the grants that used
// it: a sibling whose name another benefit's grant holds never can, and a
// grant whose activation is gone still used it.
func TestOneTimeInputs(t *testing.T) {
	act := activation("blog-new", "trial", "go-live-blog")
	acts := []v1alpha1.BenefitActivation{
		*act,
		*activation("blog-held", "trial", "go-live-blog"), // its name: a webinar's record
		*activation("blog-free", "trial", "go-live-blog"),
		*activation("kit", "trial", "sales-kit"),
	}
	ofOffer := []v1alpha1.BenefitGrant{grant("blog-held", "trial", "webinar"), grant("blog-gone", "trial", "go-live-blog")}
	for storeName, store := range stores(t, ofOffer...) {
		t.Run(storeName, func(t *testing.T) {
			siblings, used, err := OneTimeInputs(context.Background(), store, act, acts, ofOffer)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range siblings {
				names = append(names, s.Name)
			}
			if diff := cmp.Diff([]string{"blog-new", "blog-free", "kit"}, names); diff != "" {
				t.Errorf("siblings: -want +got:\n%s", diff)
			}
			if len(used) != 1 || used[0].Name != "blog-gone" {
				t.Errorf("used = %v, want the grant of the deleted blog-gone only", used)
			}
		})
	}
}
