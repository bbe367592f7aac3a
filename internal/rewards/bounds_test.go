package rewards

import (
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

func TestStatusMoney(t *testing.T) {
	forty := strings.Repeat("9", 40)
	cases := map[string]struct {
		reason  string
		amount  string
		want    v1alpha1.DerivedMoney
		problem string // in the problem's message; "" for none
	}{
		"Zero": {
			reason: "a zero sum is shown as 0.00",
			amount: "0", want: "0.00",
		},
		"LargestHeld": {
			reason: "40 digits before the point and 6 after fit status",
			amount: forty + ".999999", want: v1alpha1.DerivedMoney(forty + ".999999"),
		},
		"OneMillionthTooMany": {
			reason:  "10^40 has 41 digits: the field cannot hold it, and the problem names the field and the digits",
			amount:  "1" + strings.Repeat("0", 40),
			problem: "status.billedSales cannot be shown: the amount has 41 digits before the decimal point, more than the 40 the field holds",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, p := StatusMoney("status.billedSales", MustParseMoney(tc.amount))
			switch {
			case tc.problem == "" && p != nil:
				t.Errorf("%s\nStatusMoney(%s) reports %+v, want none", tc.reason, tc.amount, p)
			case tc.problem != "" && (p == nil || p.Reason != v1alpha1.ReasonValueOutOfRange || !strings.Contains(p.Message, tc.problem)):
				t.Errorf("%s\nStatusMoney(%s) reports %+v, want %s with %q", tc.reason, tc.amount, p, v1alpha1.ReasonValueOutOfRange, tc.problem)
			case got != tc.want:
				t.Errorf("%s\nStatusMoney(%s) = %q, want %q", tc.reason, tc.amount, got, tc.want)
			}
		})
	}
}

func TestStatusInstant(t *testing.T) {
	last := time.Date(9999, time.December, 31, 23, 59, 59, 0, time.UTC)
	cases := map[string]struct {
		reason  string
		in      *time.Time
		problem string
	}{
		"None": {
			reason: "no instant, nothing to check",
		},
		"LastSecond": {
			reason: "the last second of the year 9999 is stored",
			in:     ptrTo(last),
		},
		"WithinLastSecond": {
			reason: "status keeps whole seconds: an instant within the last second is stored as that second",
			in:     ptrTo(last.Add(999 * time.Millisecond)),
		},
		"YearTenThousand": {
			reason:  "the year 10000 has five digits, which RFC 3339 cannot write: the problem names the field and the instant",
			in:      ptrTo(last.Add(time.Second)),
			problem: "status.benefitsExpireAt cannot be shown: 10000-01-01T00:00:00Z is outside the years 0000 to 9999",
		},
		"BeforeYearZero": {
			reason:  "a negative year cannot be written either",
			in:      ptrTo(time.Date(-1, time.December, 31, 0, 0, 0, 0, time.UTC)),
			problem: "status.benefitsExpireAt cannot be shown",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, p := StatusInstant("status.benefitsExpireAt", tc.in)
			if tc.problem == "" {
				if p != nil || got != tc.in {
					t.Errorf("%s\nStatusInstant(%v) = %v, %+v; want it unchanged and no problem", tc.reason, tc.in, got, p)
				}
				return
			}
			if got != nil || p == nil || p.Reason != v1alpha1.ReasonValueOutOfRange || !strings.Contains(p.Message, tc.problem) {
				t.Errorf("%s\nStatusInstant(%v) = %v, %+v; want nil and %s with %q", tc.reason, tc.in, got, p, v1alpha1.ReasonValueOutOfRange, tc.problem)
			}
		})
	}
}

// The bounds admission puts on the inputs (api/v1alpha1: amounts of 20
// digits before the point, rates of 12, liveAt and billedAt before the year
// 9000, durations of at most 120 months and 365 days) keep every derived
// value within what status holds: the largest admitted inputs derive
// values StatusMoney and StatusInstant accept.
func TestLargestAdmittedInputsFitStatus(t *testing.T) {
	lastAdmitted := time.Date(8999, time.December, 31, 23, 59, 59, 0, time.UTC)
	spec := defaultProgramSpec()
	spec.SalesWindow = v1alpha1.SalesWindowTrailing12Months
	spec.ExchangeRates = append(spec.ExchangeRates, v1alpha1.ExchangeRate{Currency: "VND", Rate: "999999999999.999999999999"})
	longest := int32(120)
	spec.Durations = v1alpha1.ProgramDurations{
		EngagementMonths: &longest, TrialConsultingExpiryMonths: &longest, ListExpiryMonths: &longest,
	}
	rules, problems := ResolveProgram(spec)
	if len(problems) > 0 {
		t.Fatalf("fixture: %v", problems)
	}

	t.Run("OfferInstants", func(t *testing.T) {
		for _, lt := range v1alpha1.AllListingTypes {
			o := mkOffer("o", lt, lastAdmitted)
			f := EvaluateOffer(&o.Spec, rules, lastAdmitted.Add(-time.Hour))
			for field, at := range map[string]*time.Time{
				"status.engagementEndsAt": f.EngagementEndsAt, "status.benefitsExpireAt": f.BenefitsExpireAt, "nextChange": f.NextChange,
			} {
				if _, p := StatusInstant(field, at); p != nil {
					t.Errorf("O3/O4: a %s offer live at %s: %s", lt, lastAdmitted, p.Message)
				}
			}
		}
	})

	t.Run("TrailingWindow", func(t *testing.T) {
		_, next := WindowBounds(rules.Window, lastAdmitted, lastAdmitted)
		if _, p := StatusInstant("status.nextChangeAt", next); p != nil || next == nil {
			t.Errorf("S4: a line billed at %s leaves the window at %v: %v", lastAdmitted, next, p)
		}
	})

	t.Run("LargestLineAtLargestRate", func(t *testing.T) {
		vm := mkOffer("vm", v1alpha1.ListingTypeTransact, lastAdmitted.AddDate(-1, 0, 0))
		rec := mkSale("l", "vm", "99999999999999999999.999999", "VND", lastAdmitted.AddDate(0, 0, -1))
		v := EvaluateLine(&rec.Spec, &vm, rules, lastAdmitted)
		if v.ProgramAmount == nil {
			t.Fatalf("S2: the line is not converted: %s", v.Message)
		}
		if _, p := StatusMoney("status.programAmount", *v.ProgramAmount); p != nil {
			t.Errorf("S2: %s", p.Message)
		}
		// A publisher's sum: more lines than a cluster can store (etcd's
		// 8 GiB at well over 100 bytes a SalesRecord is fewer than 10^8)
		// still fit.
		sum := Money{micros: new(big.Int).Mul(v.ProgramAmount.int(), big.NewInt(100_000_000))}
		if _, p := StatusMoney("status.billedSales", sum); p != nil {
			t.Errorf("S4: 10^8 of the largest lines: %s", p.Message)
		}
	})
}
