package keylock

import (
	"sync"
	"testing"
)

// Locks serialises the one-time grants of a benefit and offer (B3)
// across concurrent workers: never two holders of one key.
func TestLocksSerialisesOneKey(t *testing.T) {
	var k Locks
	var wg sync.WaitGroup
	holders, most := 0, 0
	var mu sync.Mutex
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock := k.Lock("ns/offer/benefit")
			mu.Lock()
			holders++
			most = max(most, holders)
			mu.Unlock()
			mu.Lock()
			holders--
			mu.Unlock()
			unlock()
		}()
	}
	wg.Wait()
	if most != 1 {
		t.Errorf("%d holders of one key at once, want 1", most)
	}
	if len(k.locks) != 0 {
		t.Errorf("%d locks left after every holder unlocked, want none", len(k.locks))
	}
	// Another key is not blocked by a held one.
	unlockA := k.Lock("a")
	done := make(chan struct{})
	go func() { k.Lock("b")(); close(done) }()
	<-done
	unlockA()
}
