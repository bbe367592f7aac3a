//go:build scale

package scale

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// day2 is what the operator does once it has converged, with every status
// already written: what a restart, a lost leader and a first start on a
// populated cluster cost it.
type day2 struct {
	workers int
	// settled is what the operator wrote bringing its copy back to right
	// after the last round (whose measures' objects were deleted while
	// no manager ran), before the measures.
	settled int
	// cold: the operator and the floor start together, empty caches,
	// every status present, until each has reconciled every object once.
	cold struct{ operator, floor startup }
	// restart: the converged operator stopped (SIGTERM), a new one started
	// with --leader-elect and a new sales line created at once.
	restart restart
	// failover: two replicas with --leader-elect, the leader killed
	// (SIGKILL) and a new sales line created at once.
	failover failover
}

// startup is a manager's start up to the end of its startup pass: every
// object reconciled at least once, nothing queued, no worker busy (its
// metrics say so).
type startup struct {
	pass    time.Duration // from the process' start to the pass done
	cpu     time.Duration // the process' CPU then
	writes  int           // status writes during the pass
	byKind  map[string]int
	objects int
	rss     int64 // after the pass
	heap    heapSample
}

// restart is a warm restart's figures.
type restart struct {
	// reaction runs from the new line's creation (as the new process
	// started) until the watch sees its publisher's billed sales include
	// it; reactionCPU is the process' CPU then.
	reaction, reactionCPU time.Duration
	startup
	// reactionWrites are the writes to the new line's publisher's own
	// objects (the line, the publisher, its activations): the reaction
	// itself. startup.writes are all the others, which must be 0.
	reactionWrites int
}

// failover is a leader failover's figures, each counted from the SIGKILL.
type failover struct {
	// standbyRSS is the standby's memory while it waited, and standbyCPU
	// the CPU it had used by then (its cache, filled before it leads).
	standbyRSS int64
	standbyCPU time.Duration
	leading    time.Duration // until the standby's metrics report it leads
	reaction   time.Duration // until the new line reaches its publisher's status
	pass       time.Duration // until the new leader's startup pass is done
	cpu        time.Duration // the new leader's CPU from the SIGKILL to its pass done
	writes     int           // status writes other than the reaction's, until the pass is done
	byKind     map[string]int
	// reactionWrites are the writes to the new line's publisher's objects.
	reactionWrites int
}

// day2 measures, on the operator's copy as the last round left it, a
// cold start beside the floor, a warm restart and a leader failover, each
// with workers workers.
func (b *bench) day2(workers int) *day2 {
	d := &day2{workers: workers}
	b.obs.setCheck(sideOperator, byOperator)
	b.obs.setCheck(sideFloor, byFloor)

	// The last round deleted its measures' lines and activations with no
	// operator running: their publishers still count them. A first start
	// puts that right, and is not measured.
	settle, err := b.launch(sideOperator, launchOpts{workers: workers, tag: "settle"})
	if err != nil {
		b.t.Fatal(err)
	}
	if _, err := b.awaitPass(settle, sideOperator, b.passWant(sideOperator)); err != nil {
		settle.stop()
		b.t.Fatal(err)
	}
	settle.stop()
	d.settled, _ = b.obs.writes(sideOperator, nil)
	b.t.Logf("day 2: the operator's copy settled with %d status writes", d.settled)

	d.cold.operator, d.cold.floor = b.coldStart(workers)
	var leader *manager
	d.restart, leader = b.warmRestart(workers)
	d.failover = b.leaderFailover(workers, leader)
	return d
}

// coldStart starts the operator and the floor at the same time, each on
// its copy with every status written and an empty cache, and follows each
// until its startup pass is done; then stops both.
func (b *bench) coldStart(workers int) (op, fl startup) {
	b.obs.resetWrites(sideOperator)
	b.obs.resetWrites(sideFloor)
	managers := map[string]*manager{}
	for _, side := range []string{sideFloor, sideOperator} {
		m, err := b.launch(side, launchOpts{workers: workers, tag: "cold"})
		if err != nil {
			for _, m := range managers {
				m.stop()
			}
			b.t.Fatal(err)
		}
		managers[side] = m
	}
	results := map[string]*startup{sideOperator: &op, sideFloor: &fl}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, side := range []string{sideOperator, sideFloor} {
		m := managers[side]
		wg.Go(func() {
			at, err := b.awaitPass(m, side, b.passWant(side))
			if err != nil {
				errs[i] = err
				return
			}
			s := results[side]
			s.cpu, _ = cpuOf(m.pid())
			s.pass = at.Sub(m.started)
		})
	}
	wg.Wait()
	for side, m := range managers {
		s := results[side]
		s.writes, s.byKind = b.obs.writes(side, nil)
		s.objects, _ = b.obs.counts(side)
		var r run
		b.memory(m, "cold", &r)
		s.rss, s.heap = r.rss, r.heap
		m.stop()
	}
	if err := errors.Join(errs...); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("cold start: operator's pass done in %s (CPU %s, %d writes), floor's in %s (CPU %s, %d writes)",
		op.pass.Round(time.Millisecond), op.cpu, op.writes, fl.pass.Round(time.Millisecond), fl.cpu, fl.writes)
	return op, fl
}

