package pipeline

import "github.com/wsscope/wsscope/wsdecode"

// Severity returns the severity of a wsdecode anomaly code: "error" for
// protocol violations, "warning" for damage and limits, "info" for legal
// oddities.
func Severity(code string) string {
	switch code {
	case wsdecode.CodeNonMinimalLength:
		return "info"
	case wsdecode.CodeGap, wsdecode.CodeTruncated, wsdecode.CodeResyncSkipped, wsdecode.CodeResyncGuess, wsdecode.CodeContextLost,
		wsdecode.CodeMessageTooLarge, wsdecode.CodeInflateRatio, wsdecode.CodeTooManyFrames,
		wsdecode.CodeTooManyAnomalies, wsdecode.CodeCompressedTooLarge,
		wsdecode.CodeExtSyntax, wsdecode.CodeExtUnknown, wsdecode.CodeExtUnknownParam,
		wsdecode.CodeExtInvalidParam, wsdecode.CodeExtDuplicateParam, wsdecode.CodeExtMultiple:
		return "warning"
	}
	return "error"
}
