// Package wizard is the bootstrap wizard screen: a form that collects the
// platform configuration (.idp/platform.yaml) page by page, validating
// every answer with platform/platformconfig's rules, then a summary of the
// answers with the plan the caller computes, and a start that hands the
// configuration to the caller (which opens the pipeline). The work happens
// in platform/bootstrap, the same code path as `idp bootstrap`; this screen
// only asks and shows.
package wizard

import (
	"context"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/back-stack/idp/platform/platformconfig"
	"github.com/back-stack/idp/tui/components/pager"
	"github.com/back-stack/idp/tui/keys"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/theme"
)

// Title is the screen's name, also used for its home entry.
const Title = "Bootstrap"

// Description is the home entry's description.
const Description = "Set up the platform: answer the wizard, review the plan, run the bootstrap from a kind seed to AKS"

// planTimeout bounds one call of Options.Plan.
const planTimeout = 2 * time.Minute

// Options are the screen's dependencies.
type Options struct {
	Theme theme.Theme
	// Initial are the answers the form starts from: an existing
	// .idp/platform.yaml to edit, or platformconfig.Defaults(). Empty
	// fields are filled with WithDefaults.
	Initial platformconfig.Config
	// Prefill reads the subscription and tenant of the az login context
	// ("" when unknown). It runs in a tea.Cmd, and fills only answers that
	// are still empty when it returns. Nil skips it.
	Prefill func() (subscription, tenant string)
	// Plan says what the bootstrap will do with cfg, as short lines. It
	// runs in a tea.Cmd with a deadline. Nil shows the answers only.
	Plan func(ctx context.Context, cfg platformconfig.Config) ([]string, error)
	// Start begins the bootstrap with cfg and returns the screen to push
	// (the pipeline), or nil to close the wizard. It runs in a tea.Cmd.
	// Nil disables start.
	Start func(cfg platformconfig.Config) nav.Screen
}

type state int

const (
	stateFilling  state = iota // the form has focus
	statePlanning              // summary shown, Plan running
	stateSummary               // summary with the plan or its error
)

// Model is the screen. It keeps its answers for its whole life: reopening
// the same Model (pushing it again after esc) shows them as they were.
type Model struct {
	th     theme.Theme
	opts   Options
	base   platformconfig.Config // Initial with defaults: what the form does not ask
	ctx    context.Context
	cancel context.CancelFunc

	state state
	gen   int // bumps with every new form and every plan; stale results are dropped

	a            *answers
	acrSuggested string // the ACR answer while it is still our suggestion
	prefilled    bool   // Prefill ran (once per Model)

	form    *huh.Form
	inputs  map[string]*huh.Input
	focused string // key of the focused field, to see focus move

	planLines  []string
	planCancel context.CancelFunc // ends the plan under way, if any
	planErr    error
	started    bool // Start was called for these answers; e and a new plan allow another

	pager         pager.Model
	width, height int
	formSize      [2]int // the size last given to the form
}

// Messages carry the generation they were started in.
type (
	formSubmittedMsg struct{ gen int }
	formCancelledMsg struct{ gen int }
	prefilledMsg     struct{ subscription, tenant string }
	plannedMsg       struct {
		gen   int
		lines []string
		err   error
	}
)

// New returns the screen.
func New(opts Options) *Model {
	base := opts.Initial.WithDefaults()
	m := &Model{th: opts.Theme, opts: opts, base: base, a: answersFrom(base)}
	if m.a.acr == "" {
		m.a.acr = m.a.suggestedACR()
		m.acrSuggested = m.a.acr
	}
	return m
}

// Config is the configuration the answers make, with what the form does
// not ask kept from Options.Initial.
func (m *Model) Config() platformconfig.Config { return m.a.apply(m.base) }

