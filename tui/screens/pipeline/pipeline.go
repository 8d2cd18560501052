// Package pipeline is the bootstrap's live screen: every step with its
// state, the current one with a spinner, its elapsed time and what it waits
// on, finished ones with their durations, the current step's log on demand,
// and a failure with the next action to take.
package pipeline

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/platform/bootstrap"
	"github.com/back-stack/idp/platform/crossplane"
	"github.com/back-stack/idp/tui/components/pager"
	"github.com/back-stack/idp/tui/keys"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/screens/xtree"
	"github.com/back-stack/idp/tui/theme"
)

// Options are the screen's inputs.
type Options struct {
	Theme theme.Theme
	// Title names the run in the header, e.g. "Bootstrap".
	Title string
	// Steps are the pipeline's steps, in order (only ID and Title are read).
	Steps []bootstrap.Step
	// Start runs the pipeline and returns its events; the channel closes
	// after PipelineDone. ctx ends when the app quits (ctrl+c), which
	// interrupts the run at a checkpoint.
	Start func(ctx context.Context) <-chan bootstrap.Event
	// Resume, when set, is said after a failure: how to continue later.
	Resume string
}

// logKey toggles the current step's log.
var logKey = key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "log"))

// logLines is how many of a step's last log lines are kept.
const logLines = 200

type stepState int

const (
	pending stepState = iota
	running
	done
	skipped
	failed
)

type step struct {
	id       bootstrap.StepID
	title    string
	state    stepState
	started  time.Time
	duration time.Duration
	reason   string
	progress string
	trees    []crossplane.Tree
	log      []string
}

// Model is the screen.
type Model struct {
	opts   Options
	th     theme.Theme
	ctx    context.Context
	cancel context.CancelFunc
	events <-chan bootstrap.Event

	steps    []*step
	current  int // index of the running step, -1 for none
	started  time.Time
	now      time.Time
	finished bool
	err      error
	next     string
	showLog  bool
	note     string

	spin  spinner.Model
	pager pager.Model
	width int
}

// eventMsg is the next event of the run; closed means the channel ended.
type eventMsg struct {
	ev     bootstrap.Event
	closed bool
}

type tickMsg time.Time

// New returns the screen; the run starts with Init.
func New(ctx context.Context, opts Options) *Model {
	ctx, cancel := context.WithCancel(ctx)
	m := &Model{opts: opts, th: opts.Theme, ctx: ctx, cancel: cancel, current: -1,
		spin: spinner.New(spinner.WithSpinner(spinner.Dot))}
	for _, s := range opts.Steps {
		m.steps = append(m.steps, &step{id: s.ID, title: s.Title})
	}
	return m
}

func (m *Model) Init() tea.Cmd {
	m.started, m.now = time.Now(), time.Now()
	m.events = m.opts.Start(m.ctx)
	m.render()
	return tea.Batch(m.next1(), m.spin.Tick, tick())
}

// Close stops the run when the screen is closed (it can only be closed
// once the run is over, or by quitting the app).
func (m *Model) Close() { m.cancel() }

func (m *Model) Title() string {
	if m.opts.Title != "" {
		return m.opts.Title
	}
	return "Bootstrap"
}

// CapturesKeys keeps esc from leaving the screen while the run goes on: the
// run belongs to this screen, and only ctrl+c (which checkpoints) stops it.
func (m *Model) CapturesKeys() bool { return !m.finished }

func (m *Model) SetSize(width, height int) {
	m.width = width
	m.pager.SetSize(width, height)
	m.render()
}

func (m *Model) View() string { return m.pager.View() }

func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{logKey, keys.Up, keys.Down}
}

func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{m.ShortHelp(), {keys.PageUp, keys.PageDown}}
}

func (m *Model) next1() tea.Cmd {
	ch := m.events
	return func() tea.Msg {
		ev, ok := <-ch
		return eventMsg{ev: ev, closed: !ok}
	}
}

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

func (m *Model) Update(msg tea.Msg) (nav.Screen, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		cmd = m.handleKey(msg)
	case eventMsg:
		if !msg.closed {
			m.apply(msg.ev)
			cmd = m.next1()
		} else if !m.finished {
			m.finished = true
		}
	case tickMsg:
		m.now = time.Time(msg)
		if !m.finished {
			cmd = tick()
		}
	case spinner.TickMsg:
		if !m.finished {
			m.spin, cmd = m.spin.Update(msg)
		}
	}
	m.render()
	return m, cmd
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, logKey):
		m.showLog = !m.showLog
		return nil
	case key.Matches(msg, keys.Back) && !m.finished:
		m.note = "The bootstrap is running; ctrl+c stops it at a checkpoint" + m.resumeHint()
		return nil
	case key.Matches(msg, keys.Back):
		return func() tea.Msg { return nav.PopMsg{} }
	case key.Matches(msg, keys.Quit) && !m.finished:
		m.note = "q would leave the bootstrap running unseen; ctrl+c stops it at a checkpoint" + m.resumeHint()
		return nil
	}
	m.pager.HandleKey(msg)
	return nil
}

func (m *Model) resumeHint() string {
	if m.opts.Resume == "" {
		return "."
	}
	return ", and " + m.opts.Resume + " continues it."
}

func (m *Model) find(id bootstrap.StepID, title string) int {
	for i, s := range m.steps {
		if s.id == id {
			return i
		}
	}
	m.steps = append(m.steps, &step{id: id, title: title})
	return len(m.steps) - 1
}

