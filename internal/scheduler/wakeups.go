// Package scheduler reconciles objects again at the instants their derived
// state changes by itself, on an injected clock (cert-manager's
// pkg/scheduler is the model).
package scheduler

import (
	"container/heap"
	"context"
	"math"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// Wakeups reconciles objects again at the exact instant their derived state
// changes by itself (an offer going live, a sales line ageing out, a benefit
// expiring). It stands in for RequeueAfter because its timer comes from the
// injected clock: a fake clock in tests fires it when it is stepped, so
// time-based behaviour is tested without sleeping.
//
// Schedules live in memory only. After a restart, the manager's initial
// list reconciles every object, and each reconcile schedules its next
// instant again from persisted spec and status.
//
// With a resync period, every object is also reconciled once per period
// even when nothing changes: the reconcile then repairs a status that
// someone else wiped or edited (status-only edits are not events the
// controllers watch) and, finding nothing to change, writes nothing. The
// resync is a sweep of the kind's objects in the cache, not a schedule per
// object: each object falls in one of resyncSlices slices by a hash of its
// key, and one slice is queued every period/resyncSlices, so the resyncs
// are spread over the period, each object's a period apart; a slice that
// comes while the controller works through a backlog (its initial list)
// waits for the next period. Only instants that come before the object's
// next resync are kept as schedules: at tens of thousands of objects, a
// schedule each (a key, an instant and its place in a heap and an index)
// weighed megabytes.
//
// A resync is queued at low priority: with a priority queue (the
// manager's default), objects changed by an event or at their instant are
// reconciled first, so a wave of resyncs never delays a new sales line or
// an expiry.
type Wakeups struct {
	clock  clock.WithDelayedExecution
	resync time.Duration
	// keys lists the keys of the kind's objects the resync sweeps;
	// lastKeys is how many it listed last (the sweep's alone).
	keys     Keys
	lastKeys int
	// events are the objects whose instant has come.
	events chan types.NamespacedName

	mu    sync.Mutex
	byKey map[types.NamespacedName]*wakeup
	// dropped is, per resync slice, the earliest instant At did not keep
	// because the slice's next sweep comes first (0: none since its last
	// sweep).
	dropped [resyncSlices]instant
	queue   wakeupQueue
	// timer is armed for armedAt, the earliest instant in queue; nil when
	// queue is empty. armings counts the timers armed, so that a callback
	// knows whether it is the current timer's.
	timer   clock.Timer
	armedAt instant
	armings uint64
}

// wakeup is one object's next instant, kept to 48 bytes: the instant in
// nanoseconds rather than a time.Time (24 bytes, with a pointer), the index
// in an int32.
type wakeup struct {
	key types.NamespacedName
	at  instant
	// index is the wakeup's place in the queue (container/heap).
	index int32
}

// instant is an instant in nanoseconds since the Unix epoch. Instants past
// the year 2262 (an int64's reach) are kept as the latest one: no clock
// reaches them in the scheduler's life, and a resync schedules them again.
// Instants before 1678 are kept as the earliest, due at once either way.
type instant int64

func instantOf(t time.Time) instant {
	switch {
	case t.After(latestInstant):
		return math.MaxInt64
	case t.Before(earliestInstant):
		return math.MinInt64
	}
	return instant(t.UnixNano())
}

func (i instant) time() time.Time { return time.Unix(0, int64(i)) }

var (
	latestInstant   = time.Unix(0, math.MaxInt64)
	earliestInstant = time.Unix(0, math.MinInt64)
)

// Keys lists the keys ("namespace/name", or "name" for a cluster-scoped
// kind, as client-go's cache keys them) of every object of a kind in the
// manager's cache.
type Keys func(ctx context.Context) ([]string, error)

// NewWakeups returns a scheduler using clk that also reconciles every
// object listed by keys once per resync (0: never).
func NewWakeups(clk clock.WithDelayedExecution, resync time.Duration, keys Keys) *Wakeups {
	return &Wakeups{
		clock:  clk,
		resync: resync,
		keys:   keys,
		events: make(chan types.NamespacedName, 1024),
		byKey:  map[types.NamespacedName]*wakeup{},
	}
}

// Source is the controller source that queues the wake-ups at their
// instants and, with a resync period, sweeps the kind's objects at low
// priority.
func (w *Wakeups) Source() source.Source {
	return source.Func(func(ctx context.Context, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case key := <-w.events:
					queue.Add(reconcile.Request{NamespacedName: key})
				}
			}
		}()
		if w.resync > 0 && w.keys != nil {
			go w.sweep(ctx, queue)
		}
		return nil
	})
}

// enqueueResync queues an object's resync, at low priority when the queue
// has priorities.
func enqueueResync(queue workqueue.TypedRateLimitingInterface[reconcile.Request], key types.NamespacedName) {
	req := reconcile.Request{NamespacedName: key}
	if pq, ok := queue.(priorityqueue.PriorityQueue[reconcile.Request]); ok {
		pq.AddWithOpts(priorityqueue.AddOpts{Priority: ptr.To(handler.LowPriority)}, req)
		return
	}
	queue.Add(req)
}

