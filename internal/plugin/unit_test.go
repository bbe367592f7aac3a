package plugin

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

func TestReportGrants(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
	mt := func(d int) *metav1.Time { t := metav1.NewTime(day(d)); return &t }
	grant := func(name, publisher string, issued int, expires *metav1.Time, revoked *metav1.Time) v1alpha1.BenefitGrant {
		var opts []build.GrantOption
		if expires != nil {
			opts = append(opts, build.ExpiresAt(expires.Time))
		}
		if revoked != nil {
			opts = append(opts, build.Revoked(v1alpha1.GrantRevocation{Reason: v1alpha1.RevocationFraud, RecordedAt: *revoked,
				CausedBy: &v1alpha1.ObjectReference{Kind: "SalesRecord", Name: "inv-1"}}))
		}
		return *build.Grant("ns", name, "o", "b", publisher, day(issued), opts...)
	}
	grants := []v1alpha1.BenefitGrant{
		grant("issued-2", "contoso", 2, nil, nil),
		grant("expires-10", "contoso", 3, mt(10), nil),
		grant("revoked-before-expiry", "contoso", 4, mt(12), mt(8)),
		grant("expires-after-now", "contoso", 5, mt(25), nil),
		grant("revoked-after-expiry", "fabrikam", 1, mt(6), mt(9)),
		grant("issued-now", "fabrikam", 20, nil, nil),
	}
	exists := map[client.ObjectKey]bool{{Namespace: "ns", Name: "issued-2"}: true}
	now := day(20)
	type event struct {
		Event, Activation string
		Day               int
	}
	cases := map[string]struct {
		reason      string
		publisher   string
		since       *time.Time
		until       *time.Time
		want        []event
		wantCounts  [3]int
		wantDeleted []string
	}{
		"Everything": {
			reason: "from the first grant up to now included, in the order they happened; an expiry only once passed and if not revoked before",
			want: []event{
				{"Issued", "revoked-after-expiry", 1}, {"Issued", "issued-2", 2}, {"Issued", "expires-10", 3},
				{"Issued", "revoked-before-expiry", 4}, {"Issued", "expires-after-now", 5}, {"Expired", "revoked-after-expiry", 6},
				{"Revoked", "revoked-before-expiry", 8}, {"Revoked", "revoked-after-expiry", 9}, {"Expired", "expires-10", 10},
				{"Issued", "issued-now", 20},
			},
			wantCounts: [3]int{6, 2, 2},
		},
		"Period": {
			reason: "since included, until excluded",
			since:  new(day(3)), until: new(day(9)),
			want:       []event{{"Issued", "expires-10", 3}, {"Issued", "revoked-before-expiry", 4}, {"Issued", "expires-after-now", 5}, {"Expired", "revoked-after-expiry", 6}, {"Revoked", "revoked-before-expiry", 8}},
			wantCounts: [3]int{3, 1, 1},
		},
		"FutureUntil": {
			reason: "an expiry after now has not happened, whatever --until says",
			since:  new(day(21)), until: new(day(30)),
			want: []event{},
		},
		"Publisher": {
			reason:    "one publisher's grants",
			publisher: "fabrikam",
			want: []event{{"Issued", "revoked-after-expiry", 1}, {"Expired", "revoked-after-expiry", 6}, {"Revoked", "revoked-after-expiry", 9},
				{"Issued", "issued-now", 20}},
			wantCounts: [3]int{2, 1, 1},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := ReportGrants(grants, exists, tc.publisher, tc.since, tc.until, now)
			got := []event{}
			for _, e := range r.Events {
				got = append(got, event{e.Event, e.Activation, e.At.Day()})
				if e.ActivationDeleted == (e.Activation == "issued-2") {
					t.Errorf("%s: %s: activationDeleted %v", tc.reason, e.Activation, e.ActivationDeleted)
				}
				if (e.Revocation != nil) != (e.Event == EventRevoked) {
					t.Errorf("%s: %s %s: revocation %v", tc.reason, e.Event, e.Activation, e.Revocation)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: -want, +got:\n%s", tc.reason, diff)
			}
			if counts := [3]int{r.Issued, r.Expired, r.Revoked}; counts != tc.wantCounts {
				t.Errorf("%s: counts %v, want %v", tc.reason, counts, tc.wantCounts)
			}
		})
	}
}

