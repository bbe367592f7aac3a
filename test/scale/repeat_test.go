//go:build scale

package scale

import (
	"testing"
	"time"
)

// Rounds of the same worker count are named apart and summed up by the
// median of their ratios, their range and their spread around the median;
// a worker count run once is not.
func TestRepeatedRounds(t *testing.T) {
	at := func(workers, repeat int, op, floor time.Duration) round {
		r := round{workers: workers, repeat: repeat}
		r.operator.wall, r.operator.cpu.proc = 2*op, op
		r.floor.wall, r.floor.cpu.proc = 2*floor, floor
		r.operator.rss, r.operator.cached = 4000*1000, 1000
		r.floor.rss, r.floor.cached = 2000*900, 900
		return r
	}
	rounds := []round{
		at(4, 1, 110*time.Second, 100*time.Second),
		at(1, 1, 300*time.Second, 100*time.Second),
		at(4, 2, 150*time.Second, 100*time.Second),
		at(4, 3, 105*time.Second, 100*time.Second),
	}
	if got, want := rounds[0].tag()+" "+rounds[2].tag(), "w4 w4-2"; got != want {
		t.Errorf("tags %q, want %q", got, want)
	}
	got := repeatedRatios(rounds, "floor")
	// 1.50 lies 0.40 above the median 1.10: ±36.4%. RSS per object:
	// 4000 against 2000 bytes in every round.
	want := "\nW=4 over 3 rounds, operator / floor side by side: manager CPU to converge median 1.10× (1.05–1.50×, spread ±36.4%); " +
		"convergence wall median 1.10× (1.05–1.50×, spread ±36.4%); RSS per cached object median 2.00× (2.00–2.00×, spread ±0.0%).\n"
	if got != want {
		t.Errorf("repeatedRatios:\n got %q\nwant %q", got, want)
	}
	if got := repeatedRatios(rounds[:2], "floor"); got != "" {
		t.Errorf("rounds run once: %q, want nothing", got)
	}
	// A measure with no floor figure (the floor's RSS not read) is left
	// out rather than divided by zero.
	noRSS := []round{at(4, 1, 110*time.Second, 100*time.Second), at(4, 2, 90*time.Second, 100*time.Second)}
	for i := range noRSS {
		noRSS[i].floor.rss = 0
	}
	want = "\nW=4 over 2 rounds, operator / floor side by side: manager CPU to converge median 1.00× (0.90–1.10×, spread ±10.0%); " +
		"convergence wall median 1.00× (0.90–1.10×, spread ±10.0%).\n"
	if got := repeatedRatios(noRSS, "floor"); got != want {
		t.Errorf("repeatedRatios without the floor's RSS:\n got %q\nwant %q", got, want)
	}
}

// The spread is the farthest value from the median, on either side, as a
// share of the median.
func TestSpread(t *testing.T) {
	for _, c := range []struct {
		sorted []float64
		want   float64
	}{
		{[]float64{1}, 0},
		{[]float64{0.9, 1.0, 1.05}, 0.1},
		{[]float64{1.0, 1.0, 1.2}, 0.2},
		{[]float64{0.8, 1.0, 1.1, 1.2}, 0.25 / 1.05},
		{[]float64{0, 0}, 0},
	} {
		if got := spread(c.sorted); got < c.want-1e-9 || got > c.want+1e-9 {
			t.Errorf("spread(%v) = %v, want %v", c.sorted, got, c.want)
		}
	}
}
