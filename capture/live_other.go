//go:build !linux

package capture

const liveSupported = false

// OpenLive is not implemented outside Linux: it returns ErrLiveUnsupported.
func OpenLive(iface string, opts LiveOptions) (Source, error) {
	return nil, ErrLiveUnsupported
}
