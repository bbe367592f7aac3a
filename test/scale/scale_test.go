//go:build scale

package scale

import (
	"bytes"
	"cmp"
	"context"
	"errors"
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
	"sync"
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
	flagRounds     = flag.Int("rounds", 1, "rounds of each worker count, the worker counts in turn")
	flagDay2       = flag.Bool("day2", true, "after the rounds, measure a cold start, a warm restart and a leader failover "+
		"with every status written (the first worker count)")
	flagIdle       = flag.Duration("idle", 2*time.Minute, "window after convergence in which writes are counted")
	flagReport     = flag.String("report", "", "also write the table (Markdown) to this file")
	flagBig        = flag.Int("big-records", 10000, "sales lines of the big publisher (0: none)")
	flagNamespaces = flag.Int("namespaces", 5, "namespaces the ordinary publishers of each copy are spread over")
	flagSamples    = flag.Int("latency-samples", 200, "new sales lines per latency measure (the p99 of fewer than 100 is their slowest)")
	flagExpiries   = flag.Int("expiries", 100, "activations expiring within 30 s in the expiry measure")
	flagLogs       = flag.String("logs", os.TempDir(), "directory of the operator's and the floor's logs")
	flagTimeout    = flag.Duration("converge-timeout", 90*time.Minute, "longest a convergence may take")
	flagBaseline   = flag.String("baseline", "", "a source tree of the operator (a git worktree of another commit, say) whose ./cmd "+
		"runs in the floor's place, with the operator's flags and the operator's check of convergence: an A/B comparison "+
		"of two builds on disjoint copies at the same time. Its ./cmd must take --namespaces. No day-2 rows (they need the floor)")
	flagGCTrace  = flag.Bool("gctrace", false, "run the managers with GODEBUG=gctrace=1: their logs stamp each garbage collection with their uptime")
	flagProfiles = flag.String("profiles", "", "also write the operator's and the floor's CPU profiles, phase by phase, "+
		"and their heaps after convergence to this directory (through --pprof-bind-address)")
)

// extraLabel marks what the measures after convergence create (sales
// lines, activations, grants), deleted before the next round so that every
// round starts from the same objects.
const extraLabel = "scale.rewards.marketplace.io/extra"

// The two sides of the benchmark: the operator and the floor, each on its
// own copy of the dataset, in namespaces of its own, at the same time.
const (
	sideOperator = "operator"
	sideFloor    = "floor"
	// leaseNamespace holds the operator's leader-election Lease in the
	// measures that run it with --leader-elect.
	leaseNamespace = "default"
)

type bench struct {
	t   *testing.T
	ctx context.Context
	c   client.WithWatch
	obs *observer
	cp  controlPlane
	// op and fl are the operator's and the floor's copies of the dataset.
	op, fl   *dataset
	operator string // binaries
	floor    string // the floor's, or the baseline operator's (-baseline)
	// kubeconfigs of the operator's and the floor's users, so that the
	// API server's logs tell their requests apart.
	opKubeconfig, floorKubeconfig string
	rng                           *rand.Rand
	// apiServer reads the API server's own endpoints (/metrics).
	apiServer kubernetes.Interface
}

// day2Rows runs the day-2 measures when asked to (-day2), unless a
// baseline operator runs in the floor's place: they measure the operator
// beside the floor.
func (b *bench) day2Rows(workers int) *day2 {
	switch {
	case !*flagDay2:
		return nil
	case b.baseline():
		b.t.Log("-baseline: no day-2 rows")
		return nil
	}
	return b.day2(workers)
}

// baseline reports whether an operator built from another tree runs on the
// floor's side (-baseline).
func (b *bench) baseline() bool { return *flagBaseline != "" }

// other names what runs on the floor's side, in the report.
func (b *bench) other() string {
	if b.baseline() {
		return "baseline"
	}
	return "floor"
}

// otherCheck is the check of convergence on the floor's side: the floor's
// condition, or the operator's when a baseline operator runs there.
func (b *bench) otherCheck() func(*summary) bool {
	if b.baseline() {
		return byOperator
	}
	return byFloor
}

