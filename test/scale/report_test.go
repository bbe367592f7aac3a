//go:build scale

package scale

import (
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report renders the rounds as one Markdown table: per round, the
// operator, the floor, and operator/floor where both have a figure; the
// control plane's figures, which both shared, once. Then the day-2
// measures, if run.
func (b *bench) report(rounds []round, d2 *day2, machineBefore string, objects int, byKind map[string]int, setup time.Duration) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Scale benchmark: P=%d publishers, two copies of %d objects (%d RewardsProgram, shared, %d Publisher, %d Offer, %d SalesRecord, "+
		"%d BenefitActivation; the big publisher has %d sales lines), the operator's and the %[10]s's, created in %[9]s. "+
		"The operator and the %[10]s converge their copies at the same time.\n\n",
		b.op.publishers, objects, byKind["RewardsProgram"], byKind["Publisher"], byKind["Offer"], byKind["SalesRecord"],
		byKind["BenefitActivation"], b.op.bigRecords, setup.Round(time.Second), b.other())
	if b.baseline() {
		fmt.Fprintf(&sb, "Baseline: the operator built from %s.\n\n", *flagBaseline)
	}
	fmt.Fprintf(&sb, "Machine: %s at start, load average %s at end.\n\n", machineBefore, loadavg())

	header := make([]string, 0, 1+3*len(rounds))
	header = append(header, "measure")
	for _, r := range rounds {
		label := fmt.Sprintf("W=%d", r.workers)
		if r.repeat > 1 {
			label += fmt.Sprintf(" (round %d)", r.repeat)
		}
		header = append(header, "operator, "+label, b.other()+", "+label, "operator / "+b.other())
	}
	t := newTable(header)
	// row adds a measure: op and floor give each round's cells ("" for
	// none); ratio, when set, gives the third cell.
	row := func(name string, op, floor func(r round) string, ratio func(r round) string) {
		cells := make([]string, 0, 1+3*len(rounds))
		cells = append(cells, name)
		for _, r := range rounds {
			cells = append(cells, orDash(op(r)), orDash(floor(r)), orDash(ratio(r)))
		}
		t.add(cells...)
	}
	none := func(round) string { return "" }
	// shared fills the operator's cell with a figure of the round as a
	// whole, the floor's with "shared".
	shared := func(name string, of func(r round) string) {
		row(name, of, func(round) string { return "shared" }, none)
	}
	cores := float64(runtime.NumCPU())

	row("convergence wall (process start to last object)",
		func(r round) string { return secs(r.operator.wall) }, func(r round) string { return secs(r.floor.wall) },
		func(r round) string { return ratio(r.operator.wall.Seconds(), r.floor.wall.Seconds()) })
	row("manager CPU to converge (utime+stime)",
		func(r round) string { return secs(r.operator.cpu.proc) }, func(r round) string { return secs(r.floor.cpu.proc) },
		func(r round) string { return ratio(r.operator.cpu.proc.Seconds(), r.floor.cpu.proc.Seconds()) })
	row("manager CPU per object",
		func(r round) string { return perObject(r.operator.cpu.proc, r.operator.objects) },
		func(r round) string { return perObject(r.floor.cpu.proc, r.floor.objects) }, none)
	shared("both converged (first start to last object)", func(r round) string { return secs(r.sharedWall) })
	shared("kube-apiserver CPU until both converged", func(r round) string { return secs(r.shared.apiserver) })
	shared("etcd CPU until both converged", func(r round) string { return secs(r.shared.etcd) })
	shared("cores busy until both converged (both managers + apiserver + etcd)", func(r round) string {
		if r.sharedWall == 0 {
			return ""
		}
		c := (r.operator.cpu.proc + r.floor.cpu.proc + r.shared.apiserver + r.shared.etcd).Seconds() / r.sharedWall.Seconds()
		return fmt.Sprintf("%.2f of %.0f cores", c, cores)
	})
	shared("load average (1, 5, 15 min) at the start, when both converged", func(r round) string {
		return r.loadStart + "; " + r.loadConverged
	})
	row("status writes per object (MODIFIED events / objects)",
		func(r round) string { return writesPerObject(r.operator) }, func(r round) string { return writesPerObject(r.floor) }, none)
	row(fmt.Sprintf("writes in the %s idle window after convergence (the %s stopped)", *flagIdle, b.other()),
		func(r round) string {
			return fmt.Sprintf("%d (CPU %s)", r.operator.idleWrites, secs(r.operator.idleCPU))
		}, none, none)
	row(fmt.Sprintf("new sales line reaching an ordinary publisher's status, p50 / p99 (%d lines)", *flagSamples),
		func(r round) string { return p50p99(r.operator.ordinary.p50, r.operator.ordinary.p99) }, none, none)
	if b.op.bigRecords > 0 {
		row(fmt.Sprintf("new sales line reaching the big publisher's status (%d lines), p50 / p99", b.op.bigRecords),
			func(r round) string { return p50p99(r.operator.big.p50, r.operator.big.p99) }, none, none)
		row("big / ordinary: latency p50, CPU per line",
			func(r round) string {
				return fmt.Sprintf("%s, %s", ratio(r.operator.big.p50.Seconds(), r.operator.ordinary.p50.Seconds()),
					ratio(r.operator.big.cpuPerRecord.Seconds(), r.operator.ordinary.cpuPerRecord.Seconds()))
			}, none, none)
	}
	row("operator CPU per ingested line, ordinary / big publisher",
		func(r round) string {
			return ms(r.operator.ordinary.cpuPerRecord) + " / " + ms(r.operator.big.cpuPerRecord)
		}, none, none)
	row(fmt.Sprintf("expiry lateness, p50 / p99 (%d activations expiring within 30 s)", *flagExpiries),
		func(r round) string { return p50p99(r.operator.expiryP50, r.operator.expiryP99) }, none, none)
	row("RSS after convergence (VmRSS)",
		func(r round) string { return mib(r.operator.rss) }, func(r round) string { return mib(r.floor.rss) },
		func(r round) string { return ratio(float64(r.operator.rss), float64(r.floor.rss)) })
	row("RSS per cached object (the operator's: its copy's five kinds and BenefitGrants)",
		func(r round) string { return perCached(r.operator.rss, r.operator.cached) },
		func(r round) string { return perCached(r.floor.rss, r.floor.cached) },
		func(r round) string {
			return ratio(perCachedValue(r.operator.rss, r.operator.cached), perCachedValue(r.floor.rss, r.floor.cached))
		})
	// After the idle window the runtime has returned to the system the
	// memory the convergence's garbage took (its scavenger works in the
	// background): what a running operator holds.
	row(fmt.Sprintf("operator RSS after the %s idle window, per cached object", *flagIdle),
		func(r round) string {
			if r.operator.cached == 0 || r.operator.idleRSS == 0 {
				return ""
			}
			return fmt.Sprintf("%.0f MiB, %d bytes", float64(r.operator.idleRSS)/(1<<20), r.operator.idleRSS/int64(r.operator.cached))
		}, none, none)
	// The Go heap, scraped from the managers' metrics endpoints: RSS less
	// heap in use is the process' fixed cost (runtime, binary, stacks) and
	// the GC's headroom; heap in use less allocated, fragmentation.
	row("Go heap in use after convergence (go_memstats_heap_inuse_bytes)",
		func(r round) string { return mib(r.operator.heap.inuse) }, func(r round) string { return mib(r.floor.heap.inuse) },
		func(r round) string { return ratio(float64(r.operator.heap.inuse), float64(r.floor.heap.inuse)) })
	row("Go heap allocated after convergence (go_memstats_heap_alloc_bytes)",
		func(r round) string { return mib(r.operator.heap.alloc) }, func(r round) string { return mib(r.floor.heap.alloc) }, none)
	row("Go heap in use per cached object",
		func(r round) string { return perCached(r.operator.heap.inuse, r.operator.cached) },
		func(r round) string { return perCached(r.floor.heap.inuse, r.floor.cached) },
		func(r round) string {
			return ratio(perCachedValue(r.operator.heap.inuse, r.operator.cached), perCachedValue(r.floor.heap.inuse, r.floor.cached))
		})

	sb.WriteString(t.String())
	sb.WriteString(repeatedRatios(rounds, b.other()))
	if d2 != nil {
		sb.WriteString("\n")
		sb.WriteString(d2.report(b.op.publishers))
	}
	return sb.String()
}