// Init opens the form, or the summary again when the screen is reopened
// after the form was submitted.
func (m *Model) Init() tea.Cmd {
	if m.ctx == nil || m.ctx.Err() != nil {
		m.ctx, m.cancel = context.WithCancel(context.Background())
	}
	var cmds []tea.Cmd
	if !m.prefilled && m.opts.Prefill != nil {
		m.prefilled = true
		prefill := m.opts.Prefill
		cmds = append(cmds, func() tea.Msg {
			s, t := prefill()
			return prefilledMsg{subscription: s, tenant: t}
		})
	}
	if m.state == stateFilling {
		cmds = append(cmds, m.openForm())
	} else {
		cmds = append(cmds, m.planCmd())
	}
	return tea.Batch(cmds...)
}

// Close cancels a plan still running; the answers stay.
func (m *Model) Close() {
	if m.cancel != nil {
		m.cancel()
	}
}

func (m *Model) Title() string { return Title }

// CapturesKeys is true while the form is open, so q and ? can be typed
// and esc cancels the form.
func (m *Model) CapturesKeys() bool { return m.state == stateFilling }

func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.pager.SetSize(width, height)
	m.resizeForm()
	m.renderSummary()
}

func (m *Model) Update(msg tea.Msg) (nav.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case formSubmittedMsg:
		if msg.gen == m.gen {
			return m, m.planCmd()
		}
		return m, nil
	case formCancelledMsg:
		if msg.gen == m.gen {
			return m, func() tea.Msg { return nav.PopMsg{} }
		}
		return m, nil
	case prefilledMsg:
		m.handlePrefilled(msg)
		return m, nil
	case plannedMsg:
		m.handlePlanned(msg)
		return m, nil
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	}
	if m.state == stateFilling { // huh's own messages (focus, blink, next group)
		return m, m.updateForm(msg)
	}
	return m, nil
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	switch m.state {
	case stateFilling:
		return m.updateForm(msg)
	case statePlanning, stateSummary:
		switch {
		case key.Matches(msg, keys.Edit):
			return m.openForm()
		case key.Matches(msg, startKey) && m.canStart():
			return m.startCmd()
		case key.Matches(msg, retryKey) && m.state == stateSummary && m.planErr != nil:
			return m.planCmd()
		}
		m.pager.HandleKey(msg)
	}
	return nil
}

// openForm builds the form over the kept answers: the first time, and
// again when the user edits from the summary.
func (m *Model) openForm() tea.Cmd {
	m.gen++
	m.stopPlan()
	m.state, m.planLines, m.planErr, m.started = stateFilling, nil, nil, false
	built := buildForm(m.a, m.th)
	m.form, m.inputs = built.form, built.inputs
	m.focused = m.form.GetFocusedField().GetKey()
	gen := m.gen
	m.form.SubmitCmd = func() tea.Msg { return formSubmittedMsg{gen: gen} }
	m.form.CancelCmd = func() tea.Msg { return formCancelledMsg{gen: gen} }
	m.formSize = [2]int{}
	m.resizeForm()
	return m.form.Init()
}

func (m *Model) updateForm(msg tea.Msg) tea.Cmd {
	if m.form == nil {
		return nil
	}
	f, cmd := m.form.Update(msg)
	if form, ok := f.(*huh.Form); ok {
		m.form = form
	}
	if k := m.form.GetFocusedField().GetKey(); k != m.focused {
		m.focused = k
		m.refreshACR()
	}
	m.resizeForm() // an error shown or gone changes the room the form has
	return cmd
}

// refreshACR keeps the registry name in step with the answers it is
// derived from, until the user types one of their own.
func (m *Model) refreshACR() {
	if m.acrSuggested == "" || m.a.acr != m.acrSuggested {
		return
	}
	m.a.acr = m.a.suggestedACR()
	m.acrSuggested = m.a.acr
	m.syncInput(fieldACR, &m.a.acr)
}

