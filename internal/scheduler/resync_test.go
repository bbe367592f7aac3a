package scheduler

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// fixedKeys lists keys as a cache would.
func fixedKeys(keys ...string) Keys {
	return func(context.Context) ([]string, error) { return keys, nil }
}

// manyKeys is n namespaced keys and a cluster-scoped one.
func manyKeys(n int) []string {
	keys := make([]string, 0, 1+n)
	keys = append(keys, "program")
	for i := range n {
		keys = append(keys, fmt.Sprintf("ns/obj-%03d", i))
	}
	return keys
}

// startSources starts w's source into a new queue, returned, for the test's
// life.
func startSources(t *testing.T, w *Wakeups) workqueue.TypedRateLimitingInterface[reconcile.Request] {
	t.Helper()
	queue := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); queue.ShutDown() })
	if err := w.Source().Start(ctx, queue); err != nil {
		t.Fatal(err)
	}
	return queue
}

// waitFor polls cond until it holds, for at most a minute (a loaded
// machine).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// drain takes every request out of queue.
func drain(queue workqueue.TypedRateLimitingInterface[reconcile.Request]) []string {
	var got []string
	for queue.Len() > 0 {
		req, _ := queue.Get()
		got = append(got, toolscache.ObjectName(req.NamespacedName).String())
		queue.Done(req)
	}
	return got
}

// The sweep queues one slice of the objects every period/resyncSlices, so
// that every object is resynced once per period, each at its own place in
// it; a clock stepped by a whole period queues every object at once.
func TestResyncSweepsEveryObjectOncePerPeriod(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC))
	keys := manyKeys(300)
	w := NewWakeups(clk, 10*time.Minute, fixedKeys(keys...))
	queue := startSources(t, w)
	// The sweep waits on the clock (nothing else does here): each step
	// fires its timer, and it arms the next once it has queued the slice.
	waitFor(t, "the sweep to wait for its first slice", clk.HasWaiters)

	seen := map[string]int{}
	slicesWithObjects := 0
	for slice := range resyncSlices {
		clk.Step(10 * time.Second)
		waitFor(t, fmt.Sprintf("slice %d to be queued", slice), clk.HasWaiters)
		got := drain(queue)
		for _, key := range got {
			if sliceOf(key) != slice {
				t.Fatalf("%s of slice %d queued with slice %d", key, sliceOf(key), slice)
			}
			seen[key]++
		}
		if len(got) > 0 {
			slicesWithObjects++
		}
	}
	for _, key := range keys {
		if seen[key] != 1 {
			t.Errorf("%s resynced %d times in a period, want once", key, seen[key])
		}
	}
	if slicesWithObjects < resyncSlices/2 {
		t.Errorf("the objects came in %d slices of %d: not spread over the period", slicesWithObjects, resyncSlices)
	}

	clk.Step(10 * time.Minute)
	waitFor(t, "a whole period's objects to be queued", clk.HasWaiters)
	if got := drain(queue); len(got) != len(keys) {
		t.Errorf("a step of a whole period queued %d objects, want every one of %d", len(got), len(keys))
	}
}

// timerMovingClock is a fake clock a test steps while the sweep arms its
// timer: its first NewTimer steps it first, as a test's Step landing
// between the sweep's reading of the clock and its arming would.
type timerMovingClock struct {
	*clocktesting.FakeClock
	once sync.Once
	step time.Duration
}

func (c *timerMovingClock) NewTimer(d time.Duration) clock.Timer {
	c.once.Do(func() { c.Step(c.step) })
	return c.FakeClock.NewTimer(d)
}

// A fake clock only fires a timer when it is stepped again: a timer armed
// from a reading the clock has since left would wait for a step that a
// test waiting for the resync never makes.
func TestResyncSweepSeesAClockMovedWhileArming(t *testing.T) {
	clk := &timerMovingClock{FakeClock: clocktesting.NewFakeClock(time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)), step: 10 * time.Minute}
	keys := manyKeys(50)
	w := NewWakeups(clk, 10*time.Minute, fixedKeys(keys...))
	queue := startSources(t, w)
	waitFor(t, "every object to be queued", func() bool { return queue.Len() == len(keys) })
}