// sideOf names the side an object of namespace ns belongs to: the
// cluster-scoped program is the operator's (the floor leaves programs
// alone when given namespaces; a baseline operator writes it too).
func (b *bench) sideOf(ns string) string {
	switch {
	case ns == "" || b.op.owns(ns):
		return sideOperator
	case b.fl.owns(ns):
		return sideFloor
	default:
		return ""
	}
}

// run is what one process did in one round.
type run struct {
	wall    time.Duration
	at      time.Time // when the watch saw its last object converge
	cpu     cpuSample // proc only: the control plane is shared (round.shared)
	objects int
	writes  int
	byKind  map[string]int
	rss     int64      // after convergence
	heap    heapSample // Go heap from the metrics endpoint; zero: not scraped
	cached  int        // objects in its cache: its copy, and the operator's grants
	// Operator only.
	idleWrites           int
	idleCPU              time.Duration
	idleRSS              int64 // after the idle window
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
	// shared is the control plane's CPU from the two managers' start
	// until both converged, sharedWall that time.
	shared     cpuSample
	sharedWall time.Duration
	// The load average (1, 5, 15 minutes) as the managers started and as
	// the second converged.
	loadStart, loadConverged string
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
	// The logs' directory is made before the dataset, not found missing
	// after it was built.
	if err := os.MkdirAll(*flagLogs, 0o755); err != nil {
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
	if b.opKubeconfig, err = testenv.AdminKubeconfig(env, "scale-operator", t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if b.floorKubeconfig, err = testenv.AdminKubeconfig(env, "scale-floor", t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if b.c, err = harnessClient(cfg); err != nil {
		t.Fatal(err)
	}
	if b.apiServer, err = kubernetes.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}

	total, byKind, setup := b.populate()
	t.Logf("setup: %d objects %v for the operator (the shared program included), as many for the floor, created in %s", total, byKind, setup.Round(time.Second))

	rounds := make([]round, 0, len(workers)*max(1, *flagRounds))
	repeats := map[int]int{}
	for range max(1, *flagRounds) {
		for _, w := range workers {
			repeats[w]++
			rounds = append(rounds, b.round(round{workers: w, repeat: repeats[w]}))
		}
	}
	report := b.report(rounds, b.day2Rows(workers[0]), machineBefore, total, byKind, setup)
	fmt.Println()
	fmt.Println(report)
	if *flagReport != "" {
		if err := os.WriteFile(*flagReport, []byte(report), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// populate creates the program and both copies of the dataset, and
// starts following them. It returns the objects of the operator's copy
// (the program included) and how long creating both took.
func (b *bench) populate() (int, map[string]int, time.Duration) {
	now := time.Now()
	b.op = newDataset("scale-op", *flagPublishers, *flagNamespaces, *flagBig, now)
	b.fl = newDataset("scale-floor", *flagPublishers, *flagNamespaces, *flagBig, now)
	start := time.Now()
	prog := build.Program()
	prog.Name = b.op.program
	if err := b.c.Create(b.ctx, prog); err != nil {
		b.t.Fatal(err)
	}
	for _, d := range []*dataset{b.op, b.fl} {
		if err := d.create(b.ctx, b.c, 8); err != nil {
			b.t.Fatal(err)
		}
	}
	setup := time.Since(start)
	b.obs = newObserver(b.t, b.c, b.sideOf, sideOperator, sideFloor)
	if err := b.obs.start(b.ctx); err != nil {
		b.t.Fatal(err)
	}
	total, byKind := b.obs.counts(sideOperator)
	return total, byKind, setup
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
	if b.baseline() {
		if b.floor, err = goBuild(*flagBaseline, bin, "./cmd", "baseline"); err != nil {
			b.t.Fatal(err)
		}
	} else if b.floor, err = goBuild(root, bin, "./test/scale/floor", "floor", "scale"); err != nil {
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

// manager is a running operator or floor, with the plain-HTTP metrics
// endpoint the benchmark reads its heap, its queues and its leadership
// from.
type manager struct {
	*process
	name    string // operator, floor, or a replica's name
	metrics string // host:port; "" if no port was free
	prof    *profiler
}

// launchOpts are what a manager is started with besides the side's
// namespaces and kubeconfig.
type launchOpts struct {
	workers     int
	tag         string // names the log: scale-<name>-<tag>.log
	name        string // defaults to the side
	leaderElect bool   // the operator only
}

// launch starts the manager of a side on its copy of the dataset: the
// operator with --namespaces, the floor with its own --namespaces, each as
// its own user.
func (b *bench) launch(side string, o launchOpts) (*manager, error) {
	data, bin, kubeconfig := b.op, b.operator, b.opKubeconfig
	if side == sideFloor {
		data, bin, kubeconfig = b.fl, b.floor, b.floorKubeconfig
	}
	name := cmp.Or(o.name, side)
	args := []string{"--kubeconfig=" + kubeconfig, "--max-concurrent-reconciles=" + strconv.Itoa(o.workers),
		"--namespaces=" + strings.Join(data.allNamespaces(), ",")}
	metricsAddr, err := freeLocalAddr()
	if err != nil {
		b.t.Logf("%s %s: no free port for the metrics endpoint, no Go heap figures: %v", name, o.tag, err)
	}
	if side == sideOperator || b.baseline() {
		// The metrics endpoint in plain HTTP without authentication, on
		// localhost only.
		args = append(args, "--health-probe-bind-address=0", "--metrics-secure=false")
		if o.leaderElect {
			args = append(args, "--leader-elect", "--leader-election-namespace="+leaseNamespace)
		}
	}
	args = append(args, "--metrics-bind-address="+cmp.Or(metricsAddr, "0"))
	prof, args := b.profiling(name, o.tag, args)
	logPath := filepath.Join(*flagLogs, fmt.Sprintf("scale-%s-%s.log", name, o.tag))
	p, err := startProcess(bin, args, logPath)
	if err != nil {
		return nil, err
	}
	prof.start(b.ctx, b.t.Logf)
	b.t.Logf("%s %s: started (log: %s)", name, o.tag, logPath)
	return &manager{process: p, name: name, metrics: metricsAddr, prof: prof}, nil
}

// stop ends the manager's profiles, then the manager.
func (m *manager) stop() {
	m.prof.stop()
	m.process.stop()
}

// scrape reads the manager's metrics.
func (m *manager) scrape(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	if m.metrics == "" {
		return nil, fmt.Errorf("%s has no metrics endpoint", m.name)
	}
	return scrapeMetrics(ctx, m.metrics)
}

// memory reads the manager's RSS, and its Go heap from its metrics.
func (b *bench) memory(m *manager, tag string, r *run) {
	r.rss, _ = rssOf(m.pid())
	if m.metrics != "" {
		var err error
		if r.heap, err = scrapeHeap(b.ctx, m.metrics); err != nil {
			b.t.Logf("%s %s: scraping the metrics endpoint failed, no Go heap figures: %v", m.name, tag, err)
		}
	}
}

// round runs the floor and the operator with r.workers workers at the same
// time, each on its own copy of the dataset, each from the same start:
// statuses wiped and no grants. Whatever the machine's other work does to
// its speed, it does to both. Then, with the floor stopped, the operator's
// idle window and its latency and expiry measures.
func (b *bench) round(r round) round {
	w, tag := r.workers, r.tag()
	b.reset()
	b.obs.setCheck(sideOperator, byOperator)
	b.obs.setCheck(sideFloor, b.otherCheck())
	r.loadStart = loadavg()
	before := b.cp.sample(0)
	// Which starts first (a millisecond apart) alternates between rounds.
	order := []string{sideFloor, sideOperator}
	if r.repeat%2 == 0 {
		slices.Reverse(order)
	}
	managers := map[string]*manager{}
	for _, side := range order {
		m, err := b.launch(side, launchOpts{workers: w, tag: tag})
		if err != nil {
			for _, m := range managers {
				m.stop()
			}
			b.t.Fatal(err)
		}
		managers[side] = m
	}
	op, fl := managers[sideOperator], managers[sideFloor]
	defer op.stop()
	defer fl.stop()
	var or, fr run
	var opErr, flErr error
	var wg sync.WaitGroup
	wg.Go(func() { or, opErr = b.converge(op, sideOperator, tag) })
	wg.Go(func() { fr, flErr = b.converge(fl, sideFloor, tag) })
	wg.Wait()
	if err := errors.Join(opErr, flErr); err != nil {
		b.t.Fatal(err)
	}
	after := b.cp.sample(0)
	r.loadConverged = loadavg()
	r.shared = after.sub(before)
	first := op.started
	if fl.started.Before(first) {
		first = fl.started
	}
	last := or.at
	if fr.at.After(last) {
		last = fr.at
	}
	r.sharedWall = last.Sub(first)
	b.t.Logf("round %s: both converged in %s; control plane CPU apiserver %s, etcd %s; load average %s, then %s", tag,
		r.sharedWall.Round(time.Millisecond), r.shared.apiserver, r.shared.etcd, r.loadStart, r.loadConverged)

	// The floor's memory and heap profile, then it stops: the measures
	// after convergence are the operator's alone.
	b.memory(fl, tag, &fr)
	fr.cached = fr.objects
	if b.baseline() {
		fr.cached += b.countIn(&v1alpha1.BenefitGrantList{}, b.fl.allNamespaces())
	}
	fl.prof.enter("idle")
	if err := fl.prof.heap(b.ctx, "converged"); err != nil {
		b.t.Logf("floor %s: heap profile: %v", tag, err)
	}
	fl.stop()
	r.floor = fr

	b.memory(op, tag, &or)
	or.cached = or.objects + b.countIn(&v1alpha1.BenefitGrantList{}, b.op.allNamespaces())
	// After RSS and heap are read: the profile collects garbage first.
	op.prof.enter("idle")
	if err := op.prof.heap(b.ctx, "converged"); err != nil {
		b.t.Logf("operator %s: heap profile: %v", tag, err)
	}
	b.t.Logf("operator %s: RSS %d MB, Go heap in use %d MB (allocated %d MB) for %d cached objects; floor: RSS %d MB, heap in use %d MB",
		tag, or.rss>>20, or.heap.inuse>>20, or.heap.alloc>>20, or.cached, fr.rss>>20, fr.heap.inuse>>20)

	b.obs.resetWrites(sideOperator)
	cpu0, _ := cpuOf(op.pid())
	b.t.Logf("operator %s: idle for %s", tag, *flagIdle)
	time.Sleep(*flagIdle)
	cpu1, _ := cpuOf(op.pid())
	or.idleWrites, _ = b.obs.writes(sideOperator, nil)
	or.idleCPU = cpu1 - cpu0
	or.idleRSS, _ = rssOf(op.pid())
	if op.metrics != "" {
		b.awaitCollections(tag, op.process, time.Now(), map[string]metricsSource{
			"operator":       op.scrape,
			"kube-apiserver": b.apiServerMetrics,
		})
	}

	op.prof.enter("latency")
	or.ordinary = b.latency(op.process, "ordinary", func(int) (string, string, string) {
		i := b.rng.IntN(b.op.publishers)
		return b.op.namespaceOf(i), publisherName(i), offerName(i, b.rng.IntN(2))
	})
	if b.op.bigRecords > 0 {
		or.big = b.latency(op.process, "big", func(int) (string, string, string) {
			return b.op.big, bigPublisher, bigOfferName(b.rng.IntN(bigOffers))
		})
	}
	op.prof.enter("expiry")
	or.expiryP50, or.expiryP99, or.expiries = b.expiry()
	op.prof.stop()
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
	if name != sideOperator {
		prefix = name + "-"
	}
	return newProfiler(*flagProfiles, addr, prefix, tag), append(slices.Clone(args), "--pprof-bind-address="+addr)
}

// converge waits for every object of a side to show its manager's status
// for its generation. The wall time runs from the process' start (cache
// sync included) to the watch seeing the last object; the CPU is the
// process' own, read then. It runs beside the other side's, so it returns
// its error rather than failing the test.
func (b *bench) converge(m *manager, side, tag string) (run, error) {
	at, err := b.obs.waitAll(b.ctx, side, *flagTimeout, func(passing, total int) error {
		b.t.Logf("%s %s: %d of %d objects converged after %s", m.name, tag, passing, total, time.Since(m.started).Round(time.Second))
		return m.exited()
	})
	var r run
	r.cpu.proc, _ = cpuOf(m.pid())
	if err != nil {
		return r, fmt.Errorf("%s %s: %w (log: %s)", m.name, tag, err, m.log.Name())
	}
	r.at = at
	r.wall = at.Sub(m.started)
	r.objects, _ = b.obs.counts(side)
	r.writes, r.byKind = b.obs.writes(side, nil)
	b.t.Logf("%s %s: converged in %s, CPU %s, writes %v", m.name, tag, r.wall.Round(time.Millisecond), r.cpu.proc, r.byKind)
	return r, nil
}

// reset brings every object of both copies back to the start, with no
// manager running: statuses wiped, grants deleted. Not timed.
func (b *bench) reset() {
	start := time.Now()
	for _, ns := range append(b.op.allNamespaces(), b.fl.allNamespaces()...) {
		if err := b.c.DeleteAllOf(b.ctx, &v1alpha1.BenefitGrant{}, client.InNamespace(ns)); err != nil {
			b.t.Fatal(err)
		}
	}
	b.obs.setCheck(sideOperator, wiped)
	b.obs.setCheck(sideFloor, wiped)
	keys := append(b.obs.failing(sideOperator), b.obs.failing(sideFloor)...)
	err := forAll(b.ctx, keys, 8, func(k string) error {
		parts := strings.SplitN(k, "/", 3)
		obj := newObject(parts[0])
		obj.SetNamespace(parts[1])
		obj.SetName(parts[2])
		return client.IgnoreNotFound(b.c.Status().Patch(b.ctx, obj, client.RawPatch(types.MergePatchType, []byte(`{"status":null}`))))
	})
	if err != nil {
		b.t.Fatal(err)
	}
	for _, side := range []string{sideOperator, sideFloor} {
		if _, err := b.obs.waitAll(b.ctx, side, 10*time.Minute, func(int, int) error { return nil }); err != nil {
			b.t.Fatalf("wiping statuses: %v", err)
		}
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

// countIn returns how many objects of a kind there are in namespaces
// (metadata only).
func (b *bench) countIn(l client.ObjectList, namespaces []string) int {
	gvk, err := b.c.GroupVersionKindFor(l)
	if err != nil {
		b.t.Fatal(err)
	}
	n := 0
	for _, ns := range namespaces {
		meta := &metav1.PartialObjectMetadataList{}
		meta.SetGroupVersionKind(gvk)
		opts := []client.ListOption{client.InNamespace(ns), client.Limit(500)}
		for {
			if err := b.c.List(b.ctx, meta, opts...); err != nil {
				b.t.Fatal(err)
			}
			n += len(meta.Items)
			if meta.Continue == "" {
				break
			}
			opts = []client.ListOption{client.InNamespace(ns), client.Limit(500), client.Continue(meta.Continue)}
		}
	}
	return n
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
		s := b.obs.get(pk)
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
	if n == 0 || b.op.publishers == 0 {
		return 0, 0, 0
	}
	acts := make([]client.Object, n)
	for k := range n {
		i := b.rng.IntN(b.op.publishers)
		a := build.Activation(b.op.namespaceOf(i), fmt.Sprintf("scale-expiry-%03d", k), offerName(i, 0), tier5Benefit)
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
	for _, ns := range b.op.allNamespaces() {
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
