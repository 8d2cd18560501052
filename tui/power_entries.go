package tui

import (
	"context"

	"github.com/back-stack/idp/platform/aks"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/screens/home"
	"github.com/back-stack/idp/tui/screens/power"
	"github.com/back-stack/idp/tui/theme"
)

// powerEntry opens the Cluster power screen on the session's cluster. The
// screen's reads end when it closes; actions belong to the session.
func powerEntry(th theme.Theme, s *aks.Session) home.Entry {
	return home.Entry{
		Title:       power.Title,
		Description: power.Description,
		Open:        func() nav.Screen { return power.New(context.Background(), th, s) },
	}
}
