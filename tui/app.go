package tui

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// Status is what the capture side reports for the status bar.
type Status struct {
	Packets uint64 // packets read so far
	Bytes   uint64 // bytes read so far
	Drops   uint64 // packets dropped by the kernel (live capture)
	Err     string // a reading error to show, "" if none
}

// Options configure Run.
type Options struct {
	// Title names the source (file name or interface) in the status bar.
	Title string
	// Screen is the terminal to draw on; nil opens the real terminal. A
	// tcell.SimulationScreen keeps the size it had before Run (tests).
	Screen tcell.Screen
	// Status, if set, is polled at every refresh for the status bar, from
	// the UI's goroutines: it must be safe for concurrent use.
	Status func() Status
	// Progress, if set, reports how much of a file has been read (bytes
	// done, total); the status bar shows a percentage until done == total.
	// Same concurrency rule as Status.
	Progress func() (done, total int64)
	// Refresh is the redraw period while the model changes (default 66 ms,
	// about 15 Hz).
	Refresh time.Duration
	// RelativeTime starts with times relative to the first packet.
	RelativeTime bool
	// NoFollow starts with follow mode off.
	NoFollow bool
}

// ui is the state of one Run: widgets, the filtered view, selection and
// modes. Everything in it is touched only on the tview event goroutine
// (event handlers and functions queued with QueueUpdateDraw).
type ui struct {
	app  *tview.Application
	m    *Model
	opts Options

	snap   snapshot
	view   msgView
	search search

	follow  bool
	relTime bool
	selConn int // connection index shown in the messages pane, -1 all
	selMsg  int64

	conns    *connsView
	msgs     *messagesView
	detail   *detailView
	bar      *filterBar
	status   *statusBar
	help     *tview.TextView
	helpPrev tview.Primitive

	pages     *tview.Pages
	main      *tview.Flex
	panes     []tview.Primitive
	hConns    int  // connections pane height (rows, with borders)
	userConns bool // hConns set with +/- (else follows the screen height)
	lastH     int
	hDet      int // detail pane height; 0 = automatic (half the rest)
	zoom      tview.Primitive
	screen    tcell.Screen

	copyPending bool
	connIDs     []uint64 // connection index → ID, grown as needed
	connOrder   []int    // connection indexes by ID: row i+2 of the connections pane

	// Background jobs (jobs.go).
	box        mailbox
	jobs       sync.WaitGroup
	scanJob    *job // filter being applied
	findJob    *job // search running
	exportJob  *job // export running
	viewGen    int  // bumped when the filter changes
	findGen    int  // bumped at every search
	searching  bool
	pendingSel int64    // message to select once the filter has scanned it, -1 none
	prog       [2]int64 // Options.Progress as of the last refresh
}

func newUI(m *Model, opts Options) *ui {
	if opts.Refresh <= 0 {
		opts.Refresh = 66 * time.Millisecond
	}
	u := &ui{
		app: tview.NewApplication(), m: m, opts: opts,
		follow: !opts.NoFollow, relTime: opts.RelativeTime,
		selConn: -1, selMsg: -1, hConns: 8, pendingSel: -1,
	}
	u.view.reset(AnyFilter())
	u.snap = m.snapshot()
	u.view.sync(&u.snap)

	u.conns = newConnsView(u)
	u.msgs = newMessagesView(u)
	u.detail = newDetailView(u)
	u.bar = newFilterBar(u)
	u.status = newStatusBar(u)
	u.help = newHelpView()
	u.panes = []tview.Primitive{u.conns.table, u.msgs.table, u.detail.text}

	u.main = tview.NewFlex().SetDirection(tview.FlexRow)
	u.layout()
	u.pages = tview.NewPages().
		AddPage("main", u.main, true, true).
		AddPage("help", u.help, true, false)

	u.app.SetRoot(u.pages, true).EnableMouse(true).SetFocus(u.msgs.table)
	u.app.SetInputCapture(u.onKey)
	u.app.SetMouseCapture(u.onMouse)
	u.app.SetBeforeDrawFunc(u.beforeDraw)
	u.refresh()
	return u
}

