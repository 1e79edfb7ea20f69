// Package export writes what the pipeline finds — connections, messages and
// anomalies — as JSON Lines (JSONWriter), human-readable text (TextWriter) or
// HAR 1.2 (HARWriter). Every writer is a pipeline.Sink; Select filters what
// reaches a writer (connection, direction, opcode, host, path, payload
// substring or regular expression, control frames).
//
// Writers never retain the pointers they are handed beyond the call, except
// *pipeline.Conn, which the pipeline keeps valid for the run. Output is
// always well-formed whatever bytes the payloads hold: JSON strings are
// escaped (payloads that are not valid UTF-8 text go out as base64), and
// text output escapes every control character and terminal escape sequence.
//
// Anomalies that are security findings (pipeline.SecurityRisk returns a
// risk) get "category":"security" and "risk" in JSON (security.go) and
// "SECURITY <risk>" in text; other anomalies are written as before.
package export
