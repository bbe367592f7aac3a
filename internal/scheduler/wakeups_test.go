package scheduler

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// The scheduler's events are only ever awaited (with a generous limit for
// a loaded machine), never checked for absence after a pause: what is not
// due yet is read from its schedules, which stand still once the event of
// a firing is received (the firing takes its keys out before sending).

func wakeupObject(name string) client.Object {
	return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}}
}

func wakeKey(name string) types.NamespacedName {
	return types.NamespacedName{Namespace: "ns", Name: name}
}

// receiveWakeups waits for n wake-ups and returns their keys, sorted.
func receiveWakeups(t *testing.T, w *Wakeups, n int) []types.NamespacedName {
	t.Helper()
	var got []types.NamespacedName
	for range n {
		select {
		case key := <-w.events:
			got = append(got, key)
		case <-time.After(time.Minute):
			t.Fatalf("waited a minute for wake-up %d of %d; got %v", len(got)+1, n, got)
		}
	}
	slices.SortFunc(got, func(a, b types.NamespacedName) int { return cmp.Compare(a.Name, b.Name) })
	return got
}

// expectWakeups waits for the wake-ups of the objects named, in any order,
// and fails if others come instead.
func expectWakeups(t *testing.T, w *Wakeups, names ...string) {
	t.Helper()
	want := make([]types.NamespacedName, len(names))
	for i, name := range names {
		want[i] = wakeKey(name)
	}
	slices.SortFunc(want, func(a, b types.NamespacedName) int { return cmp.Compare(a.Name, b.Name) })
	if got := receiveWakeups(t, w, len(names)); !slices.Equal(got, want) {
		t.Fatalf("woke %v, want %v", got, want)
	}
}

// expectNothingScheduled fails if any object is still scheduled.
func expectNothingScheduled(t *testing.T, w *Wakeups) {
	t.Helper()
	if got := scheduledWakeups(t, w); len(got) != 0 {
		t.Fatalf("still scheduled %v, want nothing", got)
	}
}

// scheduledWakeups lists the keys still scheduled and when, checking that the
// heap and the index agree.
func scheduledWakeups(t *testing.T, w *Wakeups) map[string]time.Time {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]time.Time{}
	for i, s := range w.queue {
		if int(s.index) != i || w.byKey[s.key] != s {
			t.Fatalf("queue and index disagree at %d: %+v", i, s)
		}
		out[s.key.Name] = s.at.time()
	}
	if len(out) != len(w.byKey) {
		t.Fatalf("%d scheduled in the queue, %d in the index", len(out), len(w.byKey))
	}
	if (w.timer == nil) != (len(w.queue) == 0) {
		t.Fatalf("timer armed: %v with %d scheduled", w.timer != nil, len(w.queue))
	}
	if len(w.queue) > 0 && w.armedAt != w.queue[0].at {
		t.Fatalf("timer armed for %s, the earliest is %s", w.armedAt.time(), w.queue[0].at.time())
	}
	return out
}

func TestWakeupsFireEachObjectAtItsInstant(t *testing.T) {
	now := time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(now)
	w := NewWakeups(clk, 0, nil)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }

	w.At(wakeupObject("c"), at(3*time.Hour))
	w.At(wakeupObject("a"), at(time.Hour))
	w.At(wakeupObject("b"), at(2*time.Hour))
	w.At(wakeupObject("d"), at(5*time.Hour))
	w.At(wakeupObject("d"), at(4*time.Hour)) // replaces its earlier schedule
	w.At(wakeupObject("e"), at(time.Hour))
	w.At(wakeupObject("e"), nil) // cancels it
	w.At(wakeupObject("f"), at(time.Hour))
	w.Forget(wakeKey("f"))
	if got, want := scheduledWakeups(t, w), map[string]time.Time{"a": *at(time.Hour), "b": *at(2 * time.Hour),
		"c": *at(3 * time.Hour), "d": *at(4 * time.Hour)}; !mapsEqual(got, want) {
		t.Fatalf("scheduled %v, want %v", got, want)
	}

	clk.Step(time.Hour)
	expectWakeups(t, w, "a")
	if got := scheduledWakeups(t, w); len(got) != 3 || got["b"].IsZero() {
		t.Fatalf("after 1h still scheduled %v, want b, c, d", got)
	}

	// A step past several instants wakes them all.
	clk.Step(150 * time.Minute)
	expectWakeups(t, w, "b", "c")
	if got := scheduledWakeups(t, w); len(got) != 1 || !got["d"].Equal(*at(4 * time.Hour)) {
		t.Fatalf("after 3h30 still scheduled %v, want d at 4h", got)
	}

	// Scheduling an earlier instant than the one the timer waits for.
	w.At(wakeupObject("g"), at(220*time.Minute))
	clk.Step(10 * time.Minute)
	expectWakeups(t, w, "g")
	clk.Step(20 * time.Minute)
	expectWakeups(t, w, "d")
	expectNothingScheduled(t, w)
}

func TestWakeupsPastInstantWakesAtOnce(t *testing.T) {
	now := time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(now)
	w := NewWakeups(clk, 0, nil)
	later, past := now.Add(time.Hour), now.Add(-time.Second)
	w.At(wakeupObject("a"), &later)
	w.At(wakeupObject("a"), &past) // replaces the later one
	expectWakeups(t, w, "a")
	expectNothingScheduled(t, w)
}

