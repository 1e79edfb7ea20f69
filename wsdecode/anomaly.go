package wsdecode

import "fmt"

// Anomaly codes. They are short, stable and kebab-case; the table in doc.go
// says what each one means and where it is reported.
const (
	// Frame header violations (RFC 6455 §5.2), reported on the message the
	// frame belongs to.
	CodeReservedOpcode     = "reserved-opcode"
	CodeUnexpectedRSV      = "unexpected-rsv"
	CodeNonMinimalLength   = "non-minimal-length"
	CodeLengthTopBit       = "length-top-bit"
	CodeUnmaskedClient     = "unmasked-client-frame"
	CodeMaskedServer       = "masked-server-frame"
	CodeControlTooLong     = "control-too-long"
	CodeFragmentedControl  = "fragmented-control"
	CodeOrphanContinuation = "orphan-continuation"
	CodeInterruptedMessage = "interrupted-message"

	// Payload violations.
	CodeInvalidUTF8        = "invalid-utf8"
	CodeInvalidCloseLength = "invalid-close-length"
	CodeInvalidCloseCode   = "invalid-close-code"
	CodeInvalidCloseReason = "invalid-close-reason"
	CodeInflateError       = "inflate-error"
	CodeContextLost        = "deflate-context-lost"

	// Limits.
	CodeMessageTooLarge    = "message-too-large"
	CodeInflateRatio       = "inflate-ratio"
	CodeTooManyFrames      = "too-many-frames"
	CodeTooManyAnomalies   = "too-many-anomalies"
	CodeCompressedTooLarge = "compressed-too-large"

	// Damage and stream-level findings.
	CodeGap            = "gap"
	CodeTruncated      = "truncated-stream"
	CodeResyncSkipped  = "resync-skipped"
	CodeResyncGuess    = "resync-guess"
	CodeDataAfterClose = "data-after-close"

	// Handshake extension negotiation (NegotiatedDeflate, ParseExtensions).
	CodeExtSyntax         = "ext-syntax"
	CodeExtUnknown        = "ext-unknown"
	CodeExtUnknownParam   = "ext-unknown-param"
	CodeExtInvalidParam   = "ext-invalid-param"
	CodeExtDuplicateParam = "ext-duplicate-param"
	CodeExtMultiple       = "ext-multiple-deflate"
)

// addAnomaly records a message-level anomaly on assembly a, bounded by
// maxAnomalies (one final too-many-anomalies entry marks the cut).
func (s *stream) addAnomaly(a *assembly, at Meta, code, format string, args ...any) {
	s.violation(code)
	if len(a.anoms) > maxAnomalies {
		return
	}
	if len(a.anoms) == maxAnomalies {
		a.anoms = append(a.anoms, Anomaly{Code: CodeTooManyAnomalies, Detail: "further anomalies of this message not recorded", Dir: s.dir, At: at})
		return
	}
	d := format
	if len(args) > 0 {
		d = fmt.Sprintf(format, args...)
	}
	a.anoms = append(a.anoms, Anomaly{Code: code, Detail: d, Dir: s.dir, At: at})
}

// streamAnomaly reports a finding not tied to one message via Handler.Anomaly.
func (s *stream) streamAnomaly(at Meta, code, format string, args ...any) {
	s.violation(code)
	d := format
	if len(args) > 0 {
		d = fmt.Sprintf(format, args...)
	}
	s.sanom = Anomaly{Code: code, Detail: d, Dir: s.dir, At: at}
	s.c.h.Anomaly(&s.sanom)
}