// layout (re)builds the main flex: connections, messages, detail, filter
// bar, status bar; or only the zoomed pane.
func (u *ui) layout() {
	u.main.Clear()
	if u.zoom != nil {
		u.main.AddItem(u.zoom, 0, 1, true)
	} else {
		u.main.AddItem(u.conns.table, u.hConns, 0, false)
		u.main.AddItem(u.msgs.table, 0, 1, true)
		if u.hDet > 0 {
			u.main.AddItem(u.detail.text, u.hDet, 0, false)
		} else {
			u.main.AddItem(u.detail.text, 0, 1, false)
		}
	}
	u.main.AddItem(u.bar.pages, 1, 0, false)
	u.main.AddItem(u.status.text, 1, 0, false)
}

func (u *ui) beforeDraw(s tcell.Screen) bool {
	u.screen = s
	if _, h := s.Size(); h != u.lastH {
		u.lastH = h
		if !u.userConns {
			// Connections pane: a quarter of the screen, 5..12 rows.
			u.hConns = max(5, min(12, h/4))
			u.main.ResizeItem(u.conns.table, u.hConns, 0)
		}
	}
	u.titles()
	u.bar.refresh()
	u.status.refresh()
	return false
}

// titles sets pane titles; the focused pane is marked with ▶ (readable
// without colour) and a highlighted border.
func (u *ui) titles() {
	// Called from the before-draw hook, with the application locked:
	// app.GetFocus would deadlock, so ask the widgets.
	mark := func(p tview.Primitive, box *tview.Box, title string) {
		if p.HasFocus() {
			box.SetTitle(" ▶ " + title + " ").SetBorderColor(tcell.ColorYellow)
		} else {
			box.SetTitle(" " + title + " ").SetBorderColor(tcell.ColorGray)
		}
	}
	mark(u.conns.table, u.conns.table.Box, fmt.Sprintf("Connections (%d)", u.snap.nConns))
	what := "all connections"
	if u.selConn >= 0 {
		what = "conn " + strconv.FormatUint(u.connID(u.selConn), 10)
	}
	t := fmt.Sprintf("Messages: %s (%d)", what, u.view.rows())
	if u.follow {
		t += " follow"
	}
	mark(u.msgs.table, u.msgs.table.Box, t)
	mark(u.detail.text, u.detail.text.Box, "Detail: "+u.detail.title+" [1-4/v]")
}

// connID returns the ID of connection index i (IDs never change, so they
// are cached; 0 marks an entry not looked up yet).
func (u *ui) connID(i int) uint64 {
	if i < len(u.connIDs) && u.connIDs[i] != 0 {
		return u.connIDs[i]
	}
	c, ok := u.m.conn(i, false)
	if !ok {
		return 0
	}
	for len(u.connIDs) <= i {
		u.connIDs = append(u.connIDs, 0)
	}
	u.connIDs[i] = c.id
	return c.id
}

// connAt returns the connection index shown on row of the connections
// pane, -1 for the header and "all connections" rows.
func (u *ui) connAt(row int) int {
	if row < 2 || row-2 >= len(u.connOrder) {
		return -1
	}
	return u.connOrder[row-2]
}

// sortConns lists connections by ID (the pipeline opens them in the order
// their handshakes complete) and keeps the selected one selected.
func (u *ui) sortConns() {
	if len(u.connOrder) == u.snap.nConns {
		return
	}
	for i := len(u.connOrder); i < u.snap.nConns; i++ {
		u.connOrder = append(u.connOrder, i)
	}
	sort.SliceStable(u.connOrder, func(a, b int) bool {
		return u.connID(u.connOrder[a]) < u.connID(u.connOrder[b])
	})
	if u.selConn >= 0 {
		for i, c := range u.connOrder {
			if c == u.selConn {
				u.conns.table.Select(i+2, 0)
			}
		}
	}
}

