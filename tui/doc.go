// Package tui is wsscope's terminal user interface (tview/tcell), in the
// style of k9s: a connections pane, a messages pane and a detail pane above
// a filter bar and a status bar. It is the only package that imports tview
// and tcell.
//
// # Wiring
//
//	m := tui.NewModel(tui.ModelOptions{})   // a pipeline.Sink
//	go pipeline.Run(ctx, src, opts, m)       // feed it from any goroutine
//	err := tui.Run(ctx, m, tui.Options{Title: name, Status: ..., Progress: ...})
//
// Run returns when the user quits (q, Ctrl-C) or ctx is cancelled; feeding
// may go on before, during and after it.
//
// # Concurrency
//
// Model's Sink methods copy what they keep under the model's mutex. The UI
// never touches the model from the feeding goroutine: a ticker (default
// 15 Hz) calls Application.QueueUpdateDraw only when the model or the
// status changed, at most one update in flight; event handlers never call
// QueueUpdateDraw (tview #569). Messages, frames and anomalies are stored in
// append-only chunked lists whose records are never rewritten, so the UI
// reads them from a snapshot without holding the lock.
//
// # Memory
//
// Per message the model keeps a compact record (about 90 bytes), up to 64
// frame headers (40 bytes each) and up to 16 KiB of payload, with at most
// 256 MiB of payload and 2,000,000 listed messages in all (ModelOptions;
// everything past a limit is still counted). Measured: about 230 bytes per
// message for 100-byte payloads. The tables are tview.TableContent
// implementations: no cell exists for rows off screen.
//
// # Safety of what is shown
//
// Payload bytes, header values, host names, paths and anomaly details never
// reach the terminal raw: control characters (C0, DEL, C1), invalid UTF-8
// and invisible or bidi format characters are shown as \x1b, \xff or
// \u202e escapes, and everything then goes through escapeTags (tview.Escape, extended) so that
// "[red]" in a payload is text, not a colour tag. Anomalies are marked with
// "!" (and incomplete/truncated messages with "~"), readable without
// colour; the focused pane is marked with ▶.
//
// # Keys
//
// The help view (?) lists every key; see keyHelp in help_view.go. Copying
// (y then t, h or b) puts the payload on the terminal's clipboard with an
// OSC 52 sequence (tcell's Screen.SetClipboard): it works in terminals that
// accept OSC 52 (xterm with allowWindowOps, kitty, iTerm2, WezTerm, tmux
// with set-clipboard on); elsewhere use s to save the payload to a file.
// e exports the current filtered view to JSON Lines (field names follow
// export.JSONWriter's message records, plus "partial" when the payload
// holds only the bytes the UI kept).
package tui