// A key that is not the cache's is skipped; a list that fails queues
// nothing and the sweep goes on.
func TestResyncSweepSurvivesBadKeysAndFailedLists(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC))
	var mu sync.Mutex
	fail := true
	keys := func(context.Context) ([]string, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			fail = false
			return nil, fmt.Errorf("cache not ready")
		}
		return []string{"ns/good", "a/b/c"}, nil
	}
	w := NewWakeups(clk, 10*time.Minute, keys)
	queue := startSources(t, w)
	waitFor(t, "the sweep to wait", clk.HasWaiters)
	clk.Step(10 * time.Minute)
	waitFor(t, "the sweep to wait after a failed list", clk.HasWaiters)
	if got := drain(queue); len(got) != 0 {
		t.Fatalf("a failed list queued %v", got)
	}
	clk.Step(10 * time.Minute)
	waitFor(t, "the sweep to wait again", clk.HasWaiters)
	if got := drain(queue); len(got) != 1 || got[0] != "ns/good" {
		t.Fatalf("queued %v, want ns/good only", got)
	}
}

// An object keeps its slice from one process to the next: FNV-1a of its
// key, not a hash seeded per process.
func TestSliceOfIsFNV1aOfTheKey(t *testing.T) {
	for _, key := range append(manyKeys(20), "") {
		h := fnv.New32a()
		_, _ = h.Write([]byte(key))
		if got, want := sliceOf(key), int(h.Sum32()%resyncSlices); got != want {
			t.Errorf("sliceOf(%q) = %d, want %d", key, got, want)
		}
	}
}

// While the controller's queue holds a backlog (its initial list, a burst
// of new lines), the slices that come are skipped, not piled up behind it:
// their objects are resynced a period later.
func TestResyncSweepSkipsSlicesWhileTheQueueHasABacklog(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC))
	keys := manyKeys(50)
	w := NewWakeups(clk, 10*time.Minute, fixedKeys(keys...))
	queue := startSources(t, w)
	for i := range minResyncBacklog + 1 {
		queue.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "backlog", Name: fmt.Sprint(i)}})
	}
	waitFor(t, "the sweep to wait", clk.HasWaiters)
	clk.Step(10 * time.Minute)
	waitFor(t, "the sweep to wait after skipping", clk.HasWaiters)
	for _, key := range drain(queue) {
		if !strings.HasPrefix(key, "backlog/") {
			t.Fatalf("%s resynced behind a backlog", key)
		}
	}
	clk.Step(10 * time.Minute)
	waitFor(t, "the sweep to wait again", clk.HasWaiters)
	if got := drain(queue); len(got) != len(keys) {
		t.Errorf("the backlog gone, a period queued %d objects, want every one of %d", len(got), len(keys))
	}
}

// Time-based transitions happen at their instant, not at the next resync
// (DESIGN, "How it behaves"): an instant At did not keep, counting on the
// object's resync, still comes in time when that resync falls behind a
// backlog. Its slice is swept anyway; the others wait a period.
func TestResyncSweepKeepsADroppedInstantBehindABacklog(t *testing.T) {
	now := time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(now)
	keys := manyKeys(50)
	w := NewWakeups(clk, 10*time.Minute, fixedKeys(keys...))
	queue := startSources(t, w)
	expiring := wakeupObject("obj-007") // ns/obj-007, one of keys
	at := now.Add(15 * time.Minute)
	w.At(expiring, &at)
	expectNothingScheduled(t, w) // a period or more away: left to its resync
	for i := range minResyncBacklog + 1 {
		queue.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "backlog", Name: fmt.Sprint(i)}})
	}
	waitFor(t, "the sweep to wait", clk.HasWaiters)
	clk.Step(10 * time.Minute)
	waitFor(t, "the sweep to wait after the period", clk.HasWaiters)
	var resynced []string
	for _, key := range drain(queue) {
		if !strings.HasPrefix(key, "backlog/") {
			resynced = append(resynced, key)
		}
	}
	for _, key := range resynced {
		if sliceOf(key) != sliceOf("ns/obj-007") {
			t.Errorf("%s resynced behind a backlog, though its slice has no instant to keep", key)
		}
	}
	if !slices.Contains(resynced, "ns/obj-007") {
		t.Fatalf("resynced %v behind a backlog, want ns/obj-007, whose instant comes before its slice's next sweep", resynced)
	}
	// Its reconcile schedules the instant, now within a period.
	w.At(expiring, &at)
	if got := scheduledWakeups(t, w); !got["obj-007"].Equal(at) {
		t.Errorf("scheduled %v, want obj-007 at %v", got, at)
	}
}
