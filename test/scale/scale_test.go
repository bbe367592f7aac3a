//go:build scale

package scale

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

var (
	flagPublishers = flag.Int("publishers", 100, "ordinary publishers P (5P offers, 60P sales lines, 2P activations)")
	flagWorkers    = flag.String("workers", "4", "worker counts (--max-concurrent-reconciles) to run, space- or comma-separated")
	flagIdle       = flag.Duration("idle", 2*time.Minute, "window after convergence in which writes are counted")
	flagReport     = flag.String("report", "", "also write the table (Markdown) to this file")
	flagBig        = flag.Int("big-records", 10000, "sales lines of the big publisher (0: none)")
	flagNamespaces = flag.Int("namespaces", 5, "namespaces the ordinary publishers are spread over")
	flagSamples    = flag.Int("latency-samples", 200, "new sales lines per latency measure (the p99 of fewer than 100 is their slowest)")
	flagExpiries   = flag.Int("expiries", 100, "activations expiring within 30 s in the expiry measure")
	flagLogs       = flag.String("logs", os.TempDir(), "directory of the operator's and the floor's logs")
	flagTimeout    = flag.Duration("converge-timeout", 90*time.Minute, "longest a convergence may take")
	flagGCTrace    = flag.Bool("gctrace", false, "run the managers with GODEBUG=gctrace=1: their logs stamp each garbage collection with their uptime")
	flagProfiles   = flag.String("profiles", "", "also write the operator's and the floor's CPU profiles, phase by phase, "+
		"and their heaps after convergence to this directory (through --pprof-bind-address)")
)

// extraLabel marks what the measures after convergence create (sales
// lines, activations, grants), deleted before the next round so that every
// round starts from the same objects.
const extraLabel = "scale.rewards.marketplace.io/extra"

type bench struct {
	t          *testing.T
	ctx        context.Context
	c          client.WithWatch
	obs        *observer
	cp         controlPlane
	data       *dataset
	operator   string // binaries
	floor      string
	kubeconfig string
	rng        *rand.Rand
	// apiServer reads the API server's own endpoints (/metrics).
	apiServer kubernetes.Interface
}

// run is what one process did in one round.
type run struct {
	wall    time.Duration
	cpu     cpuSample
	objects int
	writes  int
	byKind  map[string]int
	// Operator only.
	idleWrites           int
	idleCPU              time.Duration
	rss                  int64
	idleRSS              int64      // after the idle window
	heap                 heapSample // Go heap from the metrics endpoint; zero: not scraped
	cached               int
	ordinary, big        latency
	expiryP50, expiryP99 time.Duration
	expiries             int
}

type latency struct {
	p50, p99, cpuPerRecord time.Duration
	n                      int
}

type round struct {
	workers int
	// repeat counts the rounds of the same worker count: 1, then 2...
	repeat          int
	operator, floor run
}

// tag names the round in logs and file names: w4, then w4-2 for the second
// round of 4 workers.
func (r round) tag() string {
	if r.repeat > 1 {
		return fmt.Sprintf("w%d-%d", r.workers, r.repeat)
	}
	return fmt.Sprintf("w%d", r.workers)
}