// table is a Markdown table.
type table struct{ rows [][]string }

func newTable(header []string) *table {
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---"
	}
	return &table{rows: [][]string{header, sep}}
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) String() string {
	var sb strings.Builder
	for _, cells := range t.rows {
		sb.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return sb.String()
}

// report renders the day-2 measures as a Markdown table.
func (d *day2) report(publishers int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "After convergence, every status written: P=%d, W=%d; the operator's copy settled first with %d status writes "+
		"(the last round's measures deleted their lines with no operator running).\n\n", publishers, d.workers, d.settled)
	t := newTable([]string{"measure", "operator", "floor", "operator / floor"})
	op, fl := d.cold.operator, d.cold.floor
	t.add("cold start (empty cache, the floor beside it): process start to every object reconciled once, queues empty",
		secs(op.pass), secs(fl.pass), orDash(ratio(op.pass.Seconds(), fl.pass.Seconds())))
	t.add("cold start: CPU of that pass", secs(op.cpu), secs(fl.cpu), orDash(ratio(op.cpu.Seconds(), fl.cpu.Seconds())))
	t.add("cold start: CPU per object", orDash(perObject(op.cpu, op.objects)), orDash(perObject(fl.cpu, fl.objects)), "—")
	t.add("cold start: status writes", writesByKind(op.writes, op.byKind), writesByKind(fl.writes, fl.byKind), "—")
	t.add("cold start: RSS after the pass, per object", rssPer(op.rss, op.objects), rssPer(fl.rss, fl.objects),
		orDash(ratio(float64(op.rss), float64(fl.rss))))
	r := d.restart
	t.add("warm restart (SIGTERM, a new process with --leader-elect, a new sales line created as it starts): the line reaches its publisher's status",
		fmt.Sprintf("%s (CPU %s)", secs(r.reaction), secs(r.reactionCPU)), "—", "—")
	t.add("warm restart: process start to every object reconciled once", fmt.Sprintf("%s (CPU %s)", secs(r.pass), secs(r.cpu)), "—", "—")
	t.add("warm restart: status writes besides the new line's publisher's objects (theirs)",
		fmt.Sprintf("%s (%d)", writesByKind(r.writes, r.byKind), r.reactionWrites), "—", "—")
	f := d.failover
	t.add("leader failover (two replicas, the leader killed with SIGKILL, a new sales line created at once): the standby leads",
		secs(f.leading), "—", "—")
	t.add("failover: the new line reaches its publisher's status (from the SIGKILL)", secs(f.reaction), "—", "—")
	t.add("failover: the new leader has reconciled every object once (from the SIGKILL), its CPU since",
		fmt.Sprintf("%s (CPU %s)", secs(f.pass), secs(f.cpu)), "—", "—")
	t.add("failover: status writes besides the new line's publisher's objects (theirs)",
		fmt.Sprintf("%s (%d)", writesByKind(f.writes, f.byKind), f.reactionWrites), "—", "—")
	t.add("failover: the standby before the SIGKILL, RSS and CPU used", fmt.Sprintf("%s, CPU %s", mib(f.standbyRSS), secs(f.standbyCPU)), "—", "—")
	sb.WriteString(t.String())
	return sb.String()
}