// Instants beyond an int64 of nanoseconds (admission lets an expiry reach
// the year 9000 and beyond): one far in the past wakes at once, one far
// in the future keeps its place after every nearer one and never fires.
func TestWakeupsInstantsBeyondNanoseconds(t *testing.T) {
	now := time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(now)
	w := NewWakeups(clk, 0, nil)
	ancient, far, farther, soon := time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9000, time.January, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, time.December, 31, 0, 0, 0, 0, time.UTC), now.Add(time.Hour)
	w.At(wakeupObject("far"), &far)
	w.At(wakeupObject("farther"), &farther)
	w.At(wakeupObject("soon"), &soon)
	w.At(wakeupObject("ancient"), &ancient)
	expectWakeups(t, w, "ancient")
	clk.Step(time.Hour)
	expectWakeups(t, w, "soon")
	if got := scheduledWakeups(t, w); len(got) != 2 || !got["far"].After(now.AddDate(200, 0, 0)) {
		t.Fatalf("still scheduled %v, want far and farther after the year 2226", got)
	}
	w.At(wakeupObject("far"), nil)
	w.At(wakeupObject("farther"), nil)
	expectNothingScheduled(t, w)
}

// With a resync period, only instants that come before the object's next
// resync are kept: the resync reconciles the others first, and that
// reconcile schedules them again.
func TestWakeupsKeepOnlyInstantsBeforeTheResync(t *testing.T) {
	now := time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(now)
	w := NewWakeups(clk, 10*time.Minute, fixedKeys())
	soon, atTheResync, late := now.Add(time.Minute), now.Add(10*time.Minute), now.Add(time.Hour)
	w.At(wakeupObject("idle"), nil)
	w.At(wakeupObject("soon"), &soon)
	w.At(wakeupObject("at-the-resync"), &atTheResync)
	w.At(wakeupObject("late"), &late)
	w.At(wakeupObject("was-soon"), &soon)
	w.At(wakeupObject("was-soon"), &late) // replaces its schedule: dropped
	if got, want := scheduledWakeups(t, w), map[string]time.Time{"soon": soon}; !mapsEqual(got, want) {
		t.Fatalf("scheduled %v, want %v", got, want)
	}
	// Without a resync period every instant is kept.
	w = NewWakeups(clk, 0, nil)
	w.At(wakeupObject("late"), &late)
	if got, want := scheduledWakeups(t, w), map[string]time.Time{"late": late}; !mapsEqual(got, want) {
		t.Fatalf("scheduled %v without a resync period, want %v", got, want)
	}
}

func mapsEqual(a, b map[string]time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !w.Equal(v) {
			return false
		}
	}
	return true
}

// movingClock is a fake clock a test steps while the scheduler reads it:
// the stepAt-th call of Now steps it by step first, as a test's Step
// landing between two reads of a reconcile's scheduling would.
type movingClock struct {
	*clocktesting.FakeClock
	mu     sync.Mutex
	calls  int
	stepAt int
	step   time.Duration
}

func (c *movingClock) Now() time.Time {
	c.mu.Lock()
	c.calls++
	n := c.calls
	c.mu.Unlock()
	if n == c.stepAt {
		c.Step(c.step)
	}
	return c.FakeClock.Now()
}

// An instant that comes while it is being scheduled: a fake clock only
// fires a timer when it is stepped, so a timer armed then would wait for
// the next step, which a test waiting for the wake-up never makes.
func TestWakeupsInstantReachedWhileScheduling(t *testing.T) {
	now := time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)
	clk := &movingClock{FakeClock: clocktesting.NewFakeClock(now), stepAt: 1, step: 10 * time.Minute}
	w := NewWakeups(clk, 0, nil)
	at := now.Add(10 * time.Minute)
	w.At(wakeupObject("a"), &at) // at 9:10, while the clock moves to 9:10
	expectWakeups(t, w, "a")
	expectNothingScheduled(t, w)
}

// A resync waits behind the objects queued by an event or at their
// instant: a wave of resyncs does not delay a new sales line.
func TestResyncsAreQueuedAtLowPriority(t *testing.T) {
	queue := priorityqueue.New[reconcile.Request]("wakeups-test")
	defer queue.ShutDown()
	enqueueResync(queue, wakeKey("resynced-1"))
	enqueueResync(queue, wakeKey("resynced-2"))
	queue.Add(reconcile.Request{NamespacedName: wakeKey("expiring")})
	queue.Add(reconcile.Request{NamespacedName: wakeKey("new-line")})
	order := make([]string, 0, 4)
	for range 4 {
		req, _ := queue.Get()
		order = append(order, req.Name)
		queue.Done(req)
	}
	if !strings.HasPrefix(order[2], "resynced-") || !strings.HasPrefix(order[3], "resynced-") {
		t.Errorf("reconciled in the order %v, want the resyncs last", order)
	}

	// A queue without priorities still gets every resync.
	plain := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer plain.ShutDown()
	enqueueResync(plain, wakeKey("resynced"))
	if req, _ := plain.Get(); req.Name != "resynced" {
		t.Errorf("got %v from a plain queue, want resynced", req)
	}
}
