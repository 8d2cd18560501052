package stream

import (
	"testing"
	"time"
)

func TestReadBatchesWhatIsWaiting(t *testing.T) {
	ch := make(chan int, 10)
	for i := range 5 {
		ch <- i
	}
	b := Read(ch, 7, time.Millisecond)
	if b.Gen != 7 || len(b.Events) != 5 || b.Closed {
		t.Fatalf("batch %+v", b)
	}
	ch <- 9
	close(ch)
	b = Read(ch, 7, time.Second)
	if len(b.Events) != 1 || !b.Closed {
		t.Fatalf("closing batch %+v", b)
	}
	if b = Read(ch, 7, time.Second); !b.Closed || len(b.Events) != 0 {
		t.Fatalf("read after close %+v", b)
	}
	if Next[int](nil, 1) != nil {
		t.Error("a nil channel gave a command")
	}
}

func TestReadCapsTheBatch(t *testing.T) {
	ch := make(chan int, MaxBatch+10)
	for i := range MaxBatch + 10 {
		ch <- i
	}
	if b := Read(ch, 1, time.Second); len(b.Events) != MaxBatch {
		t.Fatalf("batch of %d", len(b.Events))
	}
}
