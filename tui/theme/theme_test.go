package theme

import (
	"reflect"
	"testing"

	"charm.land/lipgloss/v2"
)

// styles returns every lipgloss.Style field of t by name.
func styles(t Theme) map[string]lipgloss.Style {
	out := map[string]lipgloss.Style{}
	v := reflect.ValueOf(t)
	for i := range v.NumField() {
		if s, ok := v.Field(i).Interface().(lipgloss.Style); ok {
			out[v.Type().Field(i).Name] = s
		}
	}
	return out
}

func TestNoColorCarriesNoColour(t *testing.T) {
	th := New(true)
	if !th.NoColor {
		t.Fatal("NoColor not set")
	}
	for name, s := range styles(th) {
		if _, ok := s.GetForeground().(lipgloss.NoColor); !ok {
			t.Errorf("%s has foreground %v", name, s.GetForeground())
		}
		if _, ok := s.GetBackground().(lipgloss.NoColor); !ok {
			t.Errorf("%s has background %v", name, s.GetBackground())
		}
	}
	if !th.Selected.GetReverse() && !th.Selected.GetBold() && !th.Selected.GetUnderline() {
		t.Error("selection is invisible without colour")
	}
}

func TestColourThemeColoursStates(t *testing.T) {
	th := New(false)
	for _, name := range []string{"Synced", "OutOfSync", "Healthy", "Degraded", "Progressing", "Unknown", "Stopped", "Error", "Selected"} {
		if _, none := styles(th)[name].GetForeground().(lipgloss.NoColor); none {
			t.Errorf("%s has no colour", name)
		}
	}
}

func TestStatus(t *testing.T) {
	th := New(false)
	cases := map[string]lipgloss.Style{
		"Synced": th.Synced, "OutOfSync": th.OutOfSync, "Healthy": th.Healthy, "Degraded": th.Degraded,
		"Progressing": th.Progressing, "Stopped": th.Stopped, "Whatever": th.Unknown,
	}
	for name, want := range cases {
		if got := th.Status(name); got.GetForeground() != want.GetForeground() {
			t.Errorf("Status(%q) = %v, want %v", name, got.GetForeground(), want.GetForeground())
		}
	}
}
