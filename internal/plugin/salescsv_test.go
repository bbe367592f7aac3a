package plugin

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

func TestSalesRecordName(t *testing.T) {
	cases := map[string]struct {
		reason string
		txid   string
		want   string
	}{
		"ValidName":   {"a transaction id that is a valid name is the name", "inv-2026-11-000999", "inv-2026-11-000999"},
		"UpperCase":   {"upper case is lowered and the id's hash appended", "INV-2026-11-000999", "inv-2026-11-000999-"},
		"Punctuation": {"other characters become one '-'", "INV/2026 #11", "inv-2026-11-"},
		"OnlySymbols": {"an id with no letter or digit still gets a name", "###", "tx-"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := SalesRecordName(tc.txid)
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("%s: SalesRecordName(%q) = %q, want it to start with %q", tc.reason, tc.txid, got, tc.want)
			}
			if errs := validation.IsDNS1123Subdomain(got); len(errs) > 0 {
				t.Errorf("%s: %q is not a valid name: %v", tc.reason, got, errs)
			}
			if again := SalesRecordName(tc.txid); again != got {
				t.Errorf("%s: not deterministic: %q then %q", tc.reason, got, again)
			}
		})
	}
	if a, b := SalesRecordName("INV-1"), SalesRecordName("inv-1"); a == b {
		t.Errorf("ids differing only in case share the name %q", a)
	}
	if a, b := SalesRecordName("INV/1"), SalesRecordName("INV 1"); a == b {
		t.Errorf("ids differing only in punctuation share the name %q", a)
	}
	long := strings.Repeat("X", 128)
	if got := SalesRecordName(long); len(got) > validation.DNS1123SubdomainMaxLength || len(validation.IsDNS1123Subdomain(got)) > 0 {
		t.Errorf("a 128-character id gives %q", got)
	}
}

