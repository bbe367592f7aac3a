//go:build scale

package scale

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report renders the rounds as one Markdown table: per worker count, the
// operator, the floor, and operator/floor where both have a figure.
func (b *bench) report(rounds []round, machineBefore string, objects int, byKind map[string]int, setup time.Duration) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Scale benchmark: P=%d publishers, %d objects (%d RewardsProgram, %d Publisher, %d Offer, %d SalesRecord, %d BenefitActivation; "+
		"the big publisher has %d sales lines), created in %s.\n\n",
		b.data.publishers, objects, byKind["RewardsProgram"], byKind["Publisher"], byKind["Offer"], byKind["SalesRecord"],
		byKind["BenefitActivation"], *flagBig, setup.Round(time.Second))
	fmt.Fprintf(&sb, "Machine: %s at start, %s at end.\n\n", machineBefore, loadavg())

	header := make([]string, 0, 1+3*len(rounds))
	header = append(header, "measure")
	for _, r := range rounds {
		label := fmt.Sprintf("W=%d", r.workers)
		if r.repeat > 1 {
			label += fmt.Sprintf(" (round %d)", r.repeat)
		}
		header = append(header, "operator, "+label, "floor, "+label, "operator / floor")
	}
	rows := [][]string{header, make([]string, len(header))}
	for i := range rows[1] {
		rows[1][i] = "---"
	}
	// row adds a measure: op and floor give each round's cells ("" for
	// none); ratio, when set, gives the third cell.
	row := func(name string, op, floor func(r round) string, ratio func(r round) string) {
		cells := make([]string, 0, 1+3*len(rounds))
		cells = append(cells, name)
		for _, r := range rounds {
			cells = append(cells, orDash(op(r)), orDash(floor(r)), orDash(ratio(r)))
		}
		rows = append(rows, cells)
	}
	none := func(round) string { return "" }
	ratio := func(a, b float64) string {
		if b == 0 {
			return ""
		}
		return fmt.Sprintf("%.2f×", a/b)
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
	row("kube-apiserver CPU during convergence",
		func(r round) string { return secs(r.operator.cpu.apiserver) }, func(r round) string { return secs(r.floor.cpu.apiserver) },
		func(r round) string {
			return ratio(r.operator.cpu.apiserver.Seconds(), r.floor.cpu.apiserver.Seconds())
		})
	row("etcd CPU during convergence",
		func(r round) string { return secs(r.operator.cpu.etcd) }, func(r round) string { return secs(r.floor.cpu.etcd) },
		func(r round) string { return ratio(r.operator.cpu.etcd.Seconds(), r.floor.cpu.etcd.Seconds()) })
	busy := func(x run) string {
		c := (x.cpu.proc + x.cpu.apiserver + x.cpu.etcd).Seconds() / x.wall.Seconds()
		return fmt.Sprintf("%.2f of %.0f cores", c, cores)
	}
	row("cores busy during convergence (manager + apiserver + etcd)",
		func(r round) string { return busy(r.operator) }, func(r round) string { return busy(r.floor) }, none)
	row("status writes per object (MODIFIED events / objects)",
		func(r round) string { return writesPerObject(r.operator) }, func(r round) string { return writesPerObject(r.floor) }, none)
	row(fmt.Sprintf("writes in the %s idle window after convergence", *flagIdle),
		func(r round) string {
			return fmt.Sprintf("%d (CPU %s)", r.operator.idleWrites, secs(r.operator.idleCPU))
		}, none, none)
	row(fmt.Sprintf("new sales line reaching an ordinary publisher's status, p50 / p99 (%d lines)", *flagSamples),
		func(r round) string { return p50p99(r.operator.ordinary.p50, r.operator.ordinary.p99) }, none, none)
	if *flagBig > 0 {
		row(fmt.Sprintf("new sales line reaching the big publisher's status (%d lines), p50 / p99", *flagBig),
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
	row("operator RSS after convergence (VmRSS)",
		func(r round) string { return fmt.Sprintf("%.0f MiB", float64(r.operator.rss)/(1<<20)) }, none, none)
	row("RSS per cached object (the five kinds and BenefitGrants)",
		func(r round) string {
			if r.operator.cached == 0 {
				return ""
			}
			return fmt.Sprintf("%d bytes (%d objects)", r.operator.rss/int64(r.operator.cached), r.operator.cached)
		}, none, none)
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
	// The Go heap, scraped from the operator's metrics endpoint: RSS less
	// heap in use is the process' fixed cost (runtime, binary, stacks) and
	// the GC's headroom; heap in use less allocated, fragmentation.
	row("operator Go heap in use after convergence (go_memstats_heap_inuse_bytes)",
		func(r round) string { return mib(r.operator.heap.inuse) }, none, none)
	row("operator Go heap allocated after convergence (go_memstats_heap_alloc_bytes)",
		func(r round) string { return mib(r.operator.heap.alloc) }, none, none)
	row("Go heap in use per cached object (the five kinds and BenefitGrants)",
		func(r round) string {
			if r.operator.cached == 0 || r.operator.heap.inuse == 0 {
				return ""
			}
			return fmt.Sprintf("%d bytes (%d objects)", r.operator.heap.inuse/int64(r.operator.cached), r.operator.cached)
		}, none, none)

	for _, cells := range rows {
		sb.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	sb.WriteString(repeatedRatios(rounds))
	return sb.String()
}

// repeatedRatios sums up, for each worker count run in more than one round
// (-workers "4 4 4"), the operator/floor ratios of wall and CPU over its
// rounds: the operator and the floor run one after the other, so a change
// of the machine's load between them moves one round's ratio, and the
// median of several says more. The API server's CPU ratio is given too,
// as a gauge of how much the machine moved.
func repeatedRatios(rounds []round) string {
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
		spread := func(what string, of func(x run) time.Duration) string {
			ratios := make([]float64, 0, len(rs))
			for _, r := range rs {
				if f := of(r.floor); f > 0 {
					ratios = append(ratios, of(r.operator).Seconds()/f.Seconds())
				}
			}
			if len(ratios) == 0 {
				return ""
			}
			slices.Sort(ratios)
			return fmt.Sprintf("%s median %.2f× (%.2f–%.2f×)", what, median(ratios), ratios[0], ratios[len(ratios)-1])
		}
		// The API server does about the same work in both phases: its
		// ratio moving away from 1 shows the machine's speed changing
		// between them, which moves the manager's ratio with it.
		fmt.Fprintf(&sb, "\nW=%d over %d rounds, operator / floor: %s; %s; %s.\n", w, len(rs),
			spread("convergence wall", func(x run) time.Duration { return x.wall }),
			spread("manager CPU to converge", func(x run) time.Duration { return x.cpu.proc }),
			spread("kube-apiserver CPU during convergence", func(x run) time.Duration { return x.cpu.apiserver }))
	}
	return sb.String()
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

func writesPerObject(r run) string {
	if r.objects == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f (%d)", float64(r.writes)/float64(r.objects), r.writes)
}
