// Package stream turns a platform watch channel into Bubble Tea messages:
// a command that blocks for one event, drains what follows for a short
// window, and returns them as one batch stamped with a generation. The
// receiver re-arms it only for its current generation.
package stream

import (
	"time"

	tea "charm.land/bubbletea/v2"
)

// Window is how long a batch keeps collecting after its first event: long
// enough to coalesce a burst (a relist of thousands of objects) into a few
// frames, short enough not to delay a single change noticeably.
const Window = 4 * time.Millisecond

// MaxBatch caps a batch so that a huge burst still paints progressively.
const MaxBatch = 4096

// BatchMsg is the events read for generation Gen. Closed reports that the
// channel was closed (its context ended): do not re-arm.
type BatchMsg[E any] struct {
	Gen    int
	Events []E
	Closed bool
}

// Next returns a command that reads the next batch from ch. It captures
// only its arguments, never a model.
func Next[E any](ch <-chan E, gen int) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg { return Read(ch, gen, Window) }
}

// Read blocks for one event and then drains ch for up to window.
func Read[E any](ch <-chan E, gen int, window time.Duration) BatchMsg[E] {
	first, ok := <-ch
	if !ok {
		return BatchMsg[E]{Gen: gen, Closed: true}
	}
	batch := BatchMsg[E]{Gen: gen, Events: []E{first}}
	timer := time.NewTimer(window)
	defer timer.Stop()
	for len(batch.Events) < MaxBatch {
		select {
		case ev, ok := <-ch:
			if !ok {
				batch.Closed = true
				return batch
			}
			batch.Events = append(batch.Events, ev)
		case <-timer.C:
			return batch
		}
	}
	return batch
}
