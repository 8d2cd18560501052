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

// watchService opens the Applications view filtered to a service just
// created, so its sync and health show as Argo CD picks it up; enter opens
// its detail with the database's Crossplane tree.
func watchService(th theme.Theme, src *live.Client) func(string) nav.Screen {
	return func(service string) nav.Screen {
		s := apps.New(apps.Options{Theme: th, Source: src, Detail: appDetail(th, src)})
		s.SetFilter(service)
		return s
	}
}

// appDetail opens one application's detail.
func appDetail(th theme.Theme, src *live.Client) func(argocd.App) nav.Screen {
	return func(a argocd.App) nav.Screen { return appdetail.New(th, src, a) }
}

// liveEntries are the live views of the cluster. They share src, and so
// one informer per kind however many screens are open.
func liveEntries(th theme.Theme, src *live.Client) []home.Entry {
	detail := appDetail(th, src)
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
