package pipeline

import (
	"github.com/wsscope/wsscope/reassembly"
	"github.com/wsscope/wsscope/wsdecode"
)

// Severity returns the severity of a wsdecode anomaly code: "error" for
// protocol violations, "warning" for damage and limits, "info" for legal
// oddities. Security findings of wsdecode (predictable masking keys) are
// legal but risky: "warning", as their risk (SecurityRisk) is medium.
func Severity(code string) string {
	switch code {
	case wsdecode.CodeNonMinimalLength:
		return "info"
	case wsdecode.CodeGap, wsdecode.CodeTruncated, wsdecode.CodeResyncSkipped, wsdecode.CodeResyncGuess, wsdecode.CodeContextLost,
		wsdecode.CodeMessageTooLarge, wsdecode.CodeInflateRatio, wsdecode.CodeTooManyFrames,
		wsdecode.CodeTooManyAnomalies, wsdecode.CodeCompressedTooLarge,
		wsdecode.CodeExtSyntax, wsdecode.CodeExtUnknown, wsdecode.CodeExtUnknownParam,
		wsdecode.CodeExtInvalidParam, wsdecode.CodeExtDuplicateParam, wsdecode.CodeExtMultiple,
		wsdecode.CodeMaskKeyZero, wsdecode.CodeMaskKeyRepeated:
		return "warning"
	}
	return "error"
}

// Risk levels of security findings (SecurityRisk).
const (
	RiskLow    = "low"
	RiskMedium = "medium"
	RiskHigh   = "high"
)

// CategorySecurity is the category of anomalies that are security findings
// (JSON "category" field; absent for other anomalies).
const CategorySecurity = "security"

// SecurityRisk returns the risk level of an anomaly code that is a security
// finding (RFC 6455 §10 and cross-site WebSocket hijacking), or "" for any
// other code. The level is a property of the code, so that every sink (JSON,
// text, TUI) ranks findings the same way:
//
//	high    a cross-site page can act with the user's credentials
//	        (cswsh-cross-origin), or reusable credentials crossed the wire
//	        readable (cleartext-authorization)
//	medium  credentials readable on the wire (cookies, query or
//	        subprotocol tokens), an
//	        accepted credentialed handshake without Origin, masking that
//	        does not protect intermediaries (unmasked client frames, zero or
//	        repeated masking keys)
//	low     a weakness worth knowing without a direct attack: handshake nonce
//	        not a fresh 16-byte value (bad, reused or RFC sample key), a
//	        wrong Accept the client went on with, a cross-origin handshake
//	        accepted with a non-ambient token
//
// Severity of the new security codes follows the risk (high → error,
// medium → warning, low → info); codes that existed before (bad key, wrong
// Accept, unmasked client frame) keep their protocol severity "error".
func SecurityRisk(code string) string {
	switch code {
	case reassembly.CodeCSWSHCrossOrigin, reassembly.CodeCleartextAuth:
		return RiskHigh
	case reassembly.CodeCSWSHNoOrigin, reassembly.CodeCleartextCookie, reassembly.CodeCleartextQueryToken, reassembly.CodeCleartextSubprotocolToken,
		wsdecode.CodeUnmaskedClient, wsdecode.CodeMaskKeyZero, wsdecode.CodeMaskKeyRepeated:
		return RiskMedium
	case reassembly.CodeCSWSHCrossOriginToken, reassembly.CodeKeyReused, reassembly.CodeBadKey, reassembly.CodeWrongAccept:
		return RiskLow
	}
	return ""
}

// RiskSeverity maps a risk level to the severity scale of anomalies, for
// security codes that have no protocol severity of their own.
func RiskSeverity(risk string) string {
	switch risk {
	case RiskHigh:
		return "error"
	case RiskMedium:
		return "warning"
	}
	return "info"
}

// RiskRank orders risk levels: 3 high, 2 medium, 1 low, 0 not a security
// finding.
func RiskRank(risk string) int {
	switch risk {
	case RiskHigh:
		return 3
	case RiskMedium:
		return 2
	case RiskLow:
		return 1
	}
	return 0
}
