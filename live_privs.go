//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// privDrop prepares -Z name: it checks that the account exists and that
// the process runs as root, before anything is opened, and returns the
// function that switches the process to the account, like tcpdump -Z:
// supplementary groups to those of the account, group ID to its primary
// group, user ID to its UID, in that order. run calls it when the live
// capture socket and every output file (-w, -o, --har) are open, before the
// first packet is decoded, so the code parsing what crosses the wire never
// runs as root; the open files and the capture ring stay usable. Go applies
// setuid, setgid and setgroups to every thread of the process (Go ≥ 1.16
// on Linux). For name "" the returned function does nothing.
//
// Unlike tcpdump builds configured with a default user, wsscope never drops
// privileges by default: without -Z it keeps the identity it was started
// with (prefer setcap cap_net_raw to running as root).
func privDrop(name string) (drop func() error, err error) {
	if name == "" {
		return func() error { return nil }, nil
	}
	u, err := lookupUser(name)
	if err != nil {
		return nil, err
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("-Z %s: unusable user or group id %q/%q", name, u.Uid, u.Gid)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("-Z %s: not running as root (euid %d): cannot change user", name, os.Geteuid())
	}
	return func() error { return setIDs(name, u, uid, gid) }, nil
}

func setIDs(name string, u *user.User, uid, gid int) error {
	groups := []int{gid}
	if ids, err := u.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.Atoi(s); err == nil && g != gid {
				groups = append(groups, g)
			}
		}
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("-Z %s: setgroups: %w", name, err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("-Z %s: setgid %d: %w", name, gid, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("-Z %s: setuid %d: %w", name, uid, err)
	}
	// Check it took, and that it cannot be undone.
	if os.Getuid() != uid || os.Geteuid() != uid || os.Getgid() != gid || os.Getegid() != gid {
		return fmt.Errorf("-Z %s: ids are uid %d euid %d gid %d egid %d after the change", name, os.Getuid(), os.Geteuid(), os.Getgid(), os.Getegid())
	}
	if uid != 0 && syscall.Setuid(0) == nil {
		return fmt.Errorf("-Z %s: root could be regained after setuid %d", name, uid)
	}
	return nil
}

// lookupUser finds an account by name, or by number ("65534").
func lookupUser(name string) (*user.User, error) {
	u, err := user.Lookup(name)
	if err == nil {
		return u, nil
	}
	var unknown user.UnknownUserError
	if _, nerr := strconv.Atoi(name); nerr == nil {
		if u, ierr := user.LookupId(name); ierr == nil {
			return u, nil
		}
	}
	if errors.As(err, &unknown) {
		return nil, fmt.Errorf("-Z %s: no such user", name)
	}
	return nil, fmt.Errorf("-Z %s: looking up the user: %w", name, err)
}
