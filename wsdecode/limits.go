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
//   - each direction keeps, when context takeover applies, one inflate
//     history buffer (the last 32 KiB of plaintext, in a buffer grown with
//     use up to 48 KiB) but no inflater: flate readers are pooled, shared
//     by all Conns and hold nothing of a Conn between messages;
//   - each direction keeps a 14-byte header buffer, a 141-byte
//     resynchronisation carry and, once a limit is hit, a 4 KiB scratch
//     buffer;
//   - a message's buffers are held only while it is in progress: once it
//     is emitted, buffers above keepBuffer (512 B) go back to pools shared
//     by all Conns (bufpool.go), so memory follows the messages in
//     progress, not connections × the largest message each ever carried
//     (a message in progress past keepBuffer grows at once to the size of
//     its direction's previous message, at most maxSizeHint = 1 MiB);
//     Frames and Anomalies slices above keepFrames/keepAnomalies entries
//     are dropped too; Conn.Trim releases the small ones on demand.
const (
	DefaultMaxMessageSize      = 64 << 20
	DefaultMaxInflateRatio     = 1000
	DefaultMaxFramesPerMessage = 1024

	inflateRatioFloor = 1 << 20
	maxAnomalies      = 32
	windowSize        = 32 << 10
	windowCap         = windowSize + windowSize/2
	keepBuffer        = 512
	maxSizeHint       = 1 << 20
	keepFrames        = 4
	keepAnomalies     = 4
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