// apply folds one event into the steps.
func (m *Model) apply(ev bootstrap.Event) {
	m.now = ev.Time
	if ev.Type == bootstrap.PipelineDone {
		m.finished, m.err, m.note = true, ev.Err, ""
		if ev.NextAction != "" {
			m.next = ev.NextAction
		}
		m.current = -1
		return
	}
	i := m.find(ev.Step, ev.Title)
	s := m.steps[i]
	switch ev.Type {
	case bootstrap.StepStarted:
		s.state, s.started, s.log, s.progress, s.trees = running, ev.Time, nil, "", nil
		m.current = i
		m.err, m.next = nil, ""
	case bootstrap.StepLog:
		s.log = append(s.log, ev.Line)
		if len(s.log) > logLines {
			s.log = s.log[len(s.log)-logLines:]
		}
	case bootstrap.StepProgress:
		if ev.Progress != nil {
			s.progress, s.trees = ev.Progress.Summary, ev.Progress.Trees
		}
	case bootstrap.StepSkipped:
		s.state, s.reason, s.duration = skipped, ev.Reason, ev.Duration
	case bootstrap.StepFinished:
		s.state, s.duration = done, ev.Duration
	case bootstrap.StepFailed:
		s.state, s.duration = failed, ev.Duration
		m.err, m.next = ev.Err, ev.NextAction
		if ev.Interrupted && m.next == "" {
			m.next = "Interrupted at a checkpoint" + m.resumeHint()
		}
	}
}

func (m *Model) render() {
	var lines []string
	finished := 0
	for _, s := range m.steps {
		if s.state == done || s.state == skipped {
			finished++
		}
	}
	status := fmt.Sprintf("%d of %d steps done · %s", finished, len(m.steps), fmtDuration(m.now.Sub(m.started)))
	switch {
	case m.finished && m.err == nil:
		status = m.th.Healthy.Render("✓ Done: ") + status
	case m.finished:
		status = m.th.Degraded.Render("✗ Stopped: ") + status
	default:
		status = m.th.Progressing.Render(m.spin.View()+" Running: ") + status
	}
	lines = append(lines, status, "")
	for i, s := range m.steps {
		lines = append(lines, m.stepLine(i, s))
		if s.state == running && s.progress != "" {
			lines = append(lines, m.th.Muted.Render("      waiting: "+s.progress))
		}
		if s.state == running || s.state == failed {
			// The Crossplane trees the step waits on, live, as the
			// Crossplane screen draws them.
			for _, t := range s.trees {
				for _, l := range xtree.TreeLines(m.th, max(20, m.width-6), t) {
					lines = append(lines, "      "+l)
				}
			}
		}
		if s.state == skipped && s.reason != "" {
			lines = append(lines, m.th.Muted.Render("      "+s.reason))
		}
	}
	if m.err != nil {
		lines = append(lines, "")
		lines = append(lines, m.wrap(m.th.Error.Render, "Error: "+m.err.Error())...)
		if m.next != "" {
			lines = append(lines, m.wrap(m.th.Label.Render, m.next)...)
		}
	}
	if m.note != "" {
		lines = append(lines, "", m.th.OutOfSync.Render(m.note))
	}
	if m.showLog {
		s := m.logStep()
		lines = append(lines, "")
		if s == nil {
			lines = append(lines, m.th.Muted.Render("No step has run yet."))
		} else {
			lines = append(lines, m.th.Title.Render("Log of "+s.title)+m.th.Muted.Render(" (l hides)"))
			if len(s.log) == 0 {
				lines = append(lines, m.th.Muted.Render("  nothing logged"))
			}
			for _, l := range s.log {
				lines = append(lines, "  "+l)
			}
		}
	} else {
		lines = append(lines, "", m.th.Muted.Render("l shows the current step's log"))
	}
	m.pager.SetContent(lines)
}

// logStep is the step whose log l shows: the running one, else the last
// that ran.
func (m *Model) logStep() *step {
	if m.current >= 0 {
		return m.steps[m.current]
	}
	for i := len(m.steps) - 1; i >= 0; i-- {
		if st := m.steps[i].state; st == failed || st == done {
			return m.steps[i]
		}
	}
	return nil
}

func (m *Model) stepLine(i int, s *step) string {
	n := fmt.Sprintf("%d. ", i+1)
	switch s.state {
	case running:
		return m.th.Progressing.Render(m.spin.View()+" "+n+s.title) + m.th.Muted.Render("  "+fmtDuration(m.now.Sub(s.started)))
	case done:
		return m.th.Healthy.Render("✓ "+n+s.title) + m.th.Muted.Render("  "+fmtDuration(s.duration))
	case skipped:
		return m.th.Synced.Render("↷ "+n+s.title) + m.th.Muted.Render("  already done")
	case failed:
		return m.th.Degraded.Render("✗ "+n+s.title) + m.th.Muted.Render("  after "+fmtDuration(s.duration))
	}
	return m.th.Muted.Render("· " + n + s.title)
}

func (m *Model) wrap(style func(...string) string, text string) []string {
	var lines []string
	for _, l := range strings.Split(ansi.Wordwrap(text, max(m.width, 20), " "), "\n") {
		lines = append(lines, style(l))
	}
	return lines
}

func fmtDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}
