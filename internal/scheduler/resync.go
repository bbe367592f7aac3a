package scheduler

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// resyncSlices is how many slices a resync period is cut into: one slice
// of the objects is queued every period/resyncSlices (10 s of the default
// 10 minutes), so that the resyncs come as a trickle, not as a wave of
// every object at once.
const resyncSlices = 60

// minResyncBacklog is the fewest objects waiting in a controller's queue
// that make a sweep skip its slices: a backlog is more than a slice's
// objects, and never fewer than this.
const minResyncBacklog = 1000

// sweep queues, for as long as ctx lives, every object of the kind once per
// resync period, one slice at a time, at low priority. The slices are
// counted from the sweep's start on the injected clock: a fake clock
// stepped by a whole period queues every object at once.
func (w *Wakeups) sweep(ctx context.Context, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	tick := w.resync / resyncSlices
	start := w.clock.Now()
	swept := 0 // slices queued since start
	for {
		now := w.clock.Now()
		if due := int(now.Sub(start) / tick); due > swept {
			w.resyncSlices(ctx, queue, swept, due)
			swept = due
			continue
		}
		timer := w.clock.NewTimer(start.Add(time.Duration(swept+1) * tick).Sub(now))
		// A clock that moved between reading it and arming the timer (a fake
		// clock stepped by a test meanwhile) would make the timer late by
		// that move, as in armLocked: look again at once.
		if w.clock.Since(now) >= time.Millisecond {
			timer.Stop()
			continue
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C():
		}
	}
}

// resyncSlices queues the objects of slices from to to-1, counted since the
// sweep's start (so modulo resyncSlices): every object when that is a whole
// period or more.
func (w *Wakeups) resyncSlices(ctx context.Context, queue workqueue.TypedRateLimitingInterface[reconcile.Request], from, to int) {
	// While the controller works through a backlog (its initial list, a
	// burst of new lines), a slice that comes is skipped and resynced a
	// period later: resyncing objects reconciled moments ago is work
	// without use (while the initial list drains, it is most of them), and
	// the resyncs would wait behind the backlog, and grow it. Unless an
	// instant At did not keep, counting on this sweep, would pass before
	// the slice's next one.
	waiting := queue.Len()
	backlogged := waiting > max(minResyncBacklog, w.lastKeys/resyncSlices)
	nextSweep := instantOf(w.clock.Now().Add(w.resync))
	var due [resyncSlices]bool
	anyDue := false
	w.mu.Lock()
	for i := from; i < to && i < from+resyncSlices; i++ {
		slice := i % resyncSlices
		if backlogged && (w.dropped[slice] == 0 || w.dropped[slice] >= nextSweep) {
			continue
		}
		due[slice], anyDue = true, true
	}
	w.mu.Unlock()
	if !anyDue {
		log.FromContext(ctx).V(1).Info("resync slices skipped: the controller has a backlog", "waiting", waiting, "slices", to-from)
		return
	}
	keys, err := w.keys(ctx)
	if err != nil {
		// The objects of these slices are resynced a period later.
		log.FromContext(ctx).Error(err, "listing the objects to resync")
		return
	}
	w.lastKeys = len(keys)
	// The objects queued schedule their instants again as they are
	// reconciled.
	w.mu.Lock()
	for slice := range due {
		if due[slice] {
			w.dropped[slice] = 0
		}
	}
	w.mu.Unlock()
	for _, key := range keys {
		if !due[sliceOf(key)] {
			continue
		}
		namespace, name, err := toolscache.SplitMetaNamespaceKey(key)
		if err != nil {
			continue // not a key the cache makes
		}
		enqueueResync(queue, types.NamespacedName{Namespace: namespace, Name: name})
	}
}

// sliceOf is the resync slice of the object with this key: an FNV-1a hash
// of the key, so that an object keeps its slice, and so its place in the
// period, from one period and one process to the next.
func sliceOf(key string) int {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return int(h % resyncSlices)
}
