package export

import (
	"net/netip"
	"time"

	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/reassembly"
	"github.com/wsscope/wsscope/wsdecode"
)

var t0 = time.Date(2026, 11, 25, 18, 47, 51, 123456789, time.UTC)

func testConn(id uint64) *pipeline.Conn {
	hs := &reassembly.Handshake{
		Method: "GET", URI: "/chat?room=a%20b&x=1", Proto: "HTTP/1.1",
		RequestHeaders: []reassembly.Header{
			{Name: "Host", Value: "example.com:8080"},
			{Name: "Upgrade", Value: "websocket"},
			{Name: "Connection", Value: "Upgrade"},
			{Name: "Sec-WebSocket-Key", Value: "dGhlIHNhbXBsZSBub25jZQ=="},
			{Name: "Sec-WebSocket-Version", Value: "13"},
			{Name: "Sec-WebSocket-Extensions", Value: "permessage-deflate; client_max_window_bits"},
			{Name: "Cookie", Value: "a=1; b=2"},
			{Name: "X-Dup", Value: "one"},
			{Name: "X-Dup", Value: "two\x1b[31m"},
		},
		Status: 101, Reason: "Switching Protocols", ResponseProto: "HTTP/1.1",
		ResponseHeaders: []reassembly.Header{
			{Name: "Upgrade", Value: "websocket"},
			{Name: "Connection", Value: "Upgrade"},
			{Name: "Sec-WebSocket-Accept", Value: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
			{Name: "Sec-WebSocket-Extensions", Value: "permessage-deflate; server_no_context_takeover"},
			{Name: "Sec-WebSocket-Protocol", Value: "chat"},
		},
		RequestAt:  reassembly.Meta{Time: t0, Packet: 4},
		ResponseAt: reassembly.Meta{Time: t0.Add(1500 * time.Microsecond), Packet: 6},
		Host:       "example.com:8080", Origin: "http://example.com",
		Key: "dGhlIHNhbXBsZSBub25jZQ==", KeyValid: true, Version: "13",
		Protocols: []string{"chat", "superchat"}, Extensions: []string{"permessage-deflate; client_max_window_bits"},
		Accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", AcceptValid: true, Subprotocol: "chat",
		AcceptedExtensions: []string{"permessage-deflate; server_no_context_takeover"},
		Upgraded:           true,
	}
	return &pipeline.Conn{
		ID:        id,
		Client:    netip.MustParseAddrPort("10.0.0.1:50312"),
		Server:    netip.MustParseAddrPort("[2001:db8::1]:8080"),
		Handshake: hs,
		Deflate:   wsdecode.Deflate{Mode: wsdecode.PerMessageDeflate, ServerNoContextTakeover: true},
		Start:     t0,
		Summary:   pipeline.Summary{CloseCodes: [2]int{-1, -1}},
	}
}

func endConn(c *pipeline.Conn) {
	c.Summary = pipeline.Summary{
		Messages:   [2]uint64{3, 4},
		Bytes:      [2]uint64{120, 2400},
		WireBytes:  [2]uint64{150, 800},
		CloseCodes: [2]int{1000, -1},
		Anomalies:  2,
		Ended:      true,
		EndReason:  reassembly.EndFIN,
		End:        t0.Add(2 * time.Second),
	}
}

func textMsg(dir wsdecode.Dir, payload string) *wsdecode.Message {
	return &wsdecode.Message{
		Dir: dir, Opcode: wsdecode.OpText, Payload: []byte(payload),
		Len: int64(len(payload)), WireLen: int64(len(payload)) + 6,
		Frames: []wsdecode.Frame{{Fin: true, Opcode: wsdecode.OpText, Masked: dir == wsdecode.FromClient}},
		Masked: dir == wsdecode.FromClient,
		First:  wsdecode.Meta{Time: t0.Add(time.Millisecond), Packet: 8},
		Last:   wsdecode.Meta{Time: t0.Add(2 * time.Millisecond), Packet: 9},
	}
}

// nastyPayloads are payloads that must come out escaped (text) and valid
// (JSON).
var nastyPayloads = []string{
	"\x1b[31mred\x1b[0m \x1b]0;title\x07",
	"nul\x00byte",
	"bad utf8 \xff\xfe \xc3",
	"line\u2028sep\u2029para",
	"bidi \u202eevil\u202c \u2066x\u2069 zw\u200b bom\ufeff",
	"c1 \u0085 \u009b31m",
	"cr\r\nlf\ttab\x7fdel\\back",
	"\"quotes\" and </script>",
	"emoji 😀 and 日本語",
}
