package wsdecode_test

import (
	"fmt"

	"github.com/wsscope/wsscope/wsdecode"
)

type printer struct{}

func (printer) Message(m *wsdecode.Message) {
	fmt.Printf("%s op=%d %q compressed=%v packets %d-%d anomalies=%d\n",
		m.Dir, m.Opcode, m.Payload, m.Compressed, m.First.Packet, m.Last.Packet, len(m.Anomalies))
}

func (printer) Anomaly(a *wsdecode.Anomaly) { fmt.Println("anomaly:", a.Code) }

func Example() {
	d, _ := wsdecode.NegotiatedDeflate([]string{"permessage-deflate; client_no_context_takeover"})
	c := wsdecode.NewConn(wsdecode.Config{Deflate: d}, printer{})
	// A masked client text frame "Hello" (RFC 6455 §5.7), split across two packets.
	frame := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	c.Feed(wsdecode.FromClient, frame[:3], wsdecode.Meta{Packet: 1})
	c.Feed(wsdecode.FromClient, frame[3:], wsdecode.Meta{Packet: 2})
	// A compressed server text frame "Hello" (RFC 7692 §7.2.3.1).
	c.Feed(wsdecode.FromServer, []byte{0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, wsdecode.Meta{Packet: 3})
	c.Close(wsdecode.Meta{Packet: 4})
	// Output:
	// client op=1 "Hello" compressed=false packets 1-2 anomalies=0
	// server op=1 "Hello" compressed=true packets 3-3 anomalies=0
}
