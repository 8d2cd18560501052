package watch

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestClassify(t *testing.T) {
	gr := schema.GroupResource{Group: "argoproj.io", Resource: "applications"}
	tests := []struct {
		err  error
		want State
	}{
		{nil, Live},
		{apierrors.NewForbidden(gr, "", errors.New("no")), Forbidden},
		{apierrors.NewNotFound(gr, ""), NotInstalled},
		{fmt.Errorf("Kind.group: %w", errNotServed), NotInstalled},
		{apierrors.NewUnauthorized("token expired"), Failed},
		{fmt.Errorf("dial tcp 127.0.0.1:6443: %w", syscall.ECONNREFUSED), Reconnecting},
		{apierrors.NewServiceUnavailable("shutting down"), Reconnecting},
	}
	for _, tt := range tests {
		if got := Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

// Leaving Live records when the objects were last current; the
// reconnection (the apiserver restart itself is exercised end to end in
// e2e) brings the source back to Live.
func TestSourceStatusTransitions(t *testing.T) {
	s := &source{changed: make(chan struct{}), status: Status{State: Loading}}
	_, changed := s.snapshot()
	s.connected()
	st, _ := s.snapshot()
	if st.State != Live || !isClosed(changed) {
		t.Fatalf("after connect: %+v", st)
	}
	s.fail(fmt.Errorf("watch: %w", syscall.ECONNREFUSED))
	st, _ = s.snapshot()
	if st.State != Reconnecting || st.Err == nil || st.LastLive.IsZero() {
		t.Fatalf("after the connection dropped: %+v", st)
	}
	_, changed = s.snapshot()
	s.fail(fmt.Errorf("watch: %w", syscall.ECONNREFUSED)) // the same error again changes nothing
	if isClosed(changed) {
		t.Error("a repeated error was reported as a change")
	}
	s.connected()
	if st, _ = s.snapshot(); st.State != Live || st.Err != nil {
		t.Fatalf("after reconnect: %+v", st)
	}
	var back State
	if err := back.UnmarshalText([]byte(Forbidden.String())); err != nil || back != Forbidden {
		t.Errorf("state text round trip: %v %v", back, err)
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