// refresh pulls new data from the model into the view. It runs on the event
// goroutine (from the ticker via QueueUpdateDraw, or directly).
func (u *ui) refresh() {
	// Progress first: once it says the file is read, the snapshot taken
	// after it holds every message (the status bar never shows "done"
	// with counts from before the end).
	if u.opts.Progress != nil {
		u.prog[0], u.prog[1] = u.opts.Progress()
	}
	u.snap = u.m.snapshot()
	u.sortConns()
	u.drain()
	u.scanView()
	if u.follow && u.selMsg < 0 && u.view.rows() > 0 {
		u.msgs.table.Select(u.view.rows(), 0)
	}
	u.showDetail(false)
	u.bar.refresh()
	u.status.refresh()
}

func (u *ui) showDetail(force bool) {
	u.detail.update(u.selMsg, u.selConn, force)
}

// connSelected is the connections table's selection handler.
func (u *ui) connSelected(row int) {
	c := u.connAt(row)
	if c == u.selConn {
		return
	}
	u.selConn = c
	f := u.view.filter
	f.Conn = c
	u.applyFilter(f)
}

// applyFilter rebuilds the view and keeps the selected message if it is
// still shown (else the nearest one).
func (u *ui) applyFilter(f Filter) {
	keep := u.selMsg
	u.scanJob.stop() // its batches are dropped (older viewGen)
	u.scanJob = nil
	u.findJob.stop()
	u.findGen++ // a result already posted is for the old view
	u.searching = false
	u.viewGen++
	u.view.reset(f)
	u.pendingSel = -1
	if !u.follow && keep >= 0 {
		u.pendingSel = keep
	}
	u.scanView()
	u.msgs.invalidate()
	if u.pendingSel < 0 {
		u.selectRow(u.view.rows() - 1)
	} else {
		u.viewGrew(0)
	}
	if u.view.rows() == 0 {
		u.selMsg = -1
		u.showDetail(false)
	}
	u.bar.refresh()
	u.status.refresh()
}

// selectRow selects view row i (0-based; header excluded).
func (u *ui) selectRow(i int) {
	if i < 0 {
		return
	}
	u.msgs.table.Select(i+1, 0)
}

// msgSelected is the messages table's selection handler. Moving off the
// last row pauses follow mode; reaching it resumes follow mode.
func (u *ui) msgSelected(row int) {
	i := row - 1
	if i < 0 || i >= u.view.rows() {
		u.selMsg = -1
	} else {
		u.selMsg = int64(u.view.at(i))
	}
	u.follow = u.view.rows() > 0 && i == u.view.rows()-1
	u.showDetail(false)
}

