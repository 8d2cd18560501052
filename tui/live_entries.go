package tui

import (
	"github.com/back-stack/idp/platform/argocd"
	"github.com/back-stack/idp/platform/live"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/screens/appdetail"
	"github.com/back-stack/idp/tui/screens/apps"
	"github.com/back-stack/idp/tui/screens/home"
	"github.com/back-stack/idp/tui/screens/xtree"
	"github.com/back-stack/idp/tui/theme"
)

// liveEntries are the live views of the cluster. They share src, and so
// one informer per kind however many screens are open.
func liveEntries(th theme.Theme, src *live.Client) []home.Entry {
	detail := func(a argocd.App) nav.Screen { return appdetail.New(th, src, a) }
	openTree := func() nav.Screen { return xtree.New(th, src) }
	openApps := func() nav.Screen {
		return apps.New(apps.Options{Theme: th, Source: src, Detail: detail, Jumps: []apps.Jump{
			{Name: "crossplane", Help: "open the Crossplane trees", Open: openTree},
		}})
	}
	return []home.Entry{
		{Title: apps.Title, Description: apps.Description, Open: openApps},
		{Title: xtree.Title, Description: xtree.Description, Open: openTree},
	}
}