// repeatedRatios sums up, for each worker count run in more than one round
// (-rounds, or -workers "4 4 4"), the ratios of the operator to other
// (the floor, or a baseline operator) over its rounds: their median, their
// range, and the spread, the farthest a round's ratio lies from the median
// (as a share of it). The operator and the other run at the same time, so
// a change of the machine's speed hits both: what is left in the spread is
// what the benchmark cannot tell apart from a change in the operator.
func repeatedRatios(rounds []round, other string) string {
	byWorkers := map[int][]round{}
	var order []int
	for _, r := range rounds {
		if byWorkers[r.workers] == nil {
			order = append(order, r.workers)
		}
		byWorkers[r.workers] = append(byWorkers[r.workers], r)
	}
	var sb strings.Builder
	for _, w := range order {
		rs := byWorkers[w]
		if len(rs) < 2 {
			continue
		}
		summary := func(what string, of func(x run) float64) string {
			ratios := make([]float64, 0, len(rs))
			for _, r := range rs {
				if f := of(r.floor); f > 0 {
					ratios = append(ratios, of(r.operator)/f)
				}
			}
			if len(ratios) == 0 {
				return ""
			}
			slices.Sort(ratios)
			return fmt.Sprintf("%s median %.2f× (%.2f–%.2f×, spread ±%.1f%%)", what, median(ratios), ratios[0], ratios[len(ratios)-1],
				100*spread(ratios))
		}
		parts := []string{
			summary("manager CPU to converge", func(x run) float64 { return x.cpu.proc.Seconds() }),
			summary("convergence wall", func(x run) float64 { return x.wall.Seconds() }),
			summary("RSS per cached object", func(x run) float64 { return perCachedValue(x.rss, x.cached) }),
		}
		parts = slices.DeleteFunc(parts, func(s string) bool { return s == "" })
		fmt.Fprintf(&sb, "\nW=%d over %d rounds, operator / %s side by side: %s.\n", w, len(rs), other, strings.Join(parts, "; "))
	}
	return sb.String()
}

