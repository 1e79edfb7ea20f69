// Package wsdecode is a passive RFC 6455 / RFC 7692 decoder: it turns the two
// byte streams of one WebSocket connection (after the HTTP handshake) into
// messages, frames and anomalies. It does no I/O and imports no capture
// library: bytes and gap notices in, events out.
//
// # Input
//
// Each direction's bytes may arrive in chunks split anywhere (inside a
// header, the extended length, the masking key or the payload); every chunk
// carries the Meta (time, packet number) of the packet that carried it, and
// frames and messages report the Meta of their first and last byte.
//
// # Output and buffer ownership
//
// Handler.Message receives data messages when their FIN frame is seen (or a
// gap or Close cuts them) and every control frame. Message.Payload,
// Message.Frames and Message.Anomalies point into buffers owned by the Conn
// and are valid only during the call. Payload is unmasked and, for
// compressed messages, inflated.
//
// # Compression
//
// permessage-deflate (RFC 7692) and x-webkit-deflate-frame / deflate-frame
// are inflated with pooled compress/flate readers. Under context takeover each
// direction keeps the last 32 KiB of its compressed messages' plaintext. Once
// bytes of a direction are lost (a gap anywhere but inside the payload of an
// uncompressed frame of known length) or an inflation fails or is cut short
// by a limit, that history is unknown: later compressed messages of that direction are marked
// deflate-context-lost and Incomplete and carry no payload, rather than
// inflated garbage. Directions with no_context_takeover recover with the next
// message.
//
// # Gaps and resynchronisation
//
// A gap inside a frame payload of known length is skipped (the message is
// marked Incomplete with a gap anomaly) and decoding continues at the next
// header, whose position is known. Any other gap (in a header, past the end
// of the current frame) loses the frame boundaries: the decoder searches the
// following bytes for a plausible frame header (see plausible; the bytes
// passed over are reported as resync-skipped) and decodes from there.
//
// A header found by search is a guess: it may lie inside the payload of a
// frame whose header was lost. Every message with a frame decoded from a
// guessed position carries a resync-guess anomaly, and so does every
// following message of the direction until the position is confirmed: the
// guessed frame and the next three (resyncConfirmLinks = 4) must each end
// exactly where the next header starts, and each of them must be a "link":
// its header and the next raise no anomaly, nothing else is reported in
// between (invalid UTF-8, close body, inflate error, limit, another gap;
// deflate-context-lost does not count, it is a consequence of the gap), its
// payload is not empty, and its wire bytes differ from the previous frame's
// (runs of zero bytes or periodic data chain trivially and never confirm). A
// frame that is not a link restarts the count. The frame whose header
// completes the count is the first one decoded unmarked; messages begun
// before it stay marked, and a new gap starts over. So a message without
// anomalies after a gap was decoded from a position backed by four checked
// frame boundaries in a row. If a wrong guess leaves the decoder out of step
// with the frames, every message it decodes stays marked (and usually carries
// violations too) until a later gap, length-top-bit or a chance realignment
// that survives the same confirmation. A payload that itself embeds a valid
// stream of several distinct WebSocket frames (WebSocket tunnelled in
// WebSocket) can still pass confirmation: passively, nothing tells the two
// apart.
//
// # Limits
//
// See limits.go: payload (after decompression) ≤ Config.MaxMessageSize,
// inflate ratio ≤ Config.MaxInflateRatio past 1 MiB, frame headers per
// message ≤ Config.MaxFramesPerMessage, anomalies per message ≤ 32. Nothing
// is allocated from a length read off the wire: buffers grow as bytes
// arrive, are reused from message to message (no allocation per frame in
// steady state), and are released when they stop being used; Conn.Trim
// releases them at once (idle connections).
//
// # Anomaly codes
//
// Message-level codes are in Message.Anomalies; stream-level codes go to
// Handler.Anomaly; ext-* codes are returned by NegotiatedDeflate and
// ParseExtensions.
//
//	code                   where    meaning
//	reserved-opcode        message  opcode 0x3-0x7 or 0xB-0xF; the frame is emitted as its own message
//	unexpected-rsv         message  RSV2/RSV3 set, or RSV1 without deflate, on a control frame, or on a permessage-deflate continuation
//	non-minimal-length     message  payload length not in its shortest encoding
//	length-top-bit         stream   64-bit length with the top bit set; the decoder resynchronises
//	unmasked-client-frame  message  client→server frame without MASK
//	masked-server-frame    message  server→client frame with MASK
//	control-too-long       message  control frame payload > 125 bytes
//	fragmented-control     message  control frame without FIN
//	orphan-continuation    message  continuation frame with no message in progress (emitted with Opcode 0)
//	interrupted-message    message  a new text/binary frame arrived before the fragmented message's FIN; the old message is emitted Incomplete
//	invalid-utf8           message  text payload (or its decompressed form) is not valid UTF-8
//	invalid-close-length   message  close body of 1 byte
//	invalid-close-code     message  close code <1000, 1004-1006, 1015, 1016-2999 or ≥5000
//	invalid-close-reason   message  close reason is not valid UTF-8
//	inflate-error          message  compressed payload does not inflate; no payload is presented
//	deflate-context-lost   message  compressed with context takeover after lost history; not inflated
//	message-too-large      message  payload past MaxMessageSize; Truncated
//	compressed-too-large   message  compressed payload past MaxMessageSize; not inflated, Truncated
//	inflate-ratio          message  decompression bomb guard hit; Truncated
//	too-many-frames        message  more than MaxFramesPerMessage frames; later headers not recorded
//	too-many-anomalies     message  more than 32 anomalies; later ones dropped
//	gap                    both     bytes lost inside this message (message) or between frames (stream)
//	truncated-stream       both     Close arrived inside a message (message) or a frame header (stream)
//	resync-skipped         stream   bytes skipped while searching for a frame header after a gap
//	resync-guess           message  decoded from a frame header found by search after a gap, position not yet confirmed (see above)
//	data-after-close       stream   a frame after this direction's close frame (reported once)
//	mask-key-zero          stream   at Close, once: client frames masked with the all-zero key (count; see maskkey.go)
//	mask-key-repeated      stream   at Close, once: client frames reusing a recent masking key, from 2 repeats (count; see maskkey.go)
//	ext-syntax             handshake  malformed Sec-WebSocket-Extensions entry
//	ext-unknown            handshake  extension other than permessage-deflate / deflate-frame
//	ext-unknown-param      handshake  unknown deflate parameter
//	ext-invalid-param      handshake  invalid value (window bits not 8..15, value on a flag)
//	ext-duplicate-param    handshake  parameter repeated
//	ext-multiple-deflate   handshake  more than one compression extension accepted
package wsdecode
