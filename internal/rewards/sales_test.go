package rewards

import (
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

func TestWindowBounds(t *testing.T) {
	billed := utc(2025, time.March, 15, 10, 0, 0)
	leaves := utc(2026, time.March, 15, 10, 0, 0)
	type want struct {
		inside bool
		next   *time.Time
	}
	type args struct {
		window v1alpha1.SalesWindow
		billed time.Time
		now    time.Time
	}
	cases := map[string]struct {
		reason string
		args   args
		want   want
	}{
		"LifetimeOld": {
			reason: "S4: with Lifetime a line counts forever",
			args:   args{v1alpha1.SalesWindowLifetime, billed, billed.AddDate(20, 0, 0)},
			want:   want{inside: true},
		},
		"LifetimeAtBilledAt": {
			reason: "S4: a line counts from the instant it is billed",
			args:   args{v1alpha1.SalesWindowLifetime, billed, billed},
			want:   want{inside: true},
		},
		"LifetimeFuture": {
			reason: "S4: a line billed in the future does not count yet and changes at billedAt",
			args:   args{v1alpha1.SalesWindowLifetime, billed, billed.Add(-time.Nanosecond)},
			want:   want{inside: false, next: ptrTo(billed)},
		},
		"EmptyWindowIsLifetime": {
			reason: "S4: an unresolved window behaves as the Lifetime default",
			args:   args{"", billed, billed.AddDate(5, 0, 0)},
			want:   want{inside: true},
		},
		"TrailingInside": {
			reason: "S4: with Trailing12Months a line counts until it is 12 calendar months old",
			args:   args{v1alpha1.SalesWindowTrailing12Months, billed, billed.AddDate(0, 6, 0)},
			want:   want{inside: true, next: ptrTo(leaves)},
		},
		"TrailingOneNanosecondBefore": {
			reason: "S4: one nanosecond before it ages out the line still counts, and changes at that instant",
			args:   args{v1alpha1.SalesWindowTrailing12Months, billed, leaves.Add(-time.Nanosecond)},
			want:   want{inside: true, next: ptrTo(leaves)},
		},
		"TrailingAtAgeOut": {
			reason: "S4: at exactly billedAt + 12 calendar months the line leaves the sum",
			args:   args{v1alpha1.SalesWindowTrailing12Months, billed, leaves},
			want:   want{inside: false},
		},
		"TrailingLeapDay": {
			reason: "S4: a line billed on 29 Feb 2024 ages out on 28 Feb 2025",
			args:   args{v1alpha1.SalesWindowTrailing12Months, utc(2024, time.February, 29, 0, 0, 0), utc(2025, time.February, 27, 0, 0, 0)},
			want:   want{inside: true, next: ptrTo(utc(2025, time.February, 28, 0, 0, 0))},
		},
		"TrailingFuture": {
			reason: "S4: a line billed in the future enters a trailing window at billedAt",
			args:   args{v1alpha1.SalesWindowTrailing12Months, billed, billed.AddDate(0, 0, -1)},
			want:   want{inside: false, next: ptrTo(billed)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			inside, next := WindowBounds(tc.args.window, tc.args.billed, tc.args.now)
			if diff := cmp.Diff(tc.want, want{inside, next}, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nWindowBounds(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestEvaluateLine(t *testing.T) {
	now := utc(2026, time.March, 15, 10, 0, 0)
	liveAt := utc(2020, time.January, 1, 0, 0, 0)
	lifetime := defaultRulesFor(v1alpha1.SalesWindowLifetime)
	trailing := defaultRulesFor(v1alpha1.SalesWindowTrailing12Months)
	cutoff := utc(2021, time.June, 30, 23, 59, 59)
	ageOut := utc(2026, time.March, 15, 10, 0, 0) // billed 2025-03-15T10:00 + 12 months

	vm := mkOffer("vm", v1alpha1.ListingTypeTransact, liveAt)
	teams := mkOffer("teams-app", v1alpha1.ListingTypeTransact, liveAt, build.Microsoft365("Teams"))
	list := mkOffer("byol", v1alpha1.ListingTypeList, liveAt)

	type args struct {
		rec   v1alpha1.SalesRecord
		offer *v1alpha1.Offer
		rules *Rules
		now   time.Time
	}
	cases := map[string]struct {
		reason string
		args   args
		want   LineVerdict
	}{
		"Counted": {
			reason: "S2/S4: a line in the program's currency counts as is",
			args:   args{mkSale("l", "vm", "1234.56", "USD", now.AddDate(0, -1, 0)), &vm, lifetime, now},
			want: LineVerdict{Counted: true, Reason: v1alpha1.SalesCounted, Settled: true, Publisher: "contoso",
				ProgramAmount: mustMoneyPtr("1234.56"), Fraud: v1alpha1.FraudNone},
		},
		"NotTransact": {
			reason: "S1: a line of a List offer is not counted, and that is final (Settled)",
			args:   args{mkSale("l", "byol", "100", "USD", now.AddDate(0, -1, 0)), &list, lifetime, now},
			want: LineVerdict{Reason: v1alpha1.SalesOfferNotTransact, Settled: true, Publisher: "contoso",
				ProgramAmount: mustMoneyPtr("100"), Fraud: v1alpha1.FraudNone},
		},
		"OfferNotFound": {
			reason: "S1: a line whose offer is missing waits for it: OfferNotFound, not Settled",
			args:   args{mkSale("l", "ghost", "100", "USD", now.AddDate(0, -1, 0)), nil, lifetime, now},
			want:   LineVerdict{Reason: v1alpha1.SalesOfferNotFound, Fraud: v1alpha1.FraudNone},
		},
		"FraudProven": {
			reason: "S3: a line with fraud Proven is not counted",
			args:   args{mkSale("l", "vm", "100", "USD", now.AddDate(0, -1, 0), build.Fraud(v1alpha1.FraudProven)), &vm, lifetime, now},
			want: LineVerdict{Reason: v1alpha1.SalesFraudProven, Settled: true, Publisher: "contoso",
				ProgramAmount: mustMoneyPtr("100"), Fraud: v1alpha1.FraudProven},
		},
		"FraudSuspected": {
			reason: "S3: a line with fraud only Suspected IS counted (it revokes, R3, but still counts)",
			args:   args{mkSale("l", "vm", "100", "USD", now.AddDate(0, -1, 0), build.Fraud(v1alpha1.FraudSuspected)), &vm, lifetime, now},
			want: LineVerdict{Counted: true, Reason: v1alpha1.SalesCounted, Settled: true, Publisher: "contoso",
				ProgramAmount: mustMoneyPtr("100"), Fraud: v1alpha1.FraudSuspected},
		},
		"FraudNoneExplicit": {
			reason: "S3: fraud None counts",
			args:   args{mkSale("l", "vm", "100", "USD", now.AddDate(0, -1, 0), build.Fraud(v1alpha1.FraudNone)), &vm, lifetime, now},
			want: LineVerdict{Counted: true, Reason: v1alpha1.SalesCounted, Settled: true, Publisher: "contoso",
				ProgramAmount: mustMoneyPtr("100"), Fraud: v1alpha1.FraudNone},
		},
		"Cancelled": {
			reason: "S3: a cancelled purchase is not counted",
			args:   args{mkSale("l", "vm", "100", "USD", now.AddDate(0, -1, 0), build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)), &vm, lifetime, now},
			want: LineVerdict{Reason: v1alpha1.SalesCancelled, Settled: true, Publisher: "contoso",
				ProgramAmount: mustMoneyPtr("100"), Fraud: v1alpha1.FraudNone},
		},
		"NoExchangeRate": {
			reason: "S2: a line in a currency without a rate is not counted and waits for a rate (not Settled)",
			args:   args{mkSale("l", "vm", "100000", "JPY", now.AddDate(0, -1, 0)), &vm, lifetime, now},
			want:   LineVerdict{Reason: v1alpha1.SalesNoExchangeRate, Publisher: "contoso", Fraud: v1alpha1.FraudNone},
		},
		"Converted": {
			reason: "S2: a line in a currency with a rate is converted exactly: 1000.01 EUR × 1.08 = 1080.0108 USD",
			args:   args{mkSale("l", "vm", "1000.01", "EUR", now.AddDate(0, -1, 0)), &vm, lifetime, now},
			want: LineVerdict{Counted: true, Reason: v1alpha1.SalesCounted, Settled: true, Publisher: "contoso",
				ProgramAmount: mustMoneyPtr("1080.0108"), Fraud: v1alpha1.FraudNone},
		},
		"ConvertedRounded": {
			reason: "S2: conversion rounds once per line, half to even: 0.000005 GBP × 1.27 = 0.00000635 → 0.000006",
			args:   args{mkSale("l", "vm", "0.000005", "GBP", now.AddDate(0, -1, 0)), &vm, lifetime, now},
			want: LineVerdict{Counted: true, Reason: v1alpha1.SalesCounted, Settled: true, Publisher: "contoso",
				ProgramAmount: mustMoneyPtr("0.000006"), Rounded: true, Fraud: v1alpha1.FraudNone},
		},
		"LifetimeOld": {
			reason: "S4: with Lifetime a line billed years ago still counts and never changes by itself",
			args:   args{mkSale("l", "vm", "100", "USD", utc(2015, time.January, 1, 0, 0, 0)), &vm, lifetime, now},
			want: LineVerdict{Counted: true, Reason: v1alpha1.SalesCounted, Settled: true, Publisher: "contoso",
				ProgramAmount: mustMoneyPtr("100"), Fraud: v1alpha1.FraudNone},
		},
		"TrailingOneNanosecondBefore": {
			reason: "S4: with Trailing12Months a line counts one nanosecond before billedAt + 12 months, and NextChange is that instant",
			args:   args{mkSale("l", "vm", "100", "USD", utc(2025, time.March, 15, 10, 0, 0)), &vm, trailing, ageOut.Add(-time.Nanosecond)},
			want: LineVerdict{Counted: true, Reason: v1alpha1.SalesCounted, Settled: true, Publisher: "contoso",
				ProgramAmount: mustMoneyPtr("100"), Fraud: v1alpha1.FraudNone, NextChange: ptrTo(ageOut)},
		},
		"TrailingAgedOut": {
			reason: "S4: with Trailing12Months a line is not counted at exactly billedAt + 12 months",
			args:   args{mkSale("l", "vm", "100", "USD", utc(2025, time.March, 15, 10, 0, 0)), &vm, trailing, ageOut},
			want: LineVerdict{Reason: v1alpha1.SalesOutsideWindow, Settled: true, Publisher: "contoso",
				ProgramAmount: mustMoneyPtr("100"), Fraud: v1alpha1.FraudNone},
		},
		"FutureBilledAt": {
			reason: "S4: a line billed in the future is not counted yet; NextChange is billedAt",
			args:   args{mkSale("l", "vm", "100", "USD", now.Add(time.Hour)), &vm, lifetime, now},
			want: LineVerdict{Reason: v1alpha1.SalesOutsideWindow, Settled: true, Publisher: "contoso",
				ProgramAmount: mustMoneyPtr("100"), Fraud: v1alpha1.FraudNone, NextChange: ptrTo(now.Add(time.Hour))},
		},
		"SeatsAtCutoff": {
			reason: "S5: seats of a Microsoft 365 app billed at exactly the seats cut-off count",
			args:   args{mkSale("l", "teams-app", "10", "USD", cutoff, build.Seats(500)), &teams, lifetime, now},
			want: LineVerdict{Counted: true, Reason: v1alpha1.SalesCounted, Settled: true, Publisher: "contoso",
				ProgramAmount: mustMoneyPtr("10"), Fraud: v1alpha1.FraudNone, Seats: 500},
		},
		"SeatsAfterCutoff": {
			reason: "S5: seats billed one second after the seats cut-off do not count; the amount still does",
			args:   args{mkSale("l", "teams-app", "10", "USD", cutoff.Add(time.Second), build.Seats(500)), &teams, lifetime, now},
			want: LineVerdict{Counted: true, Reason: v1alpha1.SalesCounted, Settled: true, Publisher: "contoso",
				ProgramAmount: mustMoneyPtr("10"), Fraud: v1alpha1.FraudNone},
		},
		"SeatsNotMicrosoft365": {
			reason: "S5: seats of an offer that is not a Microsoft 365 app do not count",
			args:   args{mkSale("l", "vm", "10", "USD", cutoff.AddDate(0, -1, 0), build.Seats(500)), &vm, lifetime, now},
			want: LineVerdict{Counted: true, Reason: v1alpha1.SalesCounted, Settled: true, Publisher: "contoso",
				ProgramAmount: mustMoneyPtr("10"), Fraud: v1alpha1.FraudNone},
		},
		"SeatsOfExcludedLine": {
			reason: "S3/S5: a cancelled line's seats do not count",
			args:   args{mkSale("l", "teams-app", "10", "USD", cutoff.AddDate(0, -1, 0), build.Seats(500), build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)), &teams, lifetime, now},
			want: LineVerdict{Reason: v1alpha1.SalesCancelled, Settled: true, Publisher: "contoso",
				ProgramAmount: mustMoneyPtr("10"), Fraud: v1alpha1.FraudNone},
		},
		"InvalidAmount": {
			reason: "S2: an amount admission should have refused is excluded, never a crash",
			args:   args{mkSale("l", "vm", "1e5", "USD", now.AddDate(0, -1, 0)), &vm, lifetime, now},
			want:   LineVerdict{Reason: "InvalidAmount", Settled: true, Publisher: "contoso", Fraud: v1alpha1.FraudNone},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := EvaluateLine(&tc.args.rec.Spec, tc.args.offer, tc.args.rules, tc.args.now)
			if got.Message == "" {
				t.Errorf("%s\nEvaluateLine(...) has no message", tc.reason)
			}
			opts := append([]cmp.Option{cmpopts.IgnoreFields(LineVerdict{}, "Message")}, cmpOpts...)
			if diff := cmp.Diff(tc.want, got, opts...); diff != "" {
				t.Errorf("%s\nEvaluateLine(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestEvaluateLineSaysWhenRounded(t *testing.T) {
	now := utc(2026, time.March, 15, 10, 0, 0)
	vm := mkOffer("vm", v1alpha1.ListingTypeTransact, utc(2020, time.January, 1, 0, 0, 0))
	rules := defaultRulesFor(v1alpha1.SalesWindowLifetime)
	rules.Rates["JPY"] = Rate{r: big.NewRat(67, 10000)} // 0.0067
	rules.Rates["CHF"] = Rate{r: big.NewRat(11, 10)}    // 1.1
	billed := now.AddDate(0, -1, 0)

	cases := map[string]struct {
		reason string
		rec    v1alpha1.SalesRecord
		// want is in the Ready message; without it, the message says
		// nothing of rounding.
		want string
	}{
		"TinyAmountRounded": {
			reason: "S2: 0.000001 CHF at 1.1 is 0.0000011 USD, stored as 0.000001: the line says so",
			rec:    mkSale("l", "vm", "0.000001", "CHF", billed),
			want:   "0.000001 CHF at rate 1.1 is 0.0000011 USD exactly, rounded half to even to 6 decimal places: 0.000001 USD",
		},
		"TieRoundedToEven": {
			reason: "S2: 0.000005 GBP at 1.27 is 0.00000635 USD, rounded to 0.000006",
			rec:    mkSale("l", "vm", "0.000005", "GBP", billed),
			want:   "0.000005 GBP at rate 1.27 is 0.00000635 USD exactly, rounded half to even to 6 decimal places: 0.000006 USD",
		},
		"LargeAmountRounded": {
			reason: "S2: 1234.5678 JPY at 0.0067 is 8.27160426 USD, rounded to 8.271604",
			rec:    mkSale("l", "vm", "1234.5678", "JPY", billed),
			want:   "1234.5678 JPY at rate 0.0067 is 8.27160426 USD exactly, rounded half to even to 6 decimal places: 8.271604 USD",
		},
		"ExcludedLineRounded": {
			reason: "S2/S3: a cancelled line still shows its converted amount, and says it was rounded",
			rec:    mkSale("l", "vm", "0.000001", "CHF", billed, build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)),
			want:   "0.000001 CHF at rate 1.1 is 0.0000011 USD exactly, rounded half to even to 6 decimal places: 0.000001 USD",
		},
		"ExactConversion": {
			reason: "S2: 1000.01 EUR at 1.08 is exactly 1080.0108 USD: nothing rounded, nothing said",
			rec:    mkSale("l", "vm", "1000.01", "EUR", billed),
		},
		"ProgramCurrency": {
			reason: "S2: a line in the program currency is never converted",
			rec:    mkSale("l", "vm", "0.000001", "USD", billed),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := EvaluateLine(&tc.rec.Spec, &vm, rules, now)
			if tc.want == "" {
				if got.Rounded || strings.Contains(got.Message, "round") {
					t.Errorf("%s\nEvaluateLine(...) = Rounded %v, message %q; want no rounding", tc.reason, got.Rounded, got.Message)
				}
				return
			}
			if !got.Rounded || !strings.Contains(got.Message, tc.want) {
				t.Errorf("%s\nEvaluateLine(...) = Rounded %v, message %q; want it to contain %q", tc.reason, got.Rounded, got.Message, tc.want)
			}
		})
	}
}