// syncInput shows an answer changed outside the form in its input.
func (m *Model) syncInput(key string, v *string) {
	if in := m.inputs[key]; in != nil && m.state == stateFilling {
		in.Value(v)
	}
}

func (m *Model) handlePrefilled(msg prefilledMsg) {
	if m.a.subscription == "" && msg.subscription != "" {
		m.a.subscription = msg.subscription
		m.syncInput(fieldSubscription, &m.a.subscription)
	}
	if m.a.tenant == "" && msg.tenant != "" {
		m.a.tenant = msg.tenant
		m.syncInput(fieldTenant, &m.a.tenant)
	}
	m.refreshACR()
	m.renderSummary()
}

// planCmd checks the whole configuration and asks the caller for the plan.
func (m *Model) planCmd() tea.Cmd {
	m.gen++
	m.stopPlan()
	m.state, m.planLines, m.planErr, m.started = statePlanning, nil, nil, false
	m.renderSummary()
	cfg, gen := m.Config(), m.gen
	if err := cfg.ValidateForBootstrap(); err != nil {
		return func() tea.Msg { return plannedMsg{gen: gen, err: err} }
	}
	if m.opts.Plan == nil {
		return func() tea.Msg { return plannedMsg{gen: gen} }
	}
	ctx, cancel := context.WithTimeout(m.ctx, planTimeout)
	m.planCancel = cancel
	plan := m.opts.Plan
	return func() tea.Msg {
		lines, err := plan(ctx, cfg)
		return plannedMsg{gen: gen, lines: lines, err: err}
	}
}

// stopPlan cancels the plan under way: the user went back to the form or
// asked for a new one, so its result would be dropped anyway.
func (m *Model) stopPlan() {
	if m.planCancel != nil {
		m.planCancel()
		m.planCancel = nil
	}
}

func (m *Model) handlePlanned(msg plannedMsg) {
	if msg.gen != m.gen {
		return
	}
	m.stopPlan()
	m.state, m.planLines, m.planErr = stateSummary, msg.lines, msg.err
	m.renderSummary()
}

func (m *Model) canStart() bool {
	return m.state == stateSummary && m.planErr == nil && m.opts.Start != nil && !m.started
}

func (m *Model) startCmd() tea.Cmd {
	// Once only: a second enter (a key held down, or back from the
	// pipeline) must not start a second run.
	m.started = true
	m.renderSummary()
	cfg, start := m.Config(), m.opts.Start
	return func() tea.Msg {
		if s := start(cfg); s != nil {
			return nav.PushMsg{Screen: s}
		}
		return nav.PopMsg{}
	}
}

// Screen keys.
var (
	startKey    = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "start bootstrap"))
	retryKey    = key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "plan again"))
	completeKey = key.NewBinding(key.WithKeys("ctrl+e"), key.WithHelp("ctrl+e", "complete region"))
	chooseKey   = key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "choose"))
)

func (m *Model) ShortHelp() []key.Binding {
	switch m.state {
	case stateFilling:
		b := []key.Binding{keys.FormNext, keys.FormBack, keys.FormCancel}
		switch m.focused {
		case fieldLocation:
			return append([]key.Binding{completeKey}, b...)
		case fieldChanges:
			return append([]key.Binding{chooseKey}, b...)
		}
		return b
	case stateSummary:
		if m.planErr != nil {
			return []key.Binding{keys.Edit, retryKey, keys.Up, keys.Down}
		}
		if m.canStart() {
			return []key.Binding{startKey, keys.Edit, keys.Up, keys.Down}
		}
	}
	return []key.Binding{keys.Edit, keys.Up, keys.Down}
}

func (m *Model) FullHelp() [][]key.Binding {
	if m.state == stateFilling {
		return [][]key.Binding{m.ShortHelp(), {completeKey, chooseKey}}
	}
	return [][]key.Binding{m.ShortHelp(), {keys.PageUp, keys.PageDown, keys.Top, keys.Bottom}}
}
