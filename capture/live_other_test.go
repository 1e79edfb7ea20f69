//go:build !linux && !(libpcap && cgo)

package capture

import (
	"errors"
	"testing"
)

func TestOpenLiveUnsupported(t *testing.T) {
	src, err := OpenLive("lo0", LiveOptions{})
	if src != nil || !errors.Is(err, ErrLiveUnsupported) || err.Error() != "capture: live capture is only supported on Linux" {
		t.Fatalf("OpenLive = %v, %v", src, err)
	}
}
