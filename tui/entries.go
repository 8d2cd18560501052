package tui

import (
	"github.com/back-stack/idp/platform/live"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/screens/environment"
	"github.com/back-stack/idp/tui/screens/home"
)

// entries is what the home screen offers. A feature adds itself here when
// it exists; nothing is listed ahead of its implementation.
func entries(opts Options) []home.Entry {
	th := opts.Theme
	src := live.New() // one live client, so every screen shares its informers
	list := append([]home.Entry{
		{
			Title:       environment.Title,
			Description: environment.Description,
			Open:        func() nav.Screen { return environment.New(th) },
		},
	}, liveEntries(th, src)...)
	if opts.NewService != nil {
		list = append([]home.Entry{newServiceEntry(th, opts.NewService, watchService(th, src))}, list...)
	}
	if opts.Power != nil {
		list = append(list, powerEntry(th, opts.Power))
	}
	if opts.Bootstrap != nil {
		list = append(list, bootstrapEntry(th, opts.Bootstrap))
	}
	return list
}
