//go:build scale

package scale

import (
	"testing"
	"time"
)

// Rounds of the same worker count are named apart and summed up by the
// median of their ratios; a worker count run once is not.
func TestRepeatedRounds(t *testing.T) {
	at := func(workers, repeat int, op, floor time.Duration) round {
		r := round{workers: workers, repeat: repeat}
		r.operator.wall, r.operator.cpu.proc = op, op
		r.floor.wall, r.floor.cpu.proc = floor, floor
		r.operator.cpu.apiserver, r.floor.cpu.apiserver = 2*op, floor+op
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
	got := repeatedRatios(rounds)
	want := "\nW=4 over 3 rounds, operator / floor: convergence wall median 1.10× (1.05–1.50×); manager CPU to converge median 1.10× (1.05–1.50×); " +
		"kube-apiserver CPU during convergence median 1.05× (1.02–1.20×).\n"
	if got != want {
		t.Errorf("repeatedRatios:\n got %q\nwant %q", got, want)
	}
	if got := repeatedRatios(rounds[:2]); got != "" {
		t.Errorf("rounds run once: %q, want nothing", got)
	}
}
