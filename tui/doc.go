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
// 15 Hz, slower when a draw is slow: updates take at most about 5% of a
// core) calls Application.QueueUpdateDraw only when the model, the
// status or a background job changed, at most one update in flight; event
// handlers never call QueueUpdateDraw (tview #569). Messages and anomalies
// are stored in append-only chunked lists whose records are never
// rewritten, so the UI reads them from a snapshot without holding the
// lock.
//
// Work that reads many payloads runs on background jobs (jobs.go), each on
// copies of the snapshot and the view, cancelled by a new filter or search,
// Esc, or quitting (Run waits for them): applying a payload filter (the
// status bar shows "filtering N%" while rows fill in), a search that takes
// more than 30 ms ("searching…"), and exporting the view. Small amounts
// (a filter on index fields, the messages added since the last tick) are
// done inline.
//
// # Memory and the spill file
//
// Per message the model keeps in memory one 40-byte index record (times,
// connection, opcode, direction and flags, length, packet numbers, frame
// count, and the offset of its detail record), in 4096-record blocks
// allocated outside the Go heap on Unix (anonymous mmap; they hold no
// pointers), so that the collector's heap goal does not double them.
// Measured: 44.7 bytes per message for a million messages (the rest is
// connections, the anomaly list and the spill's write buffers, 12 MiB at most),
// about 445 MB of peak RSS for a 1 GB capture of 8.8 million small
// messages, 250 MB for a 1 GB mixed capture of 1.5 million.
//
// Frame headers (up to 1024 per message) and payloads (up to 64 MiB per
// message, as decoded and decompressed by the pipeline) go to a detail
// record in an append-only spill file (spill.go, detail.go): a temporary
// file in ModelOptions.SpillDir (os.TempDir by default), written in 4 MiB
// chunks by a goroutine of its own (at most two full chunks wait for it;
// on Linux with O_DIRECT, so that the kernel does not copy them into the
// page cache: see spill.writer)
// and unlinked as soon as it is created (on Unix), so that it goes
// away with the process however the process ends; Model.Close releases it.
// Detail records are compact (about 20 bytes before the payload of a
// one-frame message) and laid out in message order, so that filters and
// search read the file sequentially. The spill holds at most MaxSpill
// bytes (16 GiB); past that, messages are listed without their payload,
// then without details, and say so. If no file can be created the records
// are kept in memory, capped at MaxPayloadTotal (256 MiB), and the status
// bar says why.
//
// Why not offsets into the capture: re-decoding a message from the capture
// would need the connection's inflater state (deflate context takeover
// depends on every earlier message in that direction), TCP reassembly of
// the packets it spans (retransmissions, gaps, reordering) and a seekable
// input (live capture and stdin have none). The spill holds exactly what
// the decoder produced, at the cost of one buffered sequential write.
//
// Reading back: the messages pane builds only the visible rows (the tables
// are tview.TableContent implementations: no cell exists for rows off
// screen), each with one short read for its preview, and caches up to 512
// rows; the detail pane reads the selected record (frames and up to 64 KiB
// of payload) and keeps the last one; save, copy and export read whole
// payloads.
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
// e exports the current filtered view to JSON Lines in the background (field
// names follow export.JSONWriter's message records, plus "partial" when the
// payload holds only the bytes the UI kept).
package tui
