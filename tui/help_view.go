package tui

import (
	"strings"

	"github.com/rivo/tview"
)

// keyHelp lists every key binding; the help view and the README show it.
var keyHelp = [][2]string{
	{"", "Navigation"},
	{"j / ↓, k / ↑", "next / previous row (or line in the detail pane)"},
	{"g / Home, G / End", "first / last row (G also resumes follow mode)"},
	{"Ctrl-d / PgDn, Ctrl-u / PgUp", "page down / up"},
	{"Tab / Shift-Tab", "next / previous pane (connections, messages, detail)"},
	{"Enter", "connections → messages → detail"},
	{"a", "show messages of all connections"},
	{"mouse", "click selects a row or focuses a pane; wheel scrolls"},
	{"", "Messages"},
	{"F", "toggle follow mode (auto-scroll to the newest message)"},
	{"t", "toggle absolute / relative time"},
	{"f", "filter bar: text, re:EXPR, dir:c|s, op:text,binary,..., -ctl, anom"},
	{"x", "toggle hiding control frames (close, ping, pong)"},
	{"/", "search payloads (text or re:EXPR); n / N next / previous match"},
	{"Esc", "stop a search still running (\"searching…\" in the status bar)"},
	{":", "jump to packet number"},
	{"", "Detail"},
	{"1 2 3 4", "payload (text, JSON, hex for binary) / hex dump / frames / handshake"},
	{"v", "cycle detail views"},
	{"", "Actions"},
	{"s", "save the selected message's payload to a file (prompts for a path)"},
	{"y then t/h/b", "copy payload as text / hex / base64 (OSC 52 terminal clipboard)"},
	{"e", "export the current filtered view to JSON Lines (prompts for a path)"},
	{"+ / -", "grow / shrink the focused pane"},
	{"z", "zoom the focused pane (toggle)"},
	{"?", "this help (Esc, q or ? closes it)"},
	{"q / Ctrl-c", "quit"},
	{"", "Legend"},
	{"→ / ←", "client→server / server→client"},
	{"!", "message has anomalies (red); ~ incomplete or truncated"},
	{"z", "compressed (permessage-deflate)"},
	{"\\x1b \\u202e", "control and invisible characters of payloads are shown escaped"},
}

func newHelpView() *tview.TextView {
	var b strings.Builder
	for _, k := range keyHelp {
		if k[0] == "" {
			b.WriteString("\n[::b]" + k[1] + "[::-]\n")
			continue
		}
		b.WriteString("  [yellow]" + escapeTags(padRight(k[0], 28)) + "[-] " + escapeTags(k[1]) + "\n")
	}
	t := tview.NewTextView().SetDynamicColors(true).SetScrollable(true).SetText(b.String())
	t.SetBorder(true).SetTitle(" Help — keys (Esc to close) ")
	return t
}

func padRight(s string, n int) string {
	w := tview.TaggedStringWidth(s)
	if w >= n {
		return s
	}
	return s + strings.Repeat(" ", n-w)
}
