package capture

import (
	"encoding/binary"
	"net/netip"
)

// Link types (https://www.tcpdump.org/linktypes.html) decoded by this package.
const (
	LinkTypeNull      uint16 = 0   // BSD loopback, host-order address family
	LinkTypeEthernet  uint16 = 1   // Ethernet, with 802.1Q/802.1ad tags
	LinkTypeRawAlt12  uint16 = 12  // raw IP (DLT_RAW on most BSDs)
	LinkTypeRawAlt14  uint16 = 14  // raw IP (DLT_RAW on OpenBSD)
	LinkTypeRaw       uint16 = 101 // raw IP (LINKTYPE_RAW)
	LinkTypeLoop      uint16 = 108 // OpenBSD loopback, network-order address family
	LinkTypeLinuxSLL  uint16 = 113 // Linux cooked capture v1
	LinkTypeIPv4      uint16 = 228 // raw IPv4
	LinkTypeIPv6      uint16 = 229 // raw IPv6
	LinkTypeLinuxSLL2 uint16 = 276 // Linux cooked capture v2
)

// SupportedLinkType reports whether packets of link type lt can be decoded.
func SupportedLinkType(lt uint16) bool {
	switch lt {
	case LinkTypeNull, LinkTypeEthernet, LinkTypeRawAlt12, LinkTypeRawAlt14, LinkTypeRaw,
		LinkTypeLoop, LinkTypeLinuxSLL, LinkTypeIPv4, LinkTypeIPv6, LinkTypeLinuxSLL2:
		return true
	}
	return false
}

// skipReason says why a record was not returned as a TCP packet.
type skipReason uint8

const (
	decoded         skipReason = iota
	skipLinkType               // unsupported link type
	skipNotIP                  // link layer carries something other than IPv4/IPv6
	skipNotTCP                 // IP carries something other than TCP
	skipFragment               // IP fragment
	skipTruncated              // headers not fully captured
	skipMalformed              // inconsistent header fields
	skipFiltered               // rejected by Options.Filter
	skipBadChecksum            // TCP checksum wrong (see checksum.go)
	numSkipReasons
)

const (
	etherTypeIPv4  = 0x0800
	etherTypeIPv6  = 0x86dd
	etherTypeVLAN  = 0x8100
	etherTypeQinQ  = 0x88a8
	etherTypeQinQ2 = 0x9100
	etherTypeQinQ3 = 0x9200
)

// decodePacket decodes one record's captured bytes (data, wire length
// origLen) of link type lt into p, setting every field but Num and Time.
// p.Payload points into data. It does not allocate.
func decodePacket(p *Packet, lt uint16, data []byte, origLen int) skipReason {
	var (
		l3      []byte
		version byte // 4, 6, or 0 = from the IP header
	)
	switch lt {
	case LinkTypeEthernet:
		if len(data) < 14 {
			return skipTruncated
		}
		var r skipReason
		if l3, version, r = etherPayload(data[12:]); r != decoded {
			return r
		}
	case LinkTypeLinuxSLL:
		if len(data) < 16 {
			return skipTruncated
		}
		var r skipReason
		if l3, version, r = etherPayload(data[14:]); r != decoded {
			return r
		}
	case LinkTypeLinuxSLL2:
		if len(data) < 20 {
			return skipTruncated
		}
		switch binary.BigEndian.Uint16(data) {
		case etherTypeIPv4:
			l3, version = data[20:], 4
		case etherTypeIPv6:
			l3, version = data[20:], 6
		case etherTypeVLAN, etherTypeQinQ, etherTypeQinQ2, etherTypeQinQ3:
			// SLL2 keeps the protocol up front; the tag control information and
			// the inner EtherType follow the 20-byte header.
			if len(data) < 24 {
				return skipTruncated
			}
			var r skipReason
			if l3, version, r = etherPayload(data[22:]); r != decoded {
				return r
			}
		default:
			return skipNotIP
		}
	case LinkTypeRaw, LinkTypeRawAlt12, LinkTypeRawAlt14:
		l3 = data
	case LinkTypeIPv4:
		l3, version = data, 4
	case LinkTypeIPv6:
		l3, version = data, 6
	case LinkTypeNull, LinkTypeLoop:
		if len(data) < 4 {
			return skipTruncated
		}
		// The family is host order for NULL and network order for LOOP, but
		// writers disagree: accept either order for both.
		fam := binary.LittleEndian.Uint32(data)
		if fam > 0xffff {
			fam = binary.BigEndian.Uint32(data)
		}
		switch fam {
		case 2:
			version = 4
		case 10, 24, 28, 30: // AF_INET6: Linux, NetBSD/OpenBSD, FreeBSD, Darwin
			version = 6
		default:
			return skipNotIP
		}
		l3 = data[4:]
	default:
		return skipLinkType
	}
	// Bytes of the network layer that were on the wire.
	wire := origLen - (len(data) - len(l3))
	if wire < len(l3) {
		wire = len(l3) // inconsistent record: trust what was captured
	}
	if len(l3) == 0 {
		return skipTruncated
	}
	if version == 0 {
		version = l3[0] >> 4
	}
	switch version {
	case 4:
		return decodeIPv4(p, l3, wire)
	case 6:
		return decodeIPv6(p, l3, wire)
	}
	return skipNotIP
}

