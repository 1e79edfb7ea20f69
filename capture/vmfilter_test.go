package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// TestFileFilter runs Options.Filter (CompileFilter + the userspace BPF VM)
// over a pcapng file whose interfaces have three different link types.
func TestFileFilter(t *testing.T) {
	le := binary.LittleEndian
	eth4 := ethernet(t, ipPacket(t, pv4, ipOpts{}), nil, nil)  // 192.0.2.1:51000 > 198.51.100.7:8080
	raw6 := ipPacket(t, pv6data, ipOpts{})                     // [2001:db8:ffff::2]:40000 > [2001:db8::1]:80
	sll24 := sll2(ipPacket(t, pv4, ipOpts{}))                  // as eth4
	vlan6 := ethernet(t, ipPacket(t, pv6, ipOpts{}), nil, nil) // [2001:db8::1]:443 > ...:61000
	var file []byte
	file = append(file, ngSHB(le)...)
	file = append(file, ngIDB(le, 1, 0, -1, 0)...)
	file = append(file, ngIDB(le, 101, 0, -1, 0)...)
	file = append(file, ngIDB(le, 276, 0, -1, 0)...)
	for i, r := range []struct {
		iface uint32
		data  []byte
	}{{0, eth4}, {1, raw6}, {2, sll24}, {0, vlan6}, {1, raw6}} {
		file = append(file, ngEPB(le, r.iface, uint64(i), r.data, len(r.data))...)
	}
	for _, c := range []struct {
		filter string
		nums   []uint64
	}{
		{"", []uint64{1, 2, 3, 4, 5}},
		{"tcp port 8080", []uint64{1, 3}},
		{"ip6", []uint64{2, 4, 5}},
		{"ip6 and tcp port 80", []uint64{2, 5}},
		{"host 2001:db8::1 and not port 443", []uint64{2, 5}},
		{"tcp[tcpflags] & tcp-push != 0", []uint64{1, 3}}, // IPv4 only, as in tcpdump
		{"udp", nil},
	} {
		t.Run(c.filter, func(t *testing.T) {
			src, err := OpenReader(bytes.NewReader(file), "f", Options{Filter: c.filter})
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, src)
			if err != io.EOF {
				t.Fatal(err)
			}
			var nums []uint64
			for _, p := range got {
				nums = append(nums, p.Num)
			}
			if !equalNums(nums, c.nums) {
				t.Errorf("packets %v, want %v", nums, c.nums)
			}
			st := src.Stats()
			if st.Packets != 5 || st.TCP != uint64(len(c.nums)) || st.Skipped != 5-st.TCP {
				t.Errorf("stats %+v", st)
			}
			if n := src.(*fileSource).skips[skipFiltered]; n != st.Skipped {
				t.Errorf("filtered %d, skipped %d", n, st.Skipped)
			}
		})
	}

	// A syntax error is reported by Open, not at the first packet.
	_, err := OpenReader(bytes.NewReader(file), "f", Options{Filter: "tcp port"})
	var fe *FilterError
	if !errors.As(err, &fe) {
		t.Errorf("bad filter: %v", err)
	}
	// Packets of link types we cannot decode are skipped as such, whatever the filter.
	src, err := OpenReader(bytes.NewReader(pcapFile(t, 105, 0, eth4)), "f", Options{Filter: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Next(); err != io.EOF {
		t.Fatal(err)
	}
	if w := src.(Warner).Warnings(); len(w) != 1 || w[0] != "capture: f: unsupported link type 105 (IEEE802_11): 1 packet skipped" {
		t.Errorf("warnings %q", w)
	}
}

func equalNums(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