// warmRestart starts the operator with --leader-elect on its converged
// copy, creates a new sales line as it starts, and measures how long until
// the line reaches its publisher's status and until the startup pass is
// done. It returns the operator running, the leader, for the failover.
func (b *bench) warmRestart(workers int) (restart, *manager) {
	var r restart
	b.obs.resetWrites(sideOperator)
	m, err := b.launch(sideOperator, launchOpts{workers: workers, tag: "restart", leaderElect: true})
	if err != nil {
		b.t.Fatal(err)
	}
	ns, pub, created, want := b.newLine("restart")
	r.reaction, r.reactionCPU, err = b.awaitReaction(m, ns, pub, created, want)
	if err != nil {
		m.stop()
		b.t.Fatal(err)
	}
	at, err := b.awaitPass(m, sideOperator, b.passWant(sideOperator))
	if err != nil {
		m.stop()
		b.t.Fatal(err)
	}
	r.pass = at.Sub(m.started)
	r.cpu, _ = cpuOf(m.pid())
	mine := ownedBy(ns, pub)
	r.writes, r.byKind = b.obs.writes(sideOperator, mine)
	all, _ := b.obs.writes(sideOperator, nil)
	r.reactionWrites = all - r.writes
	r.objects, _ = b.obs.counts(sideOperator)
	var mem run
	b.memory(m, "restart", &mem)
	r.rss, r.heap = mem.rss, mem.heap
	b.t.Logf("warm restart: the new line reached %s/%s %s after it was created (CPU %s); pass done in %s (CPU %s); "+
		"%d writes besides the line's publisher's %d: %v", ns, pub, r.reaction.Round(time.Millisecond), r.reactionCPU,
		r.pass.Round(time.Millisecond), r.cpu, r.writes, r.reactionWrites, r.byKind)
	return r, m
}