// onKey is the application's input capture: global keys unless a prompt or
// the help is open.
func (u *ui) onKey(ev *tcell.EventKey) *tcell.EventKey {
	if name, _ := u.pages.GetFrontPage(); name == "help" {
		switch {
		case ev.Key() == tcell.KeyEscape, ev.Rune() == 'q', ev.Rune() == '?':
			u.pages.HidePage("help")
			u.app.SetFocus(u.helpPrev)
			return nil
		case ev.Key() == tcell.KeyCtrlD:
			return tcell.NewEventKey(tcell.KeyPgDn, 0, tcell.ModNone)
		case ev.Key() == tcell.KeyCtrlU:
			return tcell.NewEventKey(tcell.KeyPgUp, 0, tcell.ModNone)
		}
		return ev
	}
	if u.bar.active() {
		return ev
	}
	if u.copyPending {
		u.copyPending = false
		u.copy(ev.Rune())
		return nil
	}
	switch ev.Key() {
	case tcell.KeyCtrlC:
		u.app.Stop()
		return nil
	case tcell.KeyEscape:
		if u.searching {
			u.findJob.stop()
			u.findGen++
			u.searching = false
			u.status.notify("search cancelled")
			return nil
		}
		return ev
	case tcell.KeyTab:
		u.cycleFocus(1)
		return nil
	case tcell.KeyBacktab:
		u.cycleFocus(-1)
		return nil
	case tcell.KeyCtrlD:
		return tcell.NewEventKey(tcell.KeyPgDn, 0, tcell.ModNone)
	case tcell.KeyCtrlU:
		return tcell.NewEventKey(tcell.KeyPgUp, 0, tcell.ModNone)
	case tcell.KeyEnd:
		if u.app.GetFocus() == u.msgs.table {
			u.follow = true
		}
		return ev
	case tcell.KeyRune:
	default:
		return ev
	}
	switch ev.Rune() {
	case 'q':
		u.app.Stop()
	case '?':
		u.helpPrev = u.app.GetFocus()
		u.pages.ShowPage("help")
		u.app.SetFocus(u.help)
	case 'G':
		if u.app.GetFocus() == u.msgs.table {
			u.follow = true
		}
		return ev
	case 'F':
		u.follow = !u.follow
		if u.follow {
			u.selectRow(u.view.rows() - 1)
		}
		u.status.refresh()
	case 't':
		u.relTime = !u.relTime
		u.msgs.invalidate()
	case 'f':
		u.bar.open(promptFilter, u.view.filter.String())
	case 'x':
		f := u.view.filter
		src := " " + f.String() + " "
		src = strings.ReplaceAll(src, " -ctl ", " ")
		src = strings.TrimSpace(strings.ReplaceAll(src, " -control ", " "))
		if !f.HideControl {
			src = strings.TrimSpace(src + " -ctl")
		}
		u.setFilter(src)
	case '/':
		u.bar.open(promptSearch, u.search.text)
	case 'n':
		u.findNext(1)
	case 'N':
		u.findNext(-1)
	case ':':
		u.bar.open(promptJump, "")
	case 'a':
		u.conns.table.Select(1, 0)
	case '1', '2', '3', '4':
		u.detail.mode = int(ev.Rune() - '1')
		u.showDetail(true)
	case 'v':
		u.detail.mode = (u.detail.mode + 1) % modeCount
		u.showDetail(true)
	case 's':
		if u.selMsg < 0 {
			u.status.notify("no message selected")
			break
		}
		u.bar.open(promptSave, fmt.Sprintf("wsscope-msg-%d.bin", u.snap.msg(int(u.selMsg)).pkt0))
	case 'e':
		u.bar.open(promptExport, "wsscope-view.jsonl")
	case 'y':
		if u.selMsg < 0 {
			u.status.notify("no message selected")
			break
		}
		u.copyPending = true
		u.status.notify("copy payload as: t text, h hex, b base64")
	case '+', '=':
		u.resize(1)
	case '-', '_':
		u.resize(-1)
	case 'z':
		if u.zoom != nil {
			u.zoom = nil
		} else {
			u.zoom = u.app.GetFocus()
		}
		focus := u.app.GetFocus()
		u.layout()
		u.app.SetFocus(focus)
	default:
		return ev
	}
	return nil
}

// onMouse pauses follow mode when the wheel scrolls the messages pane up.
func (u *ui) onMouse(ev *tcell.EventMouse, action tview.MouseAction) (*tcell.EventMouse, tview.MouseAction) {
	if action == tview.MouseScrollUp && ev != nil {
		x, y := ev.Position()
		if u.msgs.table.InRect(x, y) {
			u.follow = false
		}
	}
	return ev, action
}

func (u *ui) cycleFocus(d int) {
	if u.zoom != nil {
		return
	}
	focus := u.app.GetFocus()
	k := 1
	for i, p := range u.panes {
		if p == focus {
			k = i
		}
	}
	k = (k + d + len(u.panes)) % len(u.panes)
	u.app.SetFocus(u.panes[k])
}

