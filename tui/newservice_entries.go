package tui

import (
	"context"

	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/screens/home"
	"github.com/back-stack/idp/tui/screens/newservice"
	"github.com/back-stack/idp/tui/theme"
)

// newServiceEntry opens the New service screen. The screen's calls end
// when it closes.
func newServiceEntry(th theme.Theme, svc newservice.Service, watch func(string) nav.Screen) home.Entry {
	return home.Entry{
		Title:       newservice.Title,
		Description: newservice.Description,
		Open:        func() nav.Screen { return newservice.New(context.Background(), th, svc).WithWatch(watch) },
	}
}