// spread is the farthest a value lies from the median of sorted, as a
// share of the median.
func spread(sorted []float64) float64 {
	m := median(sorted)
	if m == 0 {
		return 0
	}
	return max(m-sorted[0], sorted[len(sorted)-1]-m) / m
}

// median of sorted values.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// mib renders bytes in MiB, "" for 0 (not measured).
func mib(b int64) string {
	if b == 0 {
		return ""
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func p50p99(p50, p99 time.Duration) string { return ms(p50) + " / " + ms(p99) }

func perObject(cpu time.Duration, objects int) string {
	if objects == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f ms", float64(cpu)/float64(time.Millisecond)/float64(objects))
}

func ratio(a, b float64) string {
	if b == 0 || a == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// perCachedValue is bytes per cached object, 0 when either is unknown.
func perCachedValue(bytes int64, cached int) float64 {
	if bytes == 0 || cached == 0 {
		return 0
	}
	return float64(bytes) / float64(cached)
}

func perCached(bytes int64, cached int) string {
	if bytes == 0 || cached == 0 {
		return ""
	}
	return fmt.Sprintf("%d bytes (%d objects)", bytes/int64(cached), cached)
}

func rssPer(rss int64, objects int) string {
	if rss == 0 || objects == 0 {
		return "—"
	}
	return fmt.Sprintf("%s, %d bytes", mib(rss), rss/int64(objects))
}

// writesByKind renders a count of writes and, if any, their kinds.
func writesByKind(n int, byKind map[string]int) string {
	if n == 0 {
		return "0"
	}
	kinds := slices.Sorted(maps.Keys(byKind))
	parts := make([]string, 0, len(kinds))
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s %d", k, byKind[k]))
	}
	return fmt.Sprintf("%d (%s)", n, strings.Join(parts, ", "))
}

func writesPerObject(r run) string {
	if r.objects == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f (%d)", float64(r.writes)/float64(r.objects), r.writes)
}
