//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestDropUserErrors: -Z with an unknown user fails before anything is
// opened, in one line naming the user; -Z without -i is a usage error.
func TestDropUserErrors(t *testing.T) {
	code, _, stderr := runArgs(t, nil, "-i", "lo", "-Z", "no-such-user-wsscope", "--json")
	if code != exitError {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	oneErrorLine(t, stderr)
	if stderr != "wsscope: -Z no-such-user-wsscope: no such user\n" {
		t.Errorf("stderr %q", stderr)
	}
	code, _, stderr = runArgs(t, nil, "-r", "x.pcap", "-Z", "nobody")
	if code != exitUsage || !strings.Contains(stderr, "-Z drops privileges after opening a live capture: use it with -i") {
		t.Errorf("-Z with -r: exit %d: %q", code, stderr)
	}
	if os.Geteuid() != 0 {
		code, _, stderr = runArgs(t, nil, "-i", "lo", "-Z", "root", "--json")
		if code != exitError || !strings.Contains(stderr, "-Z root: not running as root") {
			t.Errorf("-Z as non-root: exit %d: %q", code, stderr)
		}
	}
}

// privBinary copies the test run's wsscope binary (wsscopeBinary) into a
// directory every user may enter, so it can be run as nobody too; each
// test gets its own copy (in a directory of its own, removed at its end).
func privBinary(t *testing.T) string {
	t.Helper()
	exe, err := os.ReadFile(wsscopeBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "wsscope-privs-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "wsscope")
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// nobody returns the uid and gid of the account "nobody", or skips.
func nobody(t *testing.T) (uid, gid int) {
	t.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

// statusIDs returns the Uid, Gid and Groups lines of /proc/PID/status.
func statusIDs(pid int) (uids, gids, groups string, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", "", "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		v = strings.Join(strings.Fields(v), " ")
		switch k {
		case "Uid":
			uids = v
		case "Gid":
			gids = v
		case "Groups":
			groups = v
		}
	}
	return uids, gids, groups, nil
}

// TestDropPrivilegesLive runs the binary as root with -Z nobody on lo: once
// capturing, /proc shows every uid and gid of the process as nobody's, and
// it keeps capturing: the messages sent afterwards are all decoded, written
// to -o and saved in the -w file, which was created before the drop.
func TestDropPrivilegesLive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("-Z needs root")
	}
	if testing.Short() {
		t.Skip("builds the binary; skipped in -short mode")
	}
	skipUnlessLoCapture(t)
	uid, gid := nobody(t)
	bin := privBinary(t)

	var mu sync.Mutex
	received := 0
	up := websocket.Upgrader{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
			mu.Lock()
			received++
			mu.Unlock()
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	dir := filepath.Dir(bin)
	out, raw := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "raw.pcapng")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-i", "lo", "-Z", "nobody", "-w", raw, "--json", "-o", out, "tcp", "port", strconv.Itoa(port))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	// The drop happens once the capture is open: wait for it.
	want := fmt.Sprintf("%d %d %d %d", uid, uid, uid, uid)
	wantG := fmt.Sprintf("%d %d %d %d", gid, gid, gid, gid)
	var uids, gids, groups string
	deadline := time.Now().Add(20 * time.Second)
	for {
		uids, gids, groups, err = statusIDs(cmd.Process.Pid)
		if err != nil {
			t.Fatalf("reading /proc: %v (stderr %q)", err, stderr.String())
		}
		if uids == want || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if uids != want || gids != wantG {
		t.Fatalf("after -Z nobody: Uid %q Gid %q, want %q and %q (stderr %q)", uids, gids, want, wantG, stderr.String())
	}
	for _, g := range strings.Fields(groups) {
		if g == "0" {
			t.Errorf("still in group 0: Groups %q", groups)
		}
	}

	// Traffic after the drop.
	const n = 50
	c, _, err := websocket.DefaultDialer.Dial(fmt.Sprintf("ws://127.0.0.1:%d/", port), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := c.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf("after the drop %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	c.Close()

	// Records appear within about 0.1 s (the live tick flushes -o).
	got := 0
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got = countTextRecords(t, out); got >= n {
			break
		}
	}
	if got != n {
		t.Fatalf("%d text records in -o while running, want %d (stderr %q)", got, n, stderr.String())
	}
	if uids, gids, _, _ = statusIDs(cmd.Process.Pid); uids != want || gids != wantG {
		t.Errorf("while capturing: Uid %q Gid %q", uids, gids)
	}
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("wsscope: %v: %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), " 0 dropped by the kernel") {
		t.Errorf("stderr %q", stderr.String())
	}

	// The -w file holds the same traffic.
	code, stdout, errs := runArgs(t, nil, "-r", raw, "--json")
	if code != exitOK {
		t.Fatalf("reading the -w file: exit %d: %s", code, errs)
	}
	if k := strings.Count(stdout, `"opcode":"text"`); k != n {
		t.Errorf("-w file: %d text messages, want %d", k, n)
	}
	mu.Lock()
	if received != n {
		t.Errorf("server received %d, want %d", received, n)
	}
	mu.Unlock()
}

func countTextRecords(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), `{"record":"message"`) && strings.Contains(sc.Text(), `"opcode":"text"`) {
			n++
		}
	}
	return n
}

// TestNoCapNetRawMessage runs the binary as nobody (no root, no
// CAP_NET_RAW): opening lo fails with one line naming the interface and
// CAP_NET_RAW, and -Z as nobody says it is not running as root.
func TestNoCapNetRawMessage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to start the binary as nobody")
	}
	if testing.Short() {
		t.Skip("builds the binary; skipped in -short mode")
	}
	uid, gid := nobody(t)
	bin := privBinary(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-i", "lo", "--json"}, "wsscope: lo: permission denied: live capture needs root or CAP_NET_RAW (try: sudo setcap cap_net_raw,cap_net_admin=eip $(which wsscope))\n"},
		{[]string{"-i", "any", "--json"}, "wsscope: any: permission denied: live capture needs root or CAP_NET_RAW"},
		{[]string{"-i", "lo", "-Z", "nobody", "--json"}, fmt.Sprintf("wsscope: -Z nobody: not running as root (euid %d): cannot change user\n", uid)},
	} {
		cmd := exec.Command(bin, tc.args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != exitError {
			t.Errorf("%v: %v, want exit status 1", tc.args, err)
		}
		oneErrorLine(t, stderr.String())
		if !strings.HasPrefix(stderr.String(), tc.want) {
			t.Errorf("%v:\n got %q\nwant %q", tc.args, stderr.String(), tc.want)
		}
	}
}