// leaderFailover starts a standby beside the leader the warm restart left,
// waits until the standby has filled what it fills before leading, kills
// the leader with SIGKILL, creates a new sales line at once, and measures
// until the standby leads, the line reaches its publisher's status, and
// the new leader's startup pass is done.
func (b *bench) leaderFailover(workers int, leader *manager) failover {
	var f failover
	defer leader.stop()
	if ok, err := leads(b.ctx, leader); err != nil || !ok {
		b.t.Fatalf("failover: the restarted operator is not the leader (%v)", err)
	}
	standby, err := b.launch(sideOperator, launchOpts{workers: workers, tag: "failover", name: "operator-standby", leaderElect: true})
	if err != nil {
		b.t.Fatal(err)
	}
	defer standby.stop()
	if err := b.awaitQuiet(standby, 5*time.Second, 15*time.Minute); err != nil {
		b.t.Logf("failover: %v; killing the leader anyway", err)
	}
	if ok, err := leads(b.ctx, standby); err != nil || ok {
		b.t.Fatalf("failover: the standby leads (%v) before the leader is killed", err)
	}
	f.standbyRSS, _ = rssOf(standby.pid())
	f.standbyCPU, _ = cpuOf(standby.pid())

	b.obs.resetWrites(sideOperator)
	cpu0 := f.standbyCPU
	killed := leader.kill()
	b.t.Logf("failover: leader killed (SIGKILL)")
	ns, pub, _, want := b.newLine("failover")
	// The standby's metrics say when it leads: polled, every 100 ms.
	for {
		ok, err := leads(b.ctx, standby)
		if err == nil && ok {
			f.leading = time.Since(killed)
			break
		}
		if err := standby.exited(); err != nil {
			b.t.Fatalf("failover: the standby %v (log: %s)", err, standby.log.Name())
		}
		if time.Since(killed) > 10*time.Minute {
			b.t.Fatalf("failover: the standby does not lead 10 minutes after the leader was killed (%v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var reactionCPU time.Duration
	f.reaction, reactionCPU, err = b.awaitReaction(standby, ns, pub, killed, want)
	if err != nil {
		b.t.Fatal(err)
	}
	at, err := b.awaitPass(standby, sideOperator, b.passWant(sideOperator))
	if err != nil {
		b.t.Fatal(err)
	}
	f.pass = at.Sub(killed)
	cpu1, _ := cpuOf(standby.pid())
	f.cpu = cpu1 - cpu0
	mine := ownedBy(ns, pub)
	f.writes, f.byKind = b.obs.writes(sideOperator, mine)
	all, _ := b.obs.writes(sideOperator, nil)
	f.reactionWrites = all - f.writes
	b.t.Logf("failover: the standby led %s after the SIGKILL; the new line reached %s/%s after %s (new leader's CPU since the kill %s); "+
		"pass done after %s (CPU %s); %d writes besides the line's publisher's %d: %v", f.leading.Round(time.Millisecond), ns, pub,
		f.reaction.Round(time.Millisecond), reactionCPU-cpu0, f.pass.Round(time.Millisecond), f.cpu, f.writes, f.reactionWrites, f.byKind)
	return f
}

// newLine creates a sales line of 1,000 USD on a random ordinary
// publisher's Transact offer, named after the publisher (ownedBy counts
// it among the publisher's objects), and returns where, when, and the
// billed sales its publisher's status must then show.
func (b *bench) newLine(what string) (ns, pub string, created time.Time, want *big.Rat) {
	i := b.rng.IntN(b.op.publishers)
	ns, pub = b.op.namespaceOf(i), publisherName(i)
	s := b.obs.get(key("Publisher", ns, pub))
	want = new(big.Rat).Add(money(s.billedSales), big.NewRat(1000, 1))
	rec := build.SalesRecord(ns, pub+"-day2-"+what, offerName(i, 0), "1000", "USD", time.Now().Add(-time.Hour))
	rec.Labels = map[string]string{extraLabel: "true"}
	created = time.Now()
	if err := b.c.Create(b.ctx, rec); err != nil {
		b.t.Fatal(err)
	}
	return ns, pub, created, want
}

// awaitReaction waits until the publisher's billed sales are want, and
// returns how long after since the watch saw it, and m's CPU then.
func (b *bench) awaitReaction(m *manager, ns, pub string, since time.Time, want *big.Rat) (time.Duration, time.Duration, error) {
	at, err := b.obs.waitFor(b.ctx, 30*time.Minute, key("Publisher", ns, pub), func(s *summary) bool {
		return s != nil && money(s.billedSales).Cmp(want) == 0
	})
	cpu, _ := cpuOf(m.pid())
	if err != nil {
		return 0, 0, fmt.Errorf("%s: billed sales of %s/%s never reached %s: %w (log: %s)", m.name, ns, pub, want.FloatString(2), err, m.log.Name())
	}
	return at.Sub(since), cpu, nil
}

// ownedBy holds the keys of a publisher's own objects: its offers, lines
// and activations are named after it.
func ownedBy(ns, pub string) func(string) bool {
	return func(k string) bool {
		_, rest, _ := strings.Cut(k, "/")
		return strings.HasPrefix(rest, ns+"/"+pub)
	}
}

// passWant is, for each controller of a side's manager, how many objects
// its startup pass reconciles: one per object of its kind.
func (b *bench) passWant(side string) map[string]int {
	_, byKind := b.obs.counts(side)
	want := map[string]int{}
	for kind, n := range byKind {
		want[strings.ToLower(kind)] = n
	}
	return want
}

// awaitPass polls m's metrics until its startup pass is done (passDone)
// and returns when it first saw it so.
func (b *bench) awaitPass(m *manager, side string, want map[string]int) (time.Time, error) {
	if m.metrics == "" {
		return time.Time{}, fmt.Errorf("%s: no metrics endpoint to follow its startup pass", m.name)
	}
	deadline := time.Now().Add(*flagTimeout)
	lastLog := time.Now()
	for {
		families, err := m.scrape(b.ctx)
		left := fmt.Sprint(err)
		if err == nil {
			var done bool
			if done, left = passDone(families, want); done {
				return time.Now(), nil
			}
		}
		if err := m.exited(); err != nil {
			return time.Time{}, fmt.Errorf("%s: %w (log: %s)", m.name, err, m.log.Name())
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%s: startup pass not done after %s: %s", m.name, *flagTimeout, left)
		}
		if time.Since(lastLog) > 30*time.Second {
			b.t.Logf("%s (%s): startup pass after %s: %s", m.name, side, time.Since(m.started).Round(time.Second), left)
			lastLog = time.Now()
		}
		select {
		case <-b.ctx.Done():
			return time.Time{}, b.ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// awaitQuiet waits until m has used less than 1% of a core over window:
// a standby has then filled its cache (which shows nowhere else: it has
// no queue yet). It gives up after limit.
func (b *bench) awaitQuiet(m *manager, window, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	prev, _ := cpuOf(m.pid())
	for {
		select {
		case <-b.ctx.Done():
			return b.ctx.Err()
		case <-time.After(window):
		}
		if err := m.exited(); err != nil {
			return fmt.Errorf("%s: %w (log: %s)", m.name, err, m.log.Name())
		}
		cpu, _ := cpuOf(m.pid())
		if used := cpu - prev; used < window/100 {
			b.t.Logf("%s: quiet after %s (CPU %s, %s in the last %s)", m.name, time.Since(m.started).Round(time.Second), cpu, used, window)
			return nil
		}
		prev = cpu
		if time.Now().After(deadline) {
			return fmt.Errorf("%s still busy after %s", m.name, limit)
		}
	}
}

// leads reads from m's metrics whether it holds its leader-election Lease.
func leads(ctx context.Context, m *manager) (bool, error) {
	families, err := m.scrape(ctx)
	if err != nil {
		return false, err
	}
	return leading(families), nil
}

// kill ends the process with SIGKILL, as a lost node or an OOM kill would,
// and returns when it has exited.
func (p *process) kill() time.Time {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	at := time.Now()
	<-p.done
	return at
}
