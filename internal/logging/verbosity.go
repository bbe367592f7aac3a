// Package logging keeps personal data out of the operator's logs.
//
// controller-runtime puts the manager's logger into the context of every
// reconcile, and client-go logs each request through the logger of its
// context (klog.FromContext): request and response headers from V(7), and
// whole request and response bodies from V(8). A response body is the
// object itself, so at `--zap-log-level=8` and above every Publisher read or
// patched would be logged with its marketing contact's email and phone.
// Capping the verbosity is simpler and safer than redacting fields: no
// object body reaches the log at any level, whatever kind it is.
package logging

import "github.com/go-logr/logr"

// MaxVerbosity is the highest logr V-level the operator logs at. client-go
// logs URLs and latencies at V(6), headers at V(7) and object bodies at
// V(8) and above; the operator's own code and controller-runtime log below
// V(6).
const MaxVerbosity = 6

// CapVerbosity returns l with every V-level above max disabled: Enabled
// reports false and Info drops the line, for l and every logger derived
// from it (WithName, WithValues, V). Errors are always logged, as logr
// intends; none of client-go's carries an object body.
func CapVerbosity(l logr.Logger, max int) logr.Logger {
	sink := l.GetSink()
	if sink == nil {
		return l
	}
	// The wrapper adds one call frame between logr and the wrapped sink;
	// skip it so that the caller's file and line stay right.
	if cd, ok := sink.(logr.CallDepthLogSink); ok {
		sink = cd.WithCallDepth(1)
	}
	return logr.New(&cappedSink{sink: sink, max: max}).V(l.GetV())
}

// cappedSink wraps a LogSink, disabling the levels above max.
type cappedSink struct {
	sink logr.LogSink
	max  int
	// values are those given to WithValues, not yet handed to sink: they
	// are handed over when a line is written. controller-runtime derives a
	// logger with the object's name and a reconcile ID for every
	// reconcile, and almost none of them writes a line, while zap encodes
	// values as soon as it is given them: encoding them then would be work
	// done on every reconcile for a line nearly none of them writes.
	values []any
}

var (
	_ logr.LogSink          = &cappedSink{}
	_ logr.CallDepthLogSink = &cappedSink{}
)

// Init does nothing: the wrapped sink was initialised by the logger it came
// from (initialising it again would make it skip its call frames twice).
func (s *cappedSink) Init(logr.RuntimeInfo) {}

func (s *cappedSink) Enabled(level int) bool {
	return level <= s.max && s.sink.Enabled(level)
}

func (s *cappedSink) Info(level int, msg string, keysAndValues ...any) {
	if level > s.max {
		return
	}
	s.withValues().Info(level, msg, keysAndValues...)
}

func (s *cappedSink) Error(err error, msg string, keysAndValues ...any) {
	s.withValues().Error(err, msg, keysAndValues...)
}

// withValues is the wrapped sink with the values given so far.
func (s *cappedSink) withValues() logr.LogSink {
	if len(s.values) == 0 {
		return s.sink
	}
	return s.sink.WithValues(s.values...)
}

func (s *cappedSink) WithValues(keysAndValues ...any) logr.LogSink {
	// A full slice expression: appending copies, so that loggers derived
	// from the same one never share their values.
	values := append(s.values[:len(s.values):len(s.values)], keysAndValues...)
	return &cappedSink{sink: s.sink, max: s.max, values: values}
}

func (s *cappedSink) WithName(name string) logr.LogSink {
	return &cappedSink{sink: s.sink.WithName(name), max: s.max, values: s.values}
}

func (s *cappedSink) WithCallDepth(depth int) logr.LogSink {
	if cd, ok := s.sink.(logr.CallDepthLogSink); ok {
		return &cappedSink{sink: cd.WithCallDepth(depth), max: s.max, values: s.values}
	}
	return s
}
