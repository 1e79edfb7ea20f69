//go:build !linux && !(libpcap && cgo)

package capture

const (
	liveSupported = false
	liveBackend   = ""
)

// OpenLive is not implemented outside Linux: it returns ErrLiveUnsupported.
func OpenLive(iface string, opts LiveOptions) (Source, error) {
	return nil, ErrLiveUnsupported
}