func TestProgress(t *testing.T) {
	var plain bytes.Buffer
	p := newProgress(&plain, false, 2500)
	for range 2500 {
		p.add(1)
	}
	p.done()
	if want := "1000/2500 rows\n2000/2500 rows\n"; plain.String() != want {
		t.Errorf("not a terminal: %q, want %q", plain.String(), want)
	}

	var bar bytes.Buffer
	p = newProgress(&bar, true, 4)
	p.add(2)
	p.add(2)
	p.done()
	want := "\r[" + strings.Repeat("#", 20) + strings.Repeat(".", 20) + "]  50% 2/4 rows" +
		"\r[" + strings.Repeat("#", 40) + "] 100% 4/4 rows\n"
	if bar.String() != want {
		t.Errorf("a terminal: %q, want %q", bar.String(), want)
	}
}

func TestDays(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Minute: "1h", 5 * time.Hour: "5h", 48 * time.Hour: "2d", 50*time.Hour + 20*time.Minute: "2d2h",
	} {
		if got := days(d); got != want {
			t.Errorf("days(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestImageTag(t *testing.T) {
	for image, want := range map[string]string{
		"ghcr.io/marketplace-rewards/rewards-operator:v0.1.0": "v0.1.0",
		"registry:5000/rewards-operator:v0.2.0@sha256:0123":   "v0.2.0",
		"registry:5000/rewards-operator@sha256:0123":          "",
		"registry:5000/rewards-operator":                      "",
		"rewards-operator":                                    "",
		"localhost/rewards-operator:dev":                      "dev",
	} {
		if got := imageTag(image); got != want {
			t.Errorf("imageTag(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestDueContacts(t *testing.T) {
	due := func(d int) *metav1.Time { t := metav1.NewTime(time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC)); return &t }
	act := func(name, offer string, phase v1alpha1.ActivationPhase, dueBy *metav1.Time, contacted bool) v1alpha1.BenefitActivation {
		a := build.Activation("ns", name, offer, "b")
		a.Status = v1alpha1.BenefitActivationStatus{Phase: phase, ContactDueBy: dueBy, Publisher: "gone"}
		if contacted {
			a.Spec.ContactedAt = due(1)
		}
		return *a
	}
	snap := &snapshot{
		publishers: []v1alpha1.Publisher{*build.Publisher("ns", "contoso", build.WithContact())},
		offers:     []v1alpha1.Offer{*build.Offer("ns", "saas", "contoso", v1alpha1.ListingTypeTransact, due(1).Time)},
		activations: []v1alpha1.BenefitActivation{
			act("due-12", "saas", v1alpha1.ActivationActive, due(12), false),
			act("due-8", "saas", v1alpha1.ActivationActive, due(8), false),
			act("contacted", "saas", v1alpha1.ActivationActive, due(5), true),
			act("pending", "saas", v1alpha1.ActivationPending, nil, false),
			act("revoked", "saas", v1alpha1.ActivationRevoked, due(5), false),
			act("offer-gone", "deleted", v1alpha1.ActivationActive, due(9), false),
		},
	}
	now := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	type row struct {
		Activation, Publisher string
		Overdue, Contact      bool
	}
	rows := func(l ContactWorklist) []row {
		out := make([]row, 0, len(l.Contacts))
		for _, c := range l.Contacts {
			out = append(out, row{c.Activation, c.Publisher, c.Overdue, c.Contact != nil})
		}
		return out
	}
	want := []row{{"due-8", "contoso", true, true}, {"offer-gone", "gone", true, false}, {"due-12", "contoso", false, true}}
	if diff := cmp.Diff(want, rows(dueContacts(snap, false, now))); diff != "" {
		t.Errorf("the Active activations not contacted, by due date; an activation whose offer is gone keeps the publisher of its status: -want, +got:\n%s", diff)
	}
	if diff := cmp.Diff(want[:2], rows(dueContacts(snap, true, now))); diff != "" {
		t.Errorf("--overdue: -want, +got:\n%s", diff)
	}
}
