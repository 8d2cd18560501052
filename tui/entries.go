package tui

import (
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/screens/environment"
	"github.com/back-stack/idp/tui/screens/home"
	"github.com/back-stack/idp/tui/theme"
)

// entries is what the home screen offers. A feature adds itself here when
// it exists; nothing is listed ahead of its implementation.
func entries(th theme.Theme) []home.Entry {
	return []home.Entry{
		{
			Title:       environment.Title,
			Description: environment.Description,
			Open:        func() nav.Screen { return environment.New(th) },
		},
	}
}