// resize grows (d>0) or shrinks the focused pane by d rows.
func (u *ui) resize(d int) {
	_, h := 80, 24
	if u.screen != nil {
		_, h = u.screen.Size()
	}
	avail := h - 2 // filter bar, status bar
	if u.hDet == 0 {
		u.hDet = (avail - u.hConns) / 2
	}
	switch u.app.GetFocus() {
	case u.conns.table:
		u.hConns += d
		u.userConns = true
	case u.detail.text:
		u.hDet += d
	default: // messages: take from / give to the detail pane
		u.hDet -= d
	}
	u.hConns = max(3, min(u.hConns, avail-6))
	u.hDet = max(3, min(u.hDet, avail-u.hConns-3))
	focus := u.app.GetFocus()
	u.layout()
	u.app.SetFocus(focus)
}

func (u *ui) setFilter(src string) {
	f, err := ParseFilter(src, u.selConn)
	if err != nil {
		u.status.notify(err.Error())
		return
	}
	u.applyFilter(f)
}

func (u *ui) findNext(dir int) {
	if u.search.empty() {
		u.status.notify("no search: press / first")
		return
	}
	row, _ := u.msgs.table.GetSelection()
	u.startFind(row-1, dir)
}

// promptDone applies what was typed in the filter bar.
func (u *ui) promptDone(kind int, text string) {
	switch kind {
	case promptFilter:
		u.setFilter(text)
	case promptSearch:
		q, err := parseSearch(text)
		if err != nil {
			u.status.notify(err.Error())
			return
		}
		u.search = q
		u.bar.refresh()
		if !q.empty() {
			u.findNext(1)
		}
	case promptJump:
		n, err := strconv.ParseUint(strings.TrimSpace(text), 10, 64)
		if err != nil {
			u.status.notify("not a packet number: " + text)
			return
		}
		if r := rowForPacket(&u.snap, &u.view, n); r >= 0 {
			u.selectRow(r)
		}
	case promptSave:
		u.savePayload(text)
	case promptExport:
		u.exportView(text)
	}
}

// clipMax bounds the payload bytes copied to the clipboard.
const clipMax = 1 << 20

// selPayload reads the selected message's payload from the spill: at most
// max bytes (all kept bytes if max < 0).
func (u *ui) selPayload(max int) ([]byte, *msgRec, *msgDetail) {
	if u.selMsg < 0 || int(u.selMsg) >= u.snap.nMsgs() {
		return nil, nil, nil
	}
	r := u.snap.msg(int(u.selMsg))
	d, err := u.snap.readDetail(r, max, false)
	if err != nil {
		u.status.notify(err.Error())
		return nil, r, nil
	}
	return d.payload, r, d
}

func (u *ui) savePayload(path string) {
	p, r, d := u.selPayload(-1)
	if r == nil || d == nil || path == "" {
		return
	}
	if err := os.WriteFile(path, p, 0o600); err != nil {
		u.status.notify("tui: save: " + err.Error())
		return
	}
	msg := fmt.Sprintf("saved %d bytes to %s", len(p), path)
	if r.flags&(fPayloadCut|fPayloadGone|fTruncated|fIncomplete) != 0 {
		msg += fmt.Sprintf(" (PARTIAL: message is %d bytes)", d.length)
	}
	u.status.notify(msg)
}

