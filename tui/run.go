package tui

import (
	"context"
	"errors"

	tea "charm.land/bubbletea/v2"
)

// Run shows the app on the terminal until the user quits or ctx is done.
// Cancellation (a signal) is a normal way to stop, not an error.
func Run(ctx context.Context, opts Options) error {
	_, err := tea.NewProgram(New(opts), tea.WithContext(ctx)).Run()
	if err != nil && (ctx.Err() != nil || errors.Is(err, tea.ErrInterrupted)) {
		return nil
	}
	return err
}
