// Package newservice is the "New service" screen: pick a golden-path
// template, answer its form page by page, see what will be written,
// confirm. The work happens in platform/scaffold, the same code path as
// `idp new`; this screen only asks and shows.
package newservice

import (
	"context"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/back-stack/idp/platform/scaffold"
	"github.com/back-stack/idp/platform/templates"
	"github.com/back-stack/idp/tui/components/pager"
	"github.com/back-stack/idp/tui/keys"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/theme"
)

// Title is the screen's name, also used for its home entry.
const Title = "New service"

// Description is the home entry's description.
const Description = "Create a service from a golden path: its repository, Argo CD Application and database"

// Service is what the screen needs from platform/scaffold.
type Service interface {
	Catalog(ctx context.Context) (*templates.Catalog, error)
	Prepare(ctx context.Context, req scaffold.Request) (*scaffold.Proposal, error)
	Apply(ctx context.Context, p *scaffold.Proposal) (*scaffold.Result, error)
}

type state int

const (
	stateLoading state = iota
	statePicking
	stateFilling
	statePreparing
	statePreviewing
	stateApplying
	stateDone
)

// Model is the screen.
type Model struct {
	th     theme.Theme
	svc    Service
	ctx    context.Context
	cancel context.CancelFunc

	state state
	gen   int // bumps whenever a result would be stale: a new form, a new proposal

	// watch opens the live view of a created service; nil leaves it out.
	watch func(service string) nav.Screen

	catalog *templates.Catalog
	cursor  int

	tpl      *templates.Template
	answers  *answers
	form     *huh.Form
	proposal *scaffold.Proposal
	result   *scaffold.Result
	err      error

	pager         pager.Model
	width, height int
}

// Messages carry the generation they were started in.
type (
	catalogLoadedMsg struct {
		gen int
		cat *templates.Catalog
		err error
	}
	formSubmittedMsg struct{ gen int }
	formCancelledMsg struct{ gen int }
	preparedMsg      struct {
		gen int
		p   *scaffold.Proposal
		err error
	}
	appliedMsg struct {
		gen int
		res *scaffold.Result
		err error
	}
)

// New returns the screen; ctx bounds every call it makes and ends when the
// screen closes.
func New(ctx context.Context, th theme.Theme, svc Service) *Model {
	ctx, cancel := context.WithCancel(ctx)
	return &Model{th: th, svc: svc, ctx: ctx, cancel: cancel}
}

// WithWatch lets the user follow a created service live (Argo CD syncing it,
// Crossplane making its database ready) from the result, with w.
func (m *Model) WithWatch(open func(service string) nav.Screen) *Model {
	m.watch = open
	return m
}

func (m *Model) Init() tea.Cmd { return m.loadCatalogCmd() }

// Close cancels what the screen still has running.
func (m *Model) Close() { m.cancel() }

func (m *Model) Title() string { return Title }

// CapturesKeys is true while the form is open, so q and ? can be typed,
// and while the service is being created, so that esc and q cannot walk
// away from a half-written change (ctrl+c still quits).
func (m *Model) CapturesKeys() bool { return m.state == stateFilling || m.state == stateApplying }

func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.pager.SetSize(width, height)
	if m.form != nil {
		m.form.WithWidth(width)
	}
	m.renderPager()
}

func (m *Model) Update(msg tea.Msg) (nav.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case catalogLoadedMsg:
		return m, m.handleCatalog(msg)
	case formSubmittedMsg:
		return m, m.handleSubmitted(msg)
	case formCancelledMsg:
		if msg.gen == m.gen {
			return m, func() tea.Msg { return nav.PopMsg{} }
		}
		return m, nil
	case preparedMsg:
		return m, m.handlePrepared(msg)
	case appliedMsg:
		return m, m.handleApplied(msg)
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	}
	if m.state == stateFilling { // huh's own messages (focus, blink, next group)
		return m, m.updateForm(msg)
	}
	return m, nil
}

func (m *Model) loadCatalogCmd() tea.Cmd {
	ctx, svc, gen := m.ctx, m.svc, m.gen
	return func() tea.Msg {
		cat, err := svc.Catalog(ctx)
		return catalogLoadedMsg{gen: gen, cat: cat, err: err}
	}
}

func (m *Model) handleCatalog(msg catalogLoadedMsg) tea.Cmd {
	if msg.gen != m.gen {
		return nil
	}
	if msg.err != nil {
		m.err = msg.err
		m.state = statePicking
		return errCmd("load templates", msg.err)
	}
	m.catalog, m.state = msg.cat, statePicking
	return nil
}

func errCmd(op string, err error) tea.Cmd {
	return func() tea.Msg { return nav.ErrMsg{Op: op, Err: err} }
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	switch m.state {
	case statePicking:
		return m.handlePickKey(msg)
	case stateFilling:
		return m.updateForm(msg)
	case statePreviewing:
		switch {
		case key.Matches(msg, keys.Create):
			return m.applyCmd()
		case key.Matches(msg, keys.Edit):
			return m.openForm()
		}
		m.pager.HandleKey(msg)
	case stateDone:
		switch {
		case key.Matches(msg, keys.Open):
			return func() tea.Msg { return nav.PopMsg{} }
		case key.Matches(msg, keys.Watch) && m.canWatch():
			return nav.Push(m.watch(m.result.Service))
		}
		m.pager.HandleKey(msg)
	}
	return nil
}

