package wsdecode

import (
	"slices"
	"testing"
)

func TestNegotiatedDeflate(t *testing.T) {
	for _, c := range []struct {
		in    []string
		want  Deflate
		codes []string
	}{
		{nil, Deflate{}, nil},
		{[]string{"permessage-deflate"}, Deflate{Mode: PerMessageDeflate}, nil},
		{[]string{"permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
			Deflate{Mode: PerMessageDeflate, ServerNoContextTakeover: true, ClientNoContextTakeover: true}, nil},
		{[]string{"permessage-deflate;client_no_context_takeover"}, Deflate{Mode: PerMessageDeflate, ClientNoContextTakeover: true}, nil},
		{[]string{`permessage-deflate; server_max_window_bits=10; client_max_window_bits="12"`},
			Deflate{Mode: PerMessageDeflate, ServerMaxWindowBits: 10, ClientMaxWindowBits: 12}, nil},
		{[]string{"permessage-deflate; server_max_window_bits=8", "x-foo"},
			Deflate{Mode: PerMessageDeflate, ServerMaxWindowBits: 8}, []string{CodeExtUnknown}},
		{[]string{"foo, permessage-deflate; server_max_window_bits=15"},
			Deflate{Mode: PerMessageDeflate, ServerMaxWindowBits: 15}, []string{CodeExtUnknown}},
		{[]string{"permessage-deflate; server_max_window_bits=16"}, Deflate{Mode: PerMessageDeflate}, []string{CodeExtInvalidParam}},
		{[]string{"permessage-deflate; server_max_window_bits=7"}, Deflate{Mode: PerMessageDeflate}, []string{CodeExtInvalidParam}},
		{[]string{"permessage-deflate; server_max_window_bits=010"}, Deflate{Mode: PerMessageDeflate}, []string{CodeExtInvalidParam}},
		{[]string{"permessage-deflate; client_max_window_bits"}, Deflate{Mode: PerMessageDeflate}, []string{CodeExtInvalidParam}},
		{[]string{"permessage-deflate; server_no_context_takeover=1"}, Deflate{Mode: PerMessageDeflate}, []string{CodeExtInvalidParam}},
		{[]string{"permessage-deflate; server_no_context_takeover; server_no_context_takeover"},
			Deflate{Mode: PerMessageDeflate, ServerNoContextTakeover: true}, []string{CodeExtDuplicateParam}},
		{[]string{"permessage-deflate; bogus"}, Deflate{Mode: PerMessageDeflate}, []string{CodeExtUnknownParam}},
		{[]string{"permessage-deflate, permessage-deflate; client_no_context_takeover"}, Deflate{Mode: PerMessageDeflate}, []string{CodeExtMultiple}},
		{[]string{"permessage-deflate; server_max_window_bits=\"1"}, Deflate{}, []string{CodeExtSyntax}},
		{[]string{"permessage-deflate; =3, x-webkit-deflate-frame"}, Deflate{Mode: PerFrameDeflate}, []string{CodeExtSyntax}},
		{[]string{"x-webkit-deflate-frame; no_context_takeover; max_window_bits=9"},
			Deflate{Mode: PerFrameDeflate, ServerNoContextTakeover: true, ServerMaxWindowBits: 9}, nil},
		{[]string{"deflate-frame"}, Deflate{Mode: PerFrameDeflate}, nil},
		{[]string{"  Permessage-Deflate ;  Server_No_Context_Takeover  "}, Deflate{Mode: PerMessageDeflate, ServerNoContextTakeover: true}, nil},
	} {
		got, anoms := NegotiatedDeflate(c.in)
		var codes []string
		for _, a := range anoms {
			codes = append(codes, a.Code)
			if a.Detail == "" {
				t.Errorf("%q: anomaly without detail", c.in)
			}
		}
		if got != c.want || !slices.Equal(codes, c.codes) {
			t.Errorf("NegotiatedDeflate(%q) = %+v %v; want %+v %v", c.in, got, anoms, c.want, c.codes)
		}
	}
}

func TestParseExtensionsQuoted(t *testing.T) {
	exts, anoms := ParseExtensions([]string{`a; x="q\"v"; y=tok, b`})
	if len(anoms) != 0 || len(exts) != 2 || exts[0].Params[0].Value != `q"v` || exts[0].Params[1].Value != "tok" || exts[1].Name != "b" {
		t.Errorf("%+v %v", exts, anoms)
	}
}
