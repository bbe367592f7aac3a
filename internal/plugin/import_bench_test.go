package plugin_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/plugin"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

var (
	benchImportRows     = flag.Int("import-rows", 20_000, "BenchmarkImportSales: lines in the file")
	benchImportParallel = flag.Int("import-parallel", 0, "BenchmarkImportSales: --parallel (0: the plugin's default)")
)

// BenchmarkImportSales imports a file of -import-rows new billing lines into
// an API server of its own (envtest, no operator), as a user would run
// it: the plugin's own client settings (no client-side rate limit) and
// --parallel. It reports rows/s of the import, then imports the same file
// again and fails unless that finds every line unchanged and writes
// nothing. make bench-import runs it.
//
// rows/s depends on what else the machine runs; on Linux it also reports
// the CPU the import cost, in the plugin (this process) and in
// kube-apiserver and etcd (its child processes), per row, and the rows/s
// two cores would sustain at that cost (cpu-bound-rows/s-2-cores): the
// figure to compare across machines and runs.
func BenchmarkImportSales(b *testing.B) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		b.Skip("needs kube-apiserver and etcd: run `make bench-import`")
	}
	c, kubeconfig, file := startImportBench(b)
	billed := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	args := []string{"--kubeconfig", kubeconfig, "import", "sales", file}
	if *benchImportParallel > 0 {
		args = append(args, fmt.Sprintf("--parallel=%d", *benchImportParallel))
	}

	var imported time.Duration
	var cpu cpuTimes
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ns, err := testenv.NewNamespace(context.Background(), c, "bench-import-")
		if err != nil {
			b.Fatal(err)
		}
		// The offer exists (no warning per line); its publisher does not.
		if err := c.Create(context.Background(), build.Offer(ns, "saas", "not-here", v1alpha1.ListingTypeTransact, billed.AddDate(-1, 0, 0))); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start, cpuBefore := time.Now(), cpuUsage()
		out, writes, code := runImport(append(args, "-n", ns))
		imported += time.Since(start)
		cpu = cpu.add(cpuUsage().sub(cpuBefore))
		b.StopTimer()
		if want := fmt.Sprintf("created %d, unchanged 0, updated 0, refused 0", *benchImportRows); code != plugin.ExitOK || !strings.Contains(out, want) {
			b.Fatalf("first import: exit %d, %q; want %q", code, out, want)
		}
		if writes != int64(*benchImportRows) {
			b.Fatalf("first import: %d writes, want one per line", writes)
		}

		start = time.Now()
		out, writes, code = runImport(append(args, "-n", ns))
		b.Logf("the same file again: %s in %s", strings.TrimSpace(out), time.Since(start).Round(time.Millisecond))
		if want := fmt.Sprintf("created 0, unchanged %d, updated 0, refused 0", *benchImportRows); code != plugin.ExitOK || !strings.Contains(out, want) || writes != 0 {
			b.Fatalf("second import: exit %d, %d writes, %q; want %q and no write", code, writes, out, want)
		}
		b.StartTimer()
	}
	rows := float64(*benchImportRows * b.N)
	b.ReportMetric(rows/imported.Seconds(), "rows/s")
	if cpu.server > 0 {
		perRow := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / rows }
		b.ReportMetric(perRow(cpu.plugin), "plugin-cpu-ms/row")
		b.ReportMetric(perRow(cpu.server), "server-cpu-ms/row")
		b.ReportMetric(2*rows/(cpu.plugin+cpu.server).Seconds(), "cpu-bound-rows/s-2-cores")
	}
}

// cpuTimes is CPU time spent in this process (the plugin) and in its
// child processes (envtest's kube-apiserver and etcd).
type cpuTimes struct{ plugin, server time.Duration }

func (a cpuTimes) add(b cpuTimes) cpuTimes { return cpuTimes{a.plugin + b.plugin, a.server + b.server} }
func (a cpuTimes) sub(b cpuTimes) cpuTimes { return cpuTimes{a.plugin - b.plugin, a.server - b.server} }

// cpuUsage reads, from Linux's /proc, the user and system CPU time of this
// process and of its running children; zero elsewhere.
func cpuUsage() cpuTimes {
	var t cpuTimes
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	self := os.Getpid()
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses: state,
		// ppid, ..., utime (14th field of the line) and stime (15th).
		fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
		if len(fields) < 13 {
			continue
		}
		pid, _ := strconv.Atoi(strings.Fields(string(data))[0])
		ppid, _ := strconv.Atoi(fields[1])
		utime, _ := strconv.ParseInt(fields[11], 10, 64)
		stime, _ := strconv.ParseInt(fields[12], 10, 64)
		const ticksPerSecond = 100 // USER_HZ, 100 on every Linux architecture Go supports
		cpu := time.Duration(utime+stime) * time.Second / ticksPerSecond
		switch {
		case pid == self:
			t.plugin += cpu
		case ppid == self:
			t.server += cpu
		}
	}
	return t
}

// startImportBench starts an API server with the CRDs for the benchmark,
// and writes its kubeconfig and a file of -import-rows new lines billed
// from 2026-11-01 on.
func startImportBench(b *testing.B) (c client.Client, kubeconfig, file string) {
	b.Helper()
	logf.SetLogger(logr.Discard())
	env, _, c, err := testenv.Start(testenv.Scheme())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = env.Stop() })
	if kubeconfig, err = testenv.AdminKubeconfig(env, "bench", b.TempDir()); err != nil {
		b.Fatal(err)
	}
	billed := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var csv strings.Builder
	csv.WriteString("offer,transactionId,amount,currency,billedAt,seats,fraud\n")
	for i := 1; i <= *benchImportRows; i++ {
		fmt.Fprintf(&csv, "saas,INV-2026-11-%06d,%d.%02d,USD,%s,,\n", i, 100+i%900, i%100, billed.Add(time.Duration(i)*time.Second).Format(time.RFC3339))
	}
	file = filepath.Join(b.TempDir(), "sales.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return c, kubeconfig, file
}

// runImport runs kubectl-rewards with args and the plugin's own client
// settings, counting its writes.
func runImport(args []string) (out string, writes int64, code int) {
	streams, _, stdout, _ := genericiooptions.NewTestIOStreams()
	o := plugin.NewOptions(streams)
	var n atomic.Int64
	o.NewClient = func(cfg *rest.Config, opts client.Options) (client.Client, error) {
		c, err := client.NewWithWatch(cfg, opts)
		if err != nil {
			return nil, err
		}
		return interceptor.NewClient(c, interceptor.Funcs{
			Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
				n.Add(1)
				return c.Apply(ctx, obj, opts...)
			},
		}), nil
	}
	code = plugin.Main(o, args)
	return stdout.String(), n.Load(), code
}
