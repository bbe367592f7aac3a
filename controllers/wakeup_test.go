package controllers

import (
	"cmp"
	"slices"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
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

// receive waits for n wake-ups and returns their keys, sorted.
func receiveWakeups(t *testing.T, w *Wakeups, n int) []types.NamespacedName {
	t.Helper()
	var got []types.NamespacedName
	for range n {
		select {
		case e := <-w.events:
			got = append(got, client.ObjectKeyFromObject(e.Object))
		case <-time.After(time.Minute):
			t.Fatalf("waited a minute for wake-up %d of %d; got %v", len(got)+1, n, got)
		}
	}
	slices.SortFunc(got, func(a, b types.NamespacedName) int { return cmp.Compare(a.Name, b.Name) })
	return got
}

// scheduled lists the keys still scheduled and when, checking that the
// heap and the index agree.
func scheduledWakeups(t *testing.T, w *Wakeups) map[string]time.Time {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]time.Time{}
	for i, s := range w.queue {
		if s.index != i || w.byKey[s.key] != s {
			t.Fatalf("queue and index disagree at %d: %+v", i, s)
		}
		out[s.key.Name] = s.at
	}
	if len(out) != len(w.byKey) {
		t.Fatalf("%d scheduled in the queue, %d in the index", len(out), len(w.byKey))
	}
	if (w.timer == nil) != (len(w.queue) == 0) {
		t.Fatalf("timer armed: %v with %d scheduled", w.timer != nil, len(w.queue))
	}
	if len(w.queue) > 0 && !w.armedAt.Equal(w.queue[0].at) {
		t.Fatalf("timer armed for %s, the earliest is %s", w.armedAt, w.queue[0].at)
	}
	return out
}

func TestWakeupsFireEachObjectAtItsInstant(t *testing.T) {
	now := time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(now)
	w := NewWakeups(clk, 0)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }

	w.At(wakeupObject("c"), clk.Now(), at(3*time.Hour))
	w.At(wakeupObject("a"), clk.Now(), at(time.Hour))
	w.At(wakeupObject("b"), clk.Now(), at(2*time.Hour))
	w.At(wakeupObject("d"), clk.Now(), at(5*time.Hour))
	w.At(wakeupObject("d"), clk.Now(), at(4*time.Hour)) // replaces its earlier schedule
	w.At(wakeupObject("e"), clk.Now(), at(time.Hour))
	w.At(wakeupObject("e"), clk.Now(), nil) // cancels it
	w.At(wakeupObject("f"), clk.Now(), at(time.Hour))
	w.Forget(wakeKey("f"))
	if got, want := scheduledWakeups(t, w), map[string]time.Time{"a": *at(time.Hour), "b": *at(2 * time.Hour),
		"c": *at(3 * time.Hour), "d": *at(4 * time.Hour)}; !mapsEqual(got, want) {
		t.Fatalf("scheduled %v, want %v", got, want)
	}

	clk.Step(time.Hour)
	if got := receiveWakeups(t, w, 1); !slices.Equal(got, []types.NamespacedName{wakeKey("a")}) {
		t.Fatalf("at 1h woke %v, want a", got)
	}
	if got := scheduledWakeups(t, w); len(got) != 3 || got["b"].IsZero() {
		t.Fatalf("after 1h still scheduled %v, want b, c, d", got)
	}

	// A step past several instants wakes them all.
	clk.Step(150 * time.Minute)
	if got := receiveWakeups(t, w, 2); !slices.Equal(got, []types.NamespacedName{wakeKey("b"), wakeKey("c")}) {
		t.Fatalf("at 3h30 woke %v, want b and c", got)
	}
	if got := scheduledWakeups(t, w); len(got) != 1 || !got["d"].Equal(*at(4 * time.Hour)) {
		t.Fatalf("after 3h30 still scheduled %v, want d at 4h", got)
	}

	// Scheduling an earlier instant than the one the timer waits for.
	w.At(wakeupObject("g"), clk.Now(), at(220*time.Minute))
	clk.Step(10 * time.Minute)
	if got := receiveWakeups(t, w, 1); !slices.Equal(got, []types.NamespacedName{wakeKey("g")}) {
		t.Fatalf("at 3h40 woke %v, want g", got)
	}
	clk.Step(20 * time.Minute)
	if got := receiveWakeups(t, w, 1); !slices.Equal(got, []types.NamespacedName{wakeKey("d")}) {
		t.Fatalf("at 4h woke %v, want d", got)
	}
	if got := scheduledWakeups(t, w); len(got) != 0 {
		t.Fatalf("still scheduled %v, want nothing", got)
	}
}