// At schedules a reconcile of obj at instant at, replacing any earlier
// schedule for it; a nil at cancels the schedule. An instant already past
// wakes the object at once. With a resync period, an instant a period or
// more away is not kept: the object's resync reconciles it before then,
// and that reconcile schedules it again.
func (w *Wakeups) At(obj client.Object, at *time.Time) {
	key := client.ObjectKeyFromObject(obj)
	w.mu.Lock()
	defer w.mu.Unlock()

	// The object's next resync comes within a period of now. Its slice is
	// told, so that a sweep behind a backlog does not skip it past the
	// instant.
	if at != nil && w.resync > 0 && w.keys != nil && !at.Before(w.clock.Now().Add(w.resync)) {
		if slice, dropped := sliceOf(toolscache.ObjectName(key).String()), instantOf(*at); w.dropped[slice] == 0 || dropped < w.dropped[slice] {
			w.dropped[slice] = dropped
		}
		at = nil
	}
	// An instant already past is scheduled like any other: armLocked finds
	// it due and fires at once.
	switch s, ok := w.byKey[key]; {
	case at == nil:
		w.removeLocked(key)
	case ok && s.at == instantOf(*at):
		return
	case ok:
		s.at = instantOf(*at)
		heap.Fix(&w.queue, int(s.index))
	default:
		s := &wakeup{key: key, at: instantOf(*at)}
		w.byKey[key] = s
		heap.Push(&w.queue, s)
	}
	w.armLocked()
}

// Forget cancels any schedule for the object with this key.
func (w *Wakeups) Forget(key types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.removeLocked(key)
	w.armLocked()
}

func (w *Wakeups) removeLocked(key types.NamespacedName) {
	if s, ok := w.byKey[key]; ok {
		heap.Remove(&w.queue, int(s.index))
		delete(w.byKey, key)
	}
}

// armLocked keeps the timer armed for the earliest instant in the queue.
func (w *Wakeups) armLocked() {
	if len(w.queue) == 0 {
		if w.timer != nil {
			w.timer.Stop()
			w.timer = nil
		}
		return
	}
	first := w.queue[0].at
	if w.timer != nil && w.armedAt == first {
		return
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	for {
		now := w.clock.Now()
		w.armings++
		arming := w.armings
		w.armedAt = first
		d := first.time().Sub(now)
		if d <= 0 {
			// Due already: an instant scheduled in the past, or the clock
			// moved since it was scheduled (a fake clock stepped by a test
			// meanwhile). A fake clock fires a timer only when it is stepped
			// again, so do not arm one.
			w.timer = dueNow{}
			go w.fire(arming)
			return
		}
		// The callback only starts a goroutine: a fake clock runs AfterFunc
		// callbacks synchronously while holding its own lock, and At holds
		// w.mu while reading that clock, so taking w.mu (or blocking on the
		// channel) inside the callback could deadlock a test stepping the
		// clock while a reconcile schedules its next instant.
		w.timer = w.clock.AfterFunc(d, func() { go w.fire(arming) })
		// The timer counts from the clock's time when it is armed. A clock
		// that moved between reading it and arming the timer (a fake clock
		// stepped by a test meanwhile) would make it fire late by that move,
		// missing the instant: arm it again from the new time. A real clock
		// moves by nanoseconds here, which does not matter.
		if w.clock.Since(now) < time.Millisecond {
			return
		}
		w.timer.Stop()
	}
}

// fire wakes every object whose instant has come, and arms the timer for
// the next. arming is the timer that called it: the current one, or one
// stopped too late, which finds nothing due or takes the current one's
// work.
func (w *Wakeups) fire(arming uint64) {
	w.mu.Lock()
	now := instantOf(w.clock.Now())
	var due []types.NamespacedName
	for len(w.queue) > 0 && w.queue[0].at <= now {
		s := heap.Pop(&w.queue).(*wakeup)
		delete(w.byKey, s.key)
		due = append(due, s.key)
	}
	// Armed again when the current timer fired (even early, as after the
	// wall clock was set back: nothing due yet) or its instant was taken.
	if w.timer != nil && (arming == w.armings || len(due) > 0) {
		w.timer.Stop()
		w.timer = nil
	}
	w.armLocked()
	w.mu.Unlock()
	for _, e := range due {
		w.events <- e
	}
}

// dueNow stands for a timer that already fired: its instant had come when
// it would have been armed, and fire is on its way.
type dueNow struct{}

func (dueNow) C() <-chan time.Time      { return nil }
func (dueNow) Stop() bool               { return false }
func (dueNow) Reset(time.Duration) bool { return false }

// wakeupQueue orders wakeups by instant (container/heap).
type wakeupQueue []*wakeup

func (q wakeupQueue) Len() int           { return len(q) }
func (q wakeupQueue) Less(i, j int) bool { return q[i].at < q[j].at }
func (q wakeupQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = int32(i), int32(j)
}

func (q *wakeupQueue) Push(x any) {
	s := x.(*wakeup)
	s.index = int32(len(*q))
	*q = append(*q, s)
}

func (q *wakeupQueue) Pop() any {
	old := *q
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return s
}