// etherPayload decodes an EtherType (b[0:2]) followed by the network layer,
// skipping any number of 802.1Q/802.1ad tags.
func etherPayload(b []byte) (l3 []byte, version byte, r skipReason) {
	for {
		if len(b) < 2 {
			return nil, 0, skipTruncated
		}
		switch binary.BigEndian.Uint16(b) {
		case etherTypeIPv4:
			return b[2:], 4, decoded
		case etherTypeIPv6:
			return b[2:], 6, decoded
		case etherTypeVLAN, etherTypeQinQ, etherTypeQinQ2, etherTypeQinQ3:
			if len(b) < 6 {
				return nil, 0, skipTruncated
			}
			b = b[4:]
		default:
			return nil, 0, skipNotIP
		}
	}
}

// decodeIPv4 decodes an IPv4 header and what follows. wire is the number of
// network-layer bytes that were on the wire (b holds those captured).
func decodeIPv4(p *Packet, b []byte, wire int) skipReason {
	if len(b) < 20 {
		return skipTruncated
	}
	if b[0]>>4 != 4 {
		return skipMalformed
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 {
		return skipMalformed
	}
	if len(b) < ihl {
		return skipTruncated
	}
	total := int(binary.BigEndian.Uint16(b[2:]))
	exact := true // the header's length is the segment's: the checksum can be verified
	switch {
	case total == 0:
		total, exact = wire, false // TCP segmentation offload: length left for the NIC to fill in
	case total < ihl:
		return skipMalformed
	case total > wire:
		total, exact = wire, false // never claim more bytes than the wire carried
	}
	if len(b) > total {
		b = b[:total] // link-layer padding
	}
	if binary.BigEndian.Uint16(b[6:])&0x3fff != 0 { // MF flag or fragment offset
		return skipFragment
	}
	if b[9] != 6 {
		return skipNotTCP
	}
	p.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[12:16])), 0)
	p.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[16:20])), 0)
	r := decodeTCP(p, b[ihl:], total-ihl)
	if r == decoded && exact && p.Missing == 0 && !tcpChecksumOK(b[12:16], b[16:20], b[ihl:total]) {
		return skipBadChecksum
	}
	return r
}

// decodeIPv6 decodes an IPv6 header, its extension headers and what follows.
func decodeIPv6(p *Packet, b []byte, wire int) skipReason {
	if len(b) < 40 {
		return skipTruncated
	}
	if b[0]>>4 != 6 {
		return skipMalformed
	}
	total := 40 + int(binary.BigEndian.Uint16(b[4:]))
	exact := true
	switch {
	case total == 40:
		total, exact = wire, false // jumbogram or segmentation offload
	case total > wire:
		total, exact = wire, false
	}
	if len(b) > total {
		b = b[:total]
	}
	nh, off := b[6], 40
	for nh != 6 {
		if off+8 > len(b) {
			if off+8 > total {
				return skipMalformed
			}
			return skipTruncated
		}
		switch nh {
		case 0, 43, 60, 135, 139, 140: // hop-by-hop, routing, destination, mobility, HIP, shim6
			nh, off = b[off], off+(int(b[off+1])+1)*8
		case 44: // fragment
			if binary.BigEndian.Uint16(b[off+2:])&0xfff9 != 0 { // offset or M flag
				return skipFragment
			}
			nh, off = b[off], off+8
		case 51: // authentication header
			if b[off+1] < 1 { // shorter than its 12-byte fixed part
				return skipMalformed
			}
			nh, off = b[off], off+(int(b[off+1])+2)*4
		default: // 59 (no next header), ESP, ICMPv6, UDP, ...
			return skipNotTCP
		}
	}
	if off > total {
		return skipMalformed
	}
	if off > len(b) {
		return skipTruncated
	}
	p.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])), 0)
	p.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[24:40])), 0)
	r := decodeTCP(p, b[off:], total-off)
	// With extension headers a routing header may change the address the
	// checksum covers: only plain IPv6 is verified.
	if r == decoded && exact && p.Missing == 0 && off == 40 && !tcpChecksumOK(b[8:24], b[24:40], b[off:total]) {
		return skipBadChecksum
	}
	return r
}

// decodeTCP decodes a TCP header; b holds the captured bytes of the segment,
// wire its length on the wire.
func decodeTCP(p *Packet, b []byte, wire int) skipReason {
	if wire < 20 {
		return skipMalformed
	}
	if len(b) < 20 {
		return skipTruncated
	}
	doff := int(b[12]>>4) * 4
	if doff < 20 || doff > wire {
		return skipMalformed
	}
	if len(b) < doff {
		return skipTruncated
	}
	p.Src = netip.AddrPortFrom(p.Src.Addr(), binary.BigEndian.Uint16(b))
	p.Dst = netip.AddrPortFrom(p.Dst.Addr(), binary.BigEndian.Uint16(b[2:]))
	p.Seq = binary.BigEndian.Uint32(b[4:])
	p.Ack = binary.BigEndian.Uint32(b[8:])
	p.Flags = TCPFlags(b[13]) & (FlagFIN | FlagSYN | FlagRST | FlagPSH | FlagACK)
	p.Payload = b[doff:]
	p.Missing = wire - len(b)
	return decoded
}