// copy puts the selected payload on the terminal's clipboard with OSC 52
// (tcell's Screen.SetClipboard), as text, hex or base64: at most clipMax
// payload bytes.
func (u *ui) copy(how rune) {
	if how != 't' && how != 'h' && how != 'b' {
		u.status.notify("copy cancelled")
		return
	}
	p, r, d := u.selPayload(clipMax + 1)
	if r == nil || d == nil || u.screen == nil {
		return
	}
	cut := ""
	if len(p) > clipMax {
		p, cut = p[:clipMax], fmt.Sprintf(" (first %d payload bytes)", clipMax)
	}
	var out []byte
	switch how {
	case 't':
		out = []byte(visible(p, true, 0))
	case 'h':
		out = []byte(hex.EncodeToString(p))
	case 'b':
		out = []byte(base64.StdEncoding.EncodeToString(p))
	}
	u.screen.SetClipboard(out)
	u.status.notify(fmt.Sprintf("copied %d bytes to the clipboard (OSC 52)%s", len(out), cut))
}

// Run shows the UI on opts.Screen (or the terminal) until the user quits or
// ctx is cancelled. m may be fed concurrently from another goroutine before,
// during and after Run; the UI redraws at most every opts.Refresh while it
// changes.
func Run(ctx context.Context, m *Model, opts Options) error {
	u := newUI(m, opts)
	u.setScreen(opts.Screen)
	return u.run(ctx)
}

// setScreen installs s (nil: the real terminal, opened by tview).
func (u *ui) setScreen(s tcell.Screen) {
	if s == nil {
		return
	}
	w, h := s.Size()
	u.app.SetScreen(s)
	if sim, ok := s.(tcell.SimulationScreen); ok && w > 0 && h > 0 {
		sim.SetSize(w, h) // SetScreen's Init resets a simulation screen to 80×25
	}
}

func (u *ui) run(ctx context.Context) error {
	done := make(chan struct{})
	defer u.stopJobs()
	defer close(done)
	go u.tick(ctx, done)
	return u.app.Run()
}

// tick redraws at most every opts.Refresh when the model or the status
// changed, through QueueUpdateDraw, never from an event handler (tview
// #569). QueueUpdateDraw blocks until the event loop has run the update, so
// it is called from a helper goroutine, one at a time: the ticker itself
// never blocks and ends with Run. (If the user quits while an update is
// queued, that one helper stays blocked: tview does not drain its queue.)
func (u *ui) tick(ctx context.Context, done chan struct{}) {
	t := time.NewTicker(u.opts.Refresh)
	defer t.Stop()
	var pending atomic.Bool
	var quiet atomic.Int64 // no background update before (Unix ns)
	var last uint64
	var lastStatus Status
	var lastProg int64
	var lastPosted uint64
	slow := 0
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			u.app.Stop()
			return
		case <-t.C:
		}
		if pending.Load() {
			continue
		}
		changed := false
		if v := u.m.Version(); v != last {
			last, changed = v, true
		}
		if p := u.box.posted.Load(); p != lastPosted {
			lastPosted, changed = p, true
		}
		if u.opts.Status != nil {
			if st := u.opts.Status(); st != lastStatus {
				lastStatus, changed = st, true
			}
		}
		if u.opts.Progress != nil {
			if d, _ := u.opts.Progress(); d != lastProg {
				lastProg, changed = d, true
			}
		}
		slow++
		if slow*int(u.opts.Refresh) >= int(time.Second) { // flash expiry, clock
			slow, changed = 0, true
		}
		if !changed {
			continue
		}
		if time.Now().UnixNano() < quiet.Load() {
			continue // still within the previous update's budget
		}
		pending.Store(true)
		go func() {
			t0 := time.Now()
			u.app.QueueUpdateDraw(u.refresh)
			// Background updates take at most ~1/maxDuty of a core: a
			// slow draw (a large terminal, a loaded machine: the wait
			// for the event loop counts too) spaces the next one out,
			// up to maxQuiet, leaving the CPU to the analysis. Keys are
			// drawn at once by tview regardless.
			d := time.Since(t0)
			quiet.Store(time.Now().Add(min(d*maxDuty, maxQuiet)).UnixNano())
			pending.Store(false)
		}()
	}
}

// Pacing of background updates (see tick).
const (
	maxDuty  = 20
	maxQuiet = 500 * time.Millisecond
)
