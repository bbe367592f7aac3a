package testenv

import (
	"net"
	"strings"
	"sync"
)

// FreeAddr is a loopback address with a port no one listens on, for a
// manager process' metrics or health endpoint. It panics if the system
// has no free port, which no test could go on from.
func FreeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

// SyncBuffer collects a process' output; a test reads it while the process
// writes.
type SyncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
