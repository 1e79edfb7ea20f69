package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/rivo/tview"
)

// statusBar is the bottom line: source, packets, bytes, drops, connections,
// messages, anomalies, progress, follow mode and transient notices.
type statusBar struct {
	u     *ui
	text  *tview.TextView
	flash string
	until time.Time
}

func newStatusBar(u *ui) *statusBar {
	s := &statusBar{u: u}
	s.text = tview.NewTextView().SetDynamicColors(true).SetWrap(false)
	return s
}

// notify shows msg (plain text) for a few seconds.
func (s *statusBar) notify(msg string) {
	s.flash = msg
	s.until = time.Now().Add(5 * time.Second)
	s.refresh()
}

func (s *statusBar) refresh() {
	u := s.u
	var parts []string
	if u.opts.Title != "" {
		parts = append(parts, "[::b]"+escapeTags(tail(visible([]byte(u.opts.Title), false, 0), 30))+"[::-]")
	}
	if u.opts.Status != nil {
		st := u.opts.Status()
		parts = append(parts, fmt.Sprintf("pkts %d", st.Packets), fmtSize(st.Bytes)+"B")
		if st.Drops > 0 {
			parts = append(parts, fmt.Sprintf("[red]drops %d[-]", st.Drops))
		} else {
			parts = append(parts, "drops 0")
		}
		if st.Err != "" {
			parts = append(parts, "[red]"+escapeTags(visible([]byte(st.Err), false, 40))+"[-]")
		}
	}
	if e := u.m.SpillErr(); e != "" {
		parts = append(parts, "[red]"+escapeTags(visible([]byte(e), false, 60))+"[-]")
	}
	sn := &u.snap
	parts = append(parts, fmt.Sprintf("conns %d", sn.nConns))
	m := fmt.Sprintf("msgs %d", sn.total)
	if u.view.filter.active() || u.view.filter.Conn >= 0 {
		m = fmt.Sprintf("msgs %d/%d", u.view.rows(), sn.total)
	}
	if pct, ok := u.scanProgress(); ok {
		m += fmt.Sprintf(" [yellow]filtering %d%%[-]", pct)
	}
	if u.searching {
		m += " [yellow]searching… (Esc stops)[-]"
	}
	if sn.dropped > 0 {
		m += fmt.Sprintf(" [yellow](%d not listed)[-]", sn.dropped)
	}
	parts = append(parts, m)
	if sn.anomTot > 0 {
		parts = append(parts, fmt.Sprintf("[red]anom %d[-]", sn.anomTot))
	} else {
		parts = append(parts, "anom 0")
	}
	if u.opts.Progress != nil {
		done, total := u.prog[0], u.prog[1]
		if total > 0 && done < total {
			parts = append(parts, fmt.Sprintf("[yellow]reading %d%%[-]", done*100/total))
		}
	}
	if u.follow {
		parts = append(parts, "[green]FOLLOW[-]")
	}
	line := strings.Join(parts, " │ ")
	if s.flash != "" && time.Now().Before(s.until) {
		line = "[black:yellow] " + escapeTags(visible([]byte(s.flash), false, 100)) + " [-:-] " + line
	} else {
		s.flash = ""
	}
	s.text.SetText(line)
}

// tail keeps the last n runes of s (file names matter more than their
// directories), marking the cut with "…".
func tail(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}
