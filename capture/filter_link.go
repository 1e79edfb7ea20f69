package capture

import "golang.org/x/net/bpf"

// linkInfo describes where a link type keeps the network-layer protocol and
// where the network layer starts.
type linkInfo struct {
	kind    int
	typeOff uint32 // ethertype field offset (ether, sll, sll2)
	nl      uint32 // network-layer offset
}

const (
	lkEther = iota
	lkSLL   // Linux cooked v1/v2: a 2-byte ethertype field
	lkRaw   // raw IP: version nibble
	lkIPv4  // IPv4 only
	lkIPv6  // IPv6 only
	lkNull  // 4-byte AF in host byte order (little-endian Linux, as tcpdump -y NULL)
	lkLoop  // 4-byte AF in network byte order
)

const (
	etIP   = 0x0800
	etARP  = 0x0806
	etRARP = 0x8035
	etIP6  = 0x86dd

	afINET  = 2
	afINET6 = 10 // Linux value, as libpcap on Linux uses
)

func linkInfoFor(lt uint16) (linkInfo, bool) {
	switch lt {
	case linkEthernet:
		return linkInfo{kind: lkEther, typeOff: 12, nl: 14}, true
	case linkLinuxSLL:
		return linkInfo{kind: lkSLL, typeOff: 14, nl: 16}, true
	case linkLinuxSLL2:
		return linkInfo{kind: lkSLL, typeOff: 0, nl: 20}, true
	case linkRaw, linkRawAlt12, linkRawAlt14:
		return linkInfo{kind: lkRaw, nl: 0}, true
	case linkIPv4:
		return linkInfo{kind: lkIPv4, nl: 0}, true
	case linkIPv6:
		return linkInfo{kind: lkIPv6, nl: 0}, true
	case linkNull:
		return linkInfo{kind: lkNull, nl: 4}, true
	case linkLoop:
		return linkInfo{kind: lkLoop, nl: 4}, true
	}
	return linkInfo{}, false
}

func swap32(v uint32) uint32 {
	return v>>24 | (v>>8)&0xff00 | (v<<8)&0xff0000 | v<<24
}

// linkProto tests that the packet's network protocol is the given ethertype.
// off is the extra offset added by preceding "vlan" keywords.
func (li linkInfo) linkProto(et uint16, off uint32) bexpr {
	switch li.kind {
	case lkEther, lkSLL:
		return test(bpfJEQ, uint32(et), ldAbs(li.typeOff+off, 2))
	case lkRaw:
		var v uint32
		switch et {
		case etIP:
			v = 0x40
		case etIP6:
			v = 0x60
		default:
			return bFalse
		}
		return test(bpfJEQ, v, ldAbs(0, 1), bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xf0})
	case lkIPv4:
		if et == etIP {
			return bTrue
		}
		return bFalse
	case lkIPv6:
		if et == etIP6 {
			return bTrue
		}
		return bFalse
	case lkNull, lkLoop:
		var af uint32
		switch et {
		case etIP:
			af = afINET
		case etIP6:
			af = afINET6
		default:
			return bFalse
		}
		if li.kind == lkNull {
			af = swap32(af)
		}
		return test(bpfJEQ, af, ldAbs(0, 4))
	}
	return bFalse
}
