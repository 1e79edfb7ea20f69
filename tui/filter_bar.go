package tui

import (
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// Prompt kinds of the filter bar.
const (
	promptFilter = iota
	promptSearch
	promptJump
	promptSave
	promptExport
)

var promptLabels = map[int]string{
	promptFilter: "filter> ",
	promptSearch: "/",
	promptJump:   "packet #> ",
	promptSave:   "save payload to> ",
	promptExport: "export view (JSON Lines) to> ",
}

// filterBar is the one-line bar above the status bar. At rest it shows the
// active filter and search; f, /, :, s and e turn it into a prompt.
type filterBar struct {
	u     *ui
	pages *tview.Pages
	info  *tview.TextView
	input *tview.InputField
	kind  int
	prev  tview.Primitive // focus to restore
}

func newFilterBar(u *ui) *filterBar {
	f := &filterBar{u: u}
	f.info = tview.NewTextView().SetDynamicColors(true).SetWrap(false)
	f.input = tview.NewInputField().SetFieldBackgroundColor(tcell.ColorDefault).
		SetFieldStyle(tcell.StyleDefault.Underline(true))
	f.input.SetDoneFunc(f.done)
	f.pages = tview.NewPages().AddPage("info", f.info, true, true).AddPage("input", f.input, true, false)
	return f
}

// open turns the bar into a prompt of the given kind with initial text.
func (f *filterBar) open(kind int, initial string) {
	f.kind = kind
	f.prev = f.u.app.GetFocus()
	f.input.SetLabel(promptLabels[kind]).SetText(initial)
	f.pages.SwitchToPage("input")
	f.u.app.SetFocus(f.input)
}

func (f *filterBar) active() bool { return f.u.app.GetFocus() == f.input }

func (f *filterBar) close() {
	f.pages.SwitchToPage("info")
	if f.prev != nil {
		f.u.app.SetFocus(f.prev)
	} else {
		f.u.app.SetFocus(f.u.msgs.table)
	}
}

func (f *filterBar) done(key tcell.Key) {
	text := f.input.GetText()
	f.close()
	if key != tcell.KeyEnter {
		return
	}
	f.u.promptDone(f.kind, text)
}

// refresh redraws the bar's resting text.
func (f *filterBar) refresh() {
	u := f.u
	s := "[::b]filter:[::-] "
	if src := u.view.filter.String(); src != "" {
		s += escapeTags(visible([]byte(src), false, 60))
	} else {
		s += "[gray]none (f)[-]"
	}
	if !u.search.empty() {
		s += "  [::b]search:[::-] " + escapeTags(visible([]byte(u.search.text), false, 40)) + " (n/N)"
	}
	s += "  [gray]f filter  / search  : packet  1-4 views  Tab pane  ? help  q quit[-]"
	f.info.SetText(s)
}