func TestScale(t *testing.T) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make bench-scale`")
	}
	workers, err := parseWorkers(*flagWorkers)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	machineBefore := machine()
	t.Logf("machine: %s", machineBefore)

	b := &bench{t: t, ctx: ctx, rng: rand.New(rand.NewPCG(3, 4))}
	env, cfg := b.start(assets)
	defer func() {
		cancel() // the watches first, so the API server has none open while it stops
		if b.obs != nil {
			b.obs.stop()
		}
		if err := env.Stop(); err != nil {
			t.Log(err)
		}
	}()
	if b.cp, err = findControlPlane(assets); err != nil {
		t.Fatal(err)
	}
	if b.kubeconfig, err = testenv.AdminKubeconfig(env, "scale-manager", t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if b.c, err = harnessClient(cfg); err != nil {
		t.Fatal(err)
	}
	if b.apiServer, err = kubernetes.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}

	b.data = &dataset{program: "scale", publishers: *flagPublishers, now: time.Now()}
	for i := range max(1, *flagNamespaces) {
		b.data.namespaces = append(b.data.namespaces, fmt.Sprintf("scale-%02d", i))
	}
	start := time.Now()
	if err := b.data.create(ctx, b.c, *flagBig, 8); err != nil {
		t.Fatal(err)
	}
	setup := time.Since(start)
	b.obs = newObserver(t, b.c)
	if err := b.obs.start(ctx); err != nil {
		t.Fatal(err)
	}
	total, byKind := b.obs.counts()
	t.Logf("setup: %d objects %v created in %s", total, byKind, setup.Round(time.Second))

	rounds := make([]round, 0, len(workers))
	repeats := map[int]int{}
	for _, w := range workers {
		repeats[w]++
		rounds = append(rounds, b.round(round{workers: w, repeat: repeats[w]}))
	}
	report := b.report(rounds, machineBefore, total, byKind, setup)
	fmt.Println()
	fmt.Println(report)
	if *flagReport != "" {
		if err := os.WriteFile(*flagReport, []byte(report), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// start builds the operator and the floor and starts the control plane
// with the repository's CRDs.
func (b *bench) start(assets string) (*envtest.Environment, *rest.Config) {
	root, err := testenv.RepoRoot()
	if err != nil {
		b.t.Fatal(err)
	}
	bin := b.t.TempDir()
	if b.operator, err = goBuild(root, bin, "./cmd", "manager"); err != nil {
		b.t.Fatal(err)
	}
	if b.floor, err = goBuild(root, bin, "./test/scale/floor", "floor", "scale"); err != nil {
		b.t.Fatal(err)
	}
	env := testenv.NewEnvironment()
	env.BinaryAssetsDirectory = assets
	env.CRDDirectoryPaths = []string{filepath.Join(root, "config", "crd", "bases")}
	env.ErrorIfCRDPathMissing = true
	cfg, err := env.Start()
	if err != nil {
		b.t.Fatal(err)
	}
	return env, cfg
}

// harnessClient is the benchmark's own client: no client-side rate limit,
// so that setup and resets go at the API server's pace.
func harnessClient(cfg *rest.Config) (client.WithWatch, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, 1000
	return client.NewWithWatch(cfg, client.Options{Scheme: testenv.Scheme()})
}

func parseWorkers(s string) ([]int, error) {
	var out []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-workers: %q is not a positive number", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-workers: none given")
	}
	return out, nil
}

// round runs the floor and then the operator with r.workers workers, each
// from the same start: statuses wiped and no grants.
func (b *bench) round(r round) round {
	w, tag := r.workers, r.tag()
	args := []string{"--kubeconfig=" + b.kubeconfig, "--max-concurrent-reconciles=" + strconv.Itoa(w)}

	b.reset()
	floorProf, floorArgs := b.profiling("floor", tag, args)
	floorProf.start(b.ctx, b.t.Logf)
	floor, fr := b.converge("floor", tag, b.floor, floorArgs, byFloor)
	floorProf.enter("idle")
	if err := floorProf.heap(b.ctx, "converged"); err != nil {
		b.t.Logf("floor %s: heap profile: %v", tag, err)
	}
	floorProf.stop()
	floor.stop()
	r.floor = fr

	b.reset()
	// The metrics endpoint in plain HTTP without authentication, on
	// localhost only, to read the Go heap.
	metricsAddr, err := freeLocalAddr()
	if err != nil {
		b.t.Logf("operator %s: no free port for the metrics endpoint, no Go heap figures: %v", tag, err)
	}
	opArgs := append(slices.Clone(args), "--health-probe-bind-address=0")
	if metricsAddr != "" {
		opArgs = append(opArgs, "--metrics-bind-address="+metricsAddr, "--metrics-secure=false")
	} else {
		opArgs = append(opArgs, "--metrics-bind-address=0")
	}
	prof, opArgs := b.profiling("operator", tag, opArgs)
	prof.start(b.ctx, b.t.Logf)
	op, or := b.converge("operator", tag, b.operator, opArgs, byOperator)
	defer op.stop()
	defer prof.stop()
	or.rss, _ = rssOf(op.pid())
	if metricsAddr != "" {
		if or.heap, err = scrapeHeap(b.ctx, metricsAddr); err != nil {
			b.t.Logf("operator %s: scraping the metrics endpoint failed, no Go heap figures: %v", tag, err)
		}
	}
	or.cached = or.objects + b.count(&v1alpha1.BenefitGrantList{})
	// After RSS and heap are read: the profile collects garbage first.
	prof.enter("idle")
	if err := prof.heap(b.ctx, "converged"); err != nil {
		b.t.Logf("operator %s: heap profile: %v", tag, err)
	}
	b.t.Logf("operator %s: RSS %d MB, Go heap in use %d MB (allocated %d MB) for %d cached objects",
		tag, or.rss>>20, or.heap.inuse>>20, or.heap.alloc>>20, or.cached)

	b.obs.resetWrites()
	cpu0, _ := cpuOf(op.pid())
	b.t.Logf("operator %s: idle for %s", tag, *flagIdle)
	time.Sleep(*flagIdle)
	cpu1, _ := cpuOf(op.pid())
	or.idleWrites, _ = b.obs.writes()
	or.idleCPU = cpu1 - cpu0
	or.idleRSS, _ = rssOf(op.pid())
	if metricsAddr != "" {
		b.awaitCollections(tag, op, time.Now(), map[string]metricsSource{
			"operator": func(ctx context.Context) (map[string]*dto.MetricFamily, error) {
				return scrapeMetrics(ctx, metricsAddr)
			},
			"kube-apiserver": b.apiServerMetrics,
		})
	}

	prof.enter("latency")
	or.ordinary = b.latency(op, "ordinary", func(int) (string, string, string) {
		i := b.rng.IntN(b.data.publishers)
		return b.data.namespaceOf(i), publisherName(i), offerName(i, b.rng.IntN(2))
	})
	if *flagBig > 0 {
		or.big = b.latency(op, "big", func(int) (string, string, string) {
			return bigNamespace, bigPublisher, bigOfferName(b.rng.IntN(bigOffers))
		})
	}
	prof.enter("expiry")
	or.expiryP50, or.expiryP99, or.expiries = b.expiry()
	prof.stop()
	if err := op.exited(); err != nil {
		b.t.Fatalf("operator: %v (log: %s)", err, op.log.Name())
	}
	op.stop()
	b.deleteExtras()
	r.operator = or
	return r
}

// profiling returns, with -profiles, the profiler of a manager (the
// operator or the floor) and its arguments with a pprof endpoint added;
// without, a nil profiler and args unchanged.
func (b *bench) profiling(name, tag string, args []string) (*profiler, []string) {
	if *flagProfiles == "" {
		return nil, args
	}
	addr, err := freeLocalAddr()
	if err != nil {
		b.t.Logf("%s %s: no free port for the profiling endpoint, no profiles: %v", name, tag, err)
		return nil, args
	}
	prefix := ""
	if name != "operator" {
		prefix = name + "-"
	}
	return newProfiler(*flagProfiles, addr, prefix, tag), append(slices.Clone(args), "--pprof-bind-address="+addr)
}

// converge starts a manager and waits for every object to show its status
// for its generation. The wall time runs from the process' start (cache
// sync included) to the watch seeing the last object.
func (b *bench) converge(name, tag, bin string, args []string, check func(*summary) bool) (*process, run) {
	b.obs.setCheck(check)
	before := b.cp.sample(0)
	logPath := filepath.Join(*flagLogs, fmt.Sprintf("scale-%s-%s.log", name, tag))
	p, err := startProcess(bin, args, logPath)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("%s %s: started (log: %s)", name, tag, logPath)
	at, err := b.obs.waitAll(b.ctx, *flagTimeout, func(passing, total int) error {
		b.t.Logf("%s %s: %d of %d objects converged after %s", name, tag, passing, total, time.Since(p.started).Round(time.Second))
		return p.exited()
	})
	after := b.cp.sample(p.pid())
	if err != nil {
		p.stop()
		b.t.Fatalf("%s %s: %v (log: %s)", name, tag, err, logPath)
	}
	var r run
	r.wall = at.Sub(p.started)
	r.cpu = after.sub(before)
	r.cpu.proc = after.proc
	r.objects, _ = b.obs.counts()
	r.writes, r.byKind = b.obs.writes()
	b.t.Logf("%s %s: converged in %s, CPU %s (apiserver %s, etcd %s), writes %v", name, tag, r.wall.Round(time.Millisecond),
		r.cpu.proc, r.cpu.apiserver, r.cpu.etcd, r.byKind)
	return p, r
}

// reset brings every object back to the start, with no manager running:
// statuses wiped, grants deleted. Not timed.
func (b *bench) reset() {
	start := time.Now()
	for _, ns := range append(slices.Clone(b.data.namespaces), bigNamespace) {
		if err := b.c.DeleteAllOf(b.ctx, &v1alpha1.BenefitGrant{}, client.InNamespace(ns)); err != nil {
			b.t.Fatal(err)
		}
	}
	b.obs.setCheck(wiped)
	err := forAll(b.ctx, b.obs.failing(), 8, func(k string) error {
		parts := strings.SplitN(k, "/", 3)
		obj := newObject(parts[0])
		obj.SetNamespace(parts[1])
		obj.SetName(parts[2])
		return client.IgnoreNotFound(b.c.Status().Patch(b.ctx, obj, client.RawPatch(types.MergePatchType, []byte(`{"status":null}`))))
	})
	if err != nil {
		b.t.Fatal(err)
	}
	if _, err := b.obs.waitAll(b.ctx, 10*time.Minute, func(int, int) error { return nil }); err != nil {
		b.t.Fatalf("wiping statuses: %v", err)
	}
	b.t.Logf("reset: statuses wiped and grants deleted in %s", time.Since(start).Round(time.Second))
}

func newObject(kind string) client.Object {
	switch kind {
	case "RewardsProgram":
		return &v1alpha1.RewardsProgram{}
	case "Publisher":
		return &v1alpha1.Publisher{}
	case "Offer":
		return &v1alpha1.Offer{}
	case "SalesRecord":
		return &v1alpha1.SalesRecord{}
	default:
		return &v1alpha1.BenefitActivation{}
	}
}

// count returns how many objects of a kind there are (metadata only).
func (b *bench) count(l client.ObjectList) int {
	gvk, err := b.c.GroupVersionKindFor(l)
	if err != nil {
		b.t.Fatal(err)
	}
	meta := &metav1.PartialObjectMetadataList{}
	meta.SetGroupVersionKind(gvk)
	n := 0
	opts := []client.ListOption{client.Limit(500)}
	for {
		if err := b.c.List(b.ctx, meta, opts...); err != nil {
			b.t.Fatal(err)
		}
		n += len(meta.Items)
		if meta.Continue == "" {
			return n
		}
		opts = []client.ListOption{client.Limit(500), client.Continue(meta.Continue)}
	}
}

// awaitCollections waits, before the latency measures, for a garbage
// collection after since, the end of the idle window, in each of the
// operator and the API server. The Go runtime forces a collection after two
// minutes without one, and the default idle window lasts two minutes from
// about the collections that end convergence, so the forced ones fall due
// as the window ends: the first new lines, created during the operator's
// marking, were the slowest of every earlier run (-gctrace), and others
// slow a few seconds later. Sales lines that arrive at random meet such a
// collection far less than once in a hundred, so the measures start after
// them. It gives up, and says so, after a forced period and a half.
func (b *bench) awaitCollections(tag string, op *process, since time.Time, sources map[string]metricsSource) {
	deadline := since.Add(3 * time.Minute)
	for name, source := range sources {
		for {
			last, err := lastGC(b.ctx, source)
			if err != nil {
				b.t.Logf("operator %s: reading the %s's last garbage collection: %v; measuring latency without waiting for it", tag, name, err)
				break
			}
			if !last.Before(since) {
				b.t.Logf("operator %s: the %s's garbage collection after the idle window ended at operator uptime +%.1fs; waited %s", tag, name,
					last.Sub(op.started).Seconds(), time.Since(since).Round(time.Millisecond))
				break
			}
			if time.Now().After(deadline) {
				b.t.Logf("operator %s: no garbage collection of the %s within %s after the idle window; measuring latency anyway", tag, name, deadline.Sub(since))
				break
			}
			select {
			case <-b.ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// apiServerMetrics reads the API server's /metrics as the harness's admin.
func (b *bench) apiServerMetrics(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	raw, err := b.apiServer.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	return parseMetrics(bytes.NewReader(raw), "kube-apiserver /metrics")
}

// latency creates sales lines one at a time, each of 1,000 USD on an offer
// pick chooses, and measures how long until the watch sees the publisher's
// billed sales include it; and the operator's CPU per line.
func (b *bench) latency(op *process, name string, pick func(int) (ns, publisher, offer string)) latency {
	lat := make([]time.Duration, 0, *flagSamples)
	startedAt := make([]time.Duration, 0, *flagSamples) // since the operator's start
	cpu0, _ := cpuOf(op.pid())
	amount := big.NewRat(1000, 1)
	for k := range *flagSamples {
		ns, pub, offer := pick(k)
		pk := key("Publisher", ns, pub)
		s, _ := b.obs.get(pk)
		want := new(big.Rat).Add(money(s.billedSales), amount)
		rec := build.SalesRecord(ns, fmt.Sprintf("scale-%s-%03d", name, k), offer, "1000", "USD", time.Now().Add(-time.Hour))
		rec.Labels = map[string]string{extraLabel: "true"}
		start := time.Now()
		if err := b.c.Create(b.ctx, rec); err != nil {
			b.t.Fatal(err)
		}
		at, err := b.obs.waitFor(b.ctx, 2*time.Minute, pk, func(s *summary) bool {
			return s != nil && money(s.billedSales).Cmp(want) == 0
		})
		if err != nil {
			b.t.Fatalf("%s publisher %s: billed sales never reached %s: %v", name, pk, want.FloatString(2), err)
		}
		lat = append(lat, at.Sub(start))
		startedAt = append(startedAt, start.Sub(op.started))
	}
	cpu1, _ := cpuOf(op.pid())
	logSlowest(b.t, name, lat, startedAt)
	l := latency{n: len(lat), cpuPerRecord: (cpu1 - cpu0) / time.Duration(max(1, len(lat)))}
	l.p50, l.p99 = percentile(lat, 50), percentile(lat, 99)
	b.t.Logf("new sales line reaching the %s publisher: p50 %s, p99 %s, operator CPU %s per line", name, l.p50, l.p99, l.cpuPerRecord)
	return l
}

// logSlowest logs the slowest samples with when each started, counted from
// the operator's start: set against the operator's log (with -gctrace it
// stamps each garbage collection the same way) it tells where a tail comes
// from.
func logSlowest(t testing.TB, name string, lat, startedAt []time.Duration) {
	order := make([]int, len(lat))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int { return cmp.Compare(lat[j], lat[i]) })
	var b strings.Builder
	for _, i := range order[:min(5, len(order))] {
		fmt.Fprintf(&b, " %s at +%.1fs;", lat[i].Round(time.Millisecond), startedAt[i].Seconds())
	}
	t.Logf("slowest %s samples (operator uptime at creation):%s", name, b.String())
}

func money(m v1alpha1.DerivedMoney) *big.Rat {
	r, ok := new(big.Rat).SetString(string(m))
	if !ok {
		return new(big.Rat)
	}
	return r
}

// expiry makes n activations expire within 30 s and measures how late the
// watch sees each Expired. Activations of a Tier 5 benefit that no
// publisher reaches stay Pending without a grant; the benchmark then
// creates their grants itself, as the operator would have, with expiresAt
// spread over 30 s. The operator reads the instants back from a grant
// whose activation uid matches (the durable record) and must expire each
// at its instant.
func (b *bench) expiry() (p50, p99 time.Duration, n int) {
	n = *flagExpiries
	if n == 0 || b.data.publishers == 0 {
		return 0, 0, 0
	}
	acts := make([]client.Object, n)
	for k := range n {
		i := b.rng.IntN(b.data.publishers)
		a := build.Activation(b.data.namespaceOf(i), fmt.Sprintf("scale-expiry-%03d", k), offerName(i, 0), tier5Benefit)
		a.Labels = map[string]string{extraLabel: "true"}
		acts[k] = a
	}
	if err := createAll(b.ctx, b.c, acts, 4); err != nil {
		b.t.Fatal(err)
	}
	for _, a := range acts {
		k := key("BenefitActivation", a.GetNamespace(), a.GetName())
		if _, err := b.obs.waitFor(b.ctx, 2*time.Minute, k, func(s *summary) bool { return s != nil && byOperator(s) }); err != nil {
			b.t.Fatal(err)
		}
	}
	// Grants at second precision, as the API stores times; the first
	// expires 10 s from now, leaving time to create them all.
	now := time.Now().Truncate(time.Second)
	first := now.Add(10 * time.Second)
	expires := make([]time.Time, n)
	grants := make([]client.Object, n)
	for k, o := range acts {
		a := o.(*v1alpha1.BenefitActivation)
		expires[k] = first.Add(time.Duration(k) * 30 * time.Second / time.Duration(n)).Truncate(time.Second)
		spec := v1alpha1.BenefitGrantSpec{
			Activation:   v1alpha1.GrantedActivation{Name: a.Name, UID: a.UID},
			Benefit:      tier5Benefit,
			Category:     v1alpha1.BenefitCategorySales,
			Offer:        a.Spec.OfferRef.Name,
			Publisher:    strings.TrimSuffix(a.Spec.OfferRef.Name, "-offer-0"),
			ActivatedAt:  metav1.NewTime(now.Add(-time.Minute)),
			ContactDueBy: metav1.NewTime(now.Add(7 * 24 * time.Hour)),
			ExpiresAt:    &metav1.Time{Time: expires[k]},
		}
		// Labelled as the operator labels its grants, so that it converts
		// none of them during the measure.
		labels := records.Labels(&spec)
		labels[extraLabel] = "true"
		g := &v1alpha1.BenefitGrant{ObjectMeta: metav1.ObjectMeta{Namespace: a.Namespace, Name: a.Name, Labels: labels}, Spec: spec}
		grants[k] = g
	}
	if err := createAll(b.ctx, b.c, grants, 4); err != nil {
		b.t.Fatal(err)
	}
	if late := time.Since(first); late > 0 {
		b.t.Logf("expiry: creating the grants took until %s after the first expiry", late)
	}
	var lateness []time.Duration
	for k, a := range acts {
		ak := key("BenefitActivation", a.GetNamespace(), a.GetName())
		if _, err := b.obs.waitFor(b.ctx, 2*time.Minute, ak, func(s *summary) bool {
			return s != nil && s.phase == v1alpha1.ActivationExpired
		}); err != nil {
			b.t.Fatal(err)
		}
		at, _ := b.obs.expired(ak)
		lateness = append(lateness, at.Sub(expires[k]))
	}
	p50, p99 = percentile(lateness, 50), percentile(lateness, 99)
	b.t.Logf("expiry: %d activations expiring within 30 s, late by p50 %s, p99 %s", n, p50, p99)
	return p50, p99, n
}

// deleteExtras deletes what the measures created, with no manager running.
func (b *bench) deleteExtras() {
	extra := client.MatchingLabels{extraLabel: "true"}
	for _, ns := range append(slices.Clone(b.data.namespaces), bigNamespace) {
		for _, o := range []client.Object{&v1alpha1.SalesRecord{}, &v1alpha1.BenefitActivation{}, &v1alpha1.BenefitGrant{}} {
			if err := b.c.DeleteAllOf(b.ctx, o, client.InNamespace(ns), extra); err != nil {
				b.t.Fatal(err)
			}
		}
	}
}

// percentile returns the nearest-rank p-th percentile.
func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}

// machine describes the machine: cores, CPU model, load average.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%d cores (nproc), %s, load average %s", runtime.NumCPU(), model, loadavg())
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:3], " ")
}
