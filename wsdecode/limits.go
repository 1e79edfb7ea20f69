package wsdecode

// Defaults and fixed bounds. Every buffer the decoder keeps is bounded:
//
//   - a message's payload buffer grows only as bytes arrive (never from a
//     length field) and stops at Config.MaxMessageSize (after
//     decompression); further bytes are consumed and counted in Message.Len
//     but not stored, and the message is marked Truncated;
//   - the compressed bytes of one message are buffered up to MaxMessageSize;
//   - inflation stops at MaxMessageSize of output, or when past
//     inflateRatioFloor the output exceeds MaxInflateRatio times the input;
//   - Message.Frames keeps at most MaxFramesPerMessage headers and
//     Message.Anomalies at most maxAnomalies (+1 marking the cut);
//   - each direction keeps one 64 KiB inflate history buffer (32 KiB used) when context takeover
//     applies, a 14-byte header buffer, a 141-byte resynchronisation carry
//     and, once a limit is hit, a 4 KiB scratch buffer;
//   - after a message, its buffers are kept for the next one up to keepBuffer
//     (64 KiB), released past retainBuffer (4 MiB), and in between kept
//     only while messages keep using a quarter of them; Conn.Trim releases
//     idle buffers on demand.
const (
	DefaultMaxMessageSize      = 64 << 20
	DefaultMaxInflateRatio     = 1000
	DefaultMaxFramesPerMessage = 1024

	inflateRatioFloor = 1 << 20
	maxAnomalies      = 32
	windowSize        = 32 << 10
	retainBuffer      = 4 << 20
	keepBuffer        = 64 << 10
	idleMessages      = 8
	scratchSize       = 4 << 10
)

// withDefaults returns cfg with zero (or negative) limits replaced by the
// defaults.
func (cfg Config) withDefaults() Config {
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.MaxInflateRatio <= 0 {
		cfg.MaxInflateRatio = DefaultMaxInflateRatio
	}
	if cfg.MaxFramesPerMessage <= 0 {
		cfg.MaxFramesPerMessage = DefaultMaxFramesPerMessage
	}
	return cfg
}