// usable are the templates that can run, in the catalog's order; the
// others are listed with their reasons below them.
func (m *Model) usable() []*templates.Template {
	if m.catalog == nil {
		return nil
	}
	var out []*templates.Template
	for _, t := range m.catalog.Templates {
		if t.Refusal == "" {
			out = append(out, t)
		}
	}
	return out
}

func (m *Model) handlePickKey(msg tea.KeyPressMsg) tea.Cmd {
	list := m.usable()
	if len(list) == 0 {
		return nil
	}
	switch {
	case key.Matches(msg, keys.Up):
		m.cursor = max(m.cursor-1, 0)
	case key.Matches(msg, keys.Down):
		m.cursor = min(m.cursor+1, len(list)-1)
	case key.Matches(msg, keys.Open):
		m.tpl = list[m.cursor]
		m.answers = newAnswers(m.tpl)
		return m.openForm()
	}
	return nil
}

// openForm builds the form over the kept answers: the first time, and
// again when the user edits from the preview.
func (m *Model) openForm() tea.Cmd {
	m.gen++
	m.state, m.proposal = stateFilling, nil
	m.form = buildForm(m.answers, m.th)
	gen := m.gen
	m.form.SubmitCmd = func() tea.Msg { return formSubmittedMsg{gen: gen} }
	m.form.CancelCmd = func() tea.Msg { return formCancelledMsg{gen: gen} }
	if m.width > 0 {
		// As a window size, so that huh sizes each page to its fields (and
		// its errors sit right under them), within the body.
		m.form.Update(tea.WindowSizeMsg{Width: m.width, Height: formHeight(m.height)})
	}
	return m.form.Init()
}

// formHeight leaves room under a huh group for what its own height misses:
// the blank line before its footer, and a second line when an error wraps.
func formHeight(body int) int { return max(body-3, 3) }

func (m *Model) updateForm(msg tea.Msg) tea.Cmd {
	if m.form == nil {
		return nil
	}
	f, cmd := m.form.Update(msg)
	if form, ok := f.(*huh.Form); ok {
		m.form = form
	}
	return cmd
}

func (m *Model) handleSubmitted(msg formSubmittedMsg) tea.Cmd {
	if msg.gen != m.gen {
		return nil
	}
	m.gen++
	m.state = statePreparing
	ref := m.tpl.Name
	if !m.catalog.Chosen(m.tpl) {
		ref = m.tpl.Ref() // another template has its name
	}
	req := scaffold.Request{Template: ref, Values: m.answers.values()}
	ctx, svc, gen := m.ctx, m.svc, m.gen
	return func() tea.Msg {
		p, err := svc.Prepare(ctx, req)
		return preparedMsg{gen: gen, p: p, err: err}
	}
}

func (m *Model) handlePrepared(msg preparedMsg) tea.Cmd {
	if msg.gen != m.gen {
		return nil
	}
	if msg.err != nil { // back to the answers, with the reason on the error line
		return tea.Batch(errCmd("new service", msg.err), m.openForm())
	}
	m.proposal, m.state = msg.p, statePreviewing
	m.renderPager()
	return nil
}

func (m *Model) applyCmd() tea.Cmd {
	m.gen++
	m.state = stateApplying
	ctx, svc, gen, p := m.ctx, m.svc, m.gen, m.proposal
	return func() tea.Msg {
		res, err := svc.Apply(ctx, p)
		return appliedMsg{gen: gen, res: res, err: err}
	}
}

func (m *Model) handleApplied(msg appliedMsg) tea.Cmd {
	if msg.gen != m.gen {
		return nil
	}
	if msg.err != nil {
		m.state = statePreviewing
		m.renderPager()
		return errCmd("create service", msg.err)
	}
	m.result, m.state = msg.res, stateDone
	m.renderPager()
	return nil
}

// State accessors for tests.

// Proposal is the proposal on display, if any.
func (m *Model) Proposal() *scaffold.Proposal { return m.proposal }

// Result is what the service creation did, once done.
func (m *Model) Result() *scaffold.Result { return m.result }

// Values are the typed answers so far.
func (m *Model) Values() map[string]any {
	if m.answers == nil {
		return nil
	}
	return m.answers.values()
}

func (m *Model) ShortHelp() []key.Binding {
	switch m.state {
	case statePicking:
		return []key.Binding{keys.Up, keys.Down, keys.Open}
	case stateFilling:
		return []key.Binding{keys.FormNext, keys.FormBack, keys.FormCancel}
	case statePreviewing:
		return []key.Binding{keys.Create, keys.Edit, keys.Up, keys.Down}
	case stateDone:
		if m.canWatch() {
			return []key.Binding{keys.Watch, keys.Open}
		}
		return []key.Binding{keys.Open}
	}
	return nil
}

// canWatch: there is a live view, and a service that was really created.
func (m *Model) canWatch() bool {
	return m.watch != nil && m.result != nil && !m.result.DryRun
}

func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{m.ShortHelp(), {keys.PageUp, keys.PageDown, keys.Top, keys.Bottom}}
}