func TestWakeupsPastInstantWakesAtOnce(t *testing.T) {
	now := time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(now)
	w := NewWakeups(clk, 0)
	later, past := now.Add(time.Hour), now.Add(-time.Second)
	w.At(wakeupObject("a"), clk.Now(), &later)
	w.At(wakeupObject("a"), clk.Now(), &past) // replaces the later one
	if got := receiveWakeups(t, w, 1); !slices.Equal(got, []types.NamespacedName{wakeKey("a")}) {
		t.Fatalf("woke %v, want a", got)
	}
	if got := scheduledWakeups(t, w); len(got) != 0 {
		t.Fatalf("still scheduled %v, want nothing", got)
	}
}

func TestWakeupsResyncComesFirstUnlessSooner(t *testing.T) {
	now := time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(now)
	w := NewWakeups(clk, 10*time.Minute)
	soon, late := now.Add(time.Minute), now.Add(time.Hour)
	w.At(wakeupObject("idle"), clk.Now(), nil)
	w.At(wakeupObject("soon"), clk.Now(), &soon)
	w.At(wakeupObject("late"), clk.Now(), &late)
	resync := now.Add(10 * time.Minute)
	if got, want := scheduledWakeups(t, w), map[string]time.Time{"idle": resync, "soon": soon, "late": resync}; !mapsEqual(got, want) {
		t.Fatalf("scheduled %v, want %v", got, want)
	}
	clk.Step(10 * time.Minute)
	if got := receiveWakeups(t, w, 3); !slices.Equal(got, []types.NamespacedName{wakeKey("idle"), wakeKey("late"), wakeKey("soon")}) {
		t.Fatalf("woke %v, want all three", got)
	}
	// Each reconcile schedules its next resync from its own time.
	w.At(wakeupObject("idle"), clk.Now(), nil)
	if got := scheduledWakeups(t, w); !got["idle"].Equal(now.Add(20 * time.Minute)) {
		t.Fatalf("next resync %v, want 10 minutes after the reconcile", got)
	}
	// A reconcile that read the clock before it moved on by a resync
	// period (a test stepping it while the reconcile finishes) is resynced
	// at once: from the step, the next resync would be a period away.
	reconciledAt := clk.Now()
	clk.Step(10 * time.Minute)
	w.At(wakeupObject("slow"), reconciledAt, nil)
	if got := receiveWakeups(t, w, 2); !slices.Equal(got, []types.NamespacedName{wakeKey("idle"), wakeKey("slow")}) {
		t.Fatalf("woke %v, want idle (its resync) and slow", got)
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
	clk := &movingClock{FakeClock: clocktesting.NewFakeClock(now), stepAt: 2, step: 10 * time.Minute}
	w := NewWakeups(clk, 10*time.Minute)
	w.At(wakeupObject("a"), now, nil) // its resync, at 9:10, while the clock moves to 9:10
	if got := receiveWakeups(t, w, 1); !slices.Equal(got, []types.NamespacedName{wakeKey("a")}) {
		t.Fatalf("woke %v, want a", got)
	}
	if got := scheduledWakeups(t, w); len(got) != 0 {
		t.Fatalf("still scheduled %v, want nothing", got)
	}
}