func TestParseSalesCSV(t *testing.T) {
	billed := metav1.NewTime(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	spec := func(mods ...func(*v1alpha1.SalesRecordSpec)) v1alpha1.SalesRecordSpec {
		s := v1alpha1.SalesRecordSpec{OfferRef: v1alpha1.LocalObjectReference{Name: "saas"}, TransactionID: "tx-1", Amount: "100.50", Currency: "USD", BilledAt: billed}
		for _, m := range mods {
			m(&s)
		}
		return s
	}
	type want struct {
		specs   []v1alpha1.SalesRecordSpec
		lines   []int
		refused map[int]string // line -> a substring of the reason
	}
	cases := map[string]struct {
		reason string
		csv    string
		want   want
	}{
		"Minimal": {
			reason: "the five required columns make a spec",
			csv:    "offer,transactionId,amount,currency,billedAt\nsaas,tx-1,100.50,USD,2026-11-01T00:00:00Z\n",
			want:   want{specs: []v1alpha1.SalesRecordSpec{spec()}, lines: []int{2}},
		},
		"AnyOrderAnyCase": {
			reason: "columns in any order and case; every optional column",
			csv: "BilledAt,Currency,Amount,TransactionID,Offer,Seats,Fraud,CancellationReason,CancellationTime\n" +
				"2026-11-01T01:00:00+01:00,USD,100.50,tx-1,saas,12,Suspected,AccidentalPurchase,2026-11-02T00:00:00.750Z\n",
			want: want{specs: []v1alpha1.SalesRecordSpec{spec(func(s *v1alpha1.SalesRecordSpec) {
				s.Seats, s.Fraud = 12, v1alpha1.FraudSuspected
				at := metav1.NewTime(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
				s.Cancellation = &v1alpha1.Cancellation{Reason: v1alpha1.CancellationAccidentalPurchase, Time: &at}
			})}, lines: []int{2}},
		},
		"BadRowsRefusedWithLineNumbers": {
			reason: "each bad row is refused with its line number and why; the good ones are kept",
			csv: "offer,transactionId,amount,currency,billedAt,seats,fraud\n" +
				"saas,tx-1,100.50,USD,2026-11-01T00:00:00Z,,\n" + // 2: good
				"saas,tx-2,\"12,50\",USD,2026-11-01T00:00:00Z,,\n" + // 3: comma decimal
				"saas,tx-3,-5,USD,2026-11-01T00:00:00Z,,\n" + // 4: negative
				"saas,tx-4,5,usd,2026-11-01T00:00:00Z,,\n" + // 5: currency case
				"saas,tx-5,5,USD,01/11/2026,,\n" + // 6: date format
				"saas,tx-6,5,USD,2026-11-01T00:00:00Z,-1,\n" + // 7: seats
				"saas,tx-7,5,USD,2026-11-01T00:00:00Z,,Maybe\n" + // 8: fraud
				"Saas,tx-8,5,USD,2026-11-01T00:00:00Z,,\n" + // 9: offer name
				"saas,,5,USD,2026-11-01T00:00:00Z,,\n" + // 10: no transaction id
				"saas,tx-10,5,USD\n" + // 11: too few fields
				"saas,tx-1,7,USD,2026-11-01T00:00:00Z,,\n" + // 12: duplicate id
				"saas,tx-12,5,USD,2026-11-01T00:00:00Z,,None\n", // 13: good
			want: want{
				specs: []v1alpha1.SalesRecordSpec{spec(), spec(func(s *v1alpha1.SalesRecordSpec) {
					s.TransactionID, s.Amount, s.Fraud = "tx-12", "5", v1alpha1.FraudNone
				})},
				lines: []int{2, 13},
				refused: map[int]string{3: "amount", 4: "amount", 5: "currency", 6: "billedAt", 7: "seats", 8: "fraud",
					9: "offer", 10: "transactionId", 11: "4 fields", 12: "line 2"},
			},
		},
		"QuotedNewline": {
			reason: "a quoted field spanning two lines: the next row's line number counts both",
			csv:    "offer,transactionId,amount,currency,billedAt\nsaas,\"tx\n1\",5,USD,2026-11-01T00:00:00Z\nsaas,tx-2,x,USD,2026-11-01T00:00:00Z\n",
			want: want{
				specs: []v1alpha1.SalesRecordSpec{spec(func(s *v1alpha1.SalesRecordSpec) { s.TransactionID, s.Amount = "tx\n1", "5" })},
				lines: []int{2}, refused: map[int]string{4: "amount"},
			},
		},
		"CancellationTimeWithoutReason": {
			reason: "a cancellation time needs a reason",
			csv:    "offer,transactionId,amount,currency,billedAt,cancellationTime\nsaas,tx-1,5,USD,2026-11-01T00:00:00Z,2026-11-01T00:00:00Z\n",
			want:   want{refused: map[int]string{2: "cancellationReason"}},
		},
		"NotUTF8": {
			reason: "a field that is not UTF-8 (a Latin-1 export) refuses its line, naming the column",
			csv:    "offer,transactionId,amount,currency,billedAt\nsaas,tx-1,100.50,USD,2026-11-01T00:00:00Z\nsaas,caf\xe9,5,USD,2026-11-01T00:00:00Z\n",
			want:   want{specs: []v1alpha1.SalesRecordSpec{spec()}, lines: []int{2}, refused: map[int]string{3: `column transactionId: "caf\xe9" is not valid UTF-8 (byte 0xE9 at byte 4)`}},
		},
		"BadQuoteThenGoodRow": {
			reason: "a row that is not valid CSV is refused and reading goes on",
			csv:    "offer,transactionId,amount,currency,billedAt\nsaas,tx\"1,5,USD,2026-11-01T00:00:00Z\nsaas,tx-1,100.50,USD,2026-11-01T00:00:00Z\n",
			want:   want{specs: []v1alpha1.SalesRecordSpec{spec()}, lines: []int{3}, refused: map[int]string{2: "CSV"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rows, refused, err := parseSalesCSV(strings.NewReader(tc.csv))
			if err != nil {
				t.Fatalf("%s: %v", tc.reason, err)
			}
			var got want
			for _, r := range rows {
				got.specs = append(got.specs, r.spec)
				got.lines = append(got.lines, r.line)
				if r.name != SalesRecordName(r.spec.TransactionID) {
					t.Errorf("%s: line %d named %q", tc.reason, r.line, r.name)
				}
			}
			if diff := cmp.Diff(tc.want.specs, got.specs); diff != "" {
				t.Errorf("%s: specs: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.want.lines, got.lines); diff != "" {
				t.Errorf("%s: line numbers: -want, +got:\n%s", tc.reason, diff)
			}
			gotRefused := map[int]string{}
			for _, r := range refused {
				gotRefused[r.line] = r.reason
			}
			if len(gotRefused) != len(tc.want.refused) {
				t.Errorf("%s: refused %v, want lines %v", tc.reason, gotRefused, tc.want.refused)
			}
			for line, has := range tc.want.refused {
				if !strings.Contains(gotRefused[line], has) {
					t.Errorf("%s: line %d refused with %q, want it to mention %q", tc.reason, line, gotRefused[line], has)
				}
			}
		})
	}
}

func TestParseSalesCSVHeader(t *testing.T) {
	for csv, want := range map[string]string{
		"":                                      "empty",
		"offer,transactionId,amount,currency\n": `"billedAt" is missing`,
		"offer,transactionId,amount,currency,billedAt,x":       `unknown column "x"`,
		"offer,offer,transactionId,amount,currency,billedAt\n": "twice",
	} {
		if _, _, err := parseSalesCSV(strings.NewReader(csv)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("header %q: error %v, want it to mention %s", csv, err, want)
		}
	}
	// A byte order mark before the header, as spreadsheet exports write it.
	if rows, _, err := parseSalesCSV(strings.NewReader("\ufeffoffer,transactionId,amount,currency,billedAt\nsaas,tx-1,5,USD,2026-11-01T00:00:00Z\n")); err != nil || len(rows) != 1 {
		t.Errorf("with a byte order mark: %d rows, %v", len(rows), err)
	}
}
