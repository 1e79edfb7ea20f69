package reassembly

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// fuzzSecret is put only where credentials go (cookie and query values,
// Authorization credentials): no finding may show it.
const fuzzSecret = "Zx9SECRETqW"

var findingCodes = []string{CodeCSWSHCrossOrigin, CodeCSWSHNoOrigin, CodeCSWSHCrossOriginToken,
	CodeCleartextAuth, CodeCleartextCookie, CodeCleartextQueryToken, CodeCleartextSubprotocolToken, CodeKeyReused}

// FuzzFindings checks, for any names, schemes, origins and hosts: no panic;
// no finding shows a credential; findings are deterministic and use the
// documented codes, once each per direction; an Origin built from the Host
// always matches it.
func FuzzFindings(f *testing.F) {
	f.Add("/ws", "session", "Basic", "http://evil.example", "chat.example:8080", "access_token", true)
	f.Add("/ws?x=1", "a; b", "Bearer", "https://Chat.Example", "chat.example", "api_key", true)
	f.Add("/", "", "", "", "[2001:db8::1]:9001", "", false)
	f.Add("/p?q", "=x", "eyJhbGciOiJub25lIn0.eyJ4IjoxfQ.c2ln", "null", "", "%41uth", true)
	f.Add("/ws#frag?a=b", "c=d=e", "NTLM x", "http://[::ffff:192.0.2.1]", "192.0.2.1", "sessionid", true)
	f.Fuzz(func(t *testing.T, uri, cookieName, scheme, origin, host, param string, upgraded bool) {
		if len(uri)+len(cookieName)+len(scheme)+len(origin)+len(host)+len(param) > 4096 {
			return
		}
		for _, s := range []string{uri, cookieName, scheme, origin, host, param} {
			if strings.Contains(s, "SECRET") {
				return
			}
		}
		if un, err := url.QueryUnescape(param); err == nil && strings.Contains(un, "SECRET") {
			return
		}
		hs := &Handshake{
			Method: "GET", URI: uri + "?" + param + "=" + fuzzSecret, Proto: "HTTP/1.1", Host: host, Origin: origin,
			RequestHeaders: []Header{{Name: "Host", Value: host}, {Name: "Origin", Value: origin},
				{Name: "Cookie", Value: cookieName + "=" + fuzzSecret},
				{Name: "Authorization", Value: scheme + " " + fuzzSecret}},
			ResponseHeaders: []Header{{Name: "Set-Cookie", Value: cookieName + "=" + fuzzSecret + "; Path=/"}},
			Protocols:       []string{cookieName, k8sBearerPrefix + fuzzSecret, "eyJ" + fuzzSecret + ".eyJ.x"},
			Key:             SampleKey, KeyValid: true,
			RequestAt: Meta{Packet: 1}, ResponseAt: Meta{Packet: 2},
		}
		if upgraded {
			hs.Status, hs.Upgraded = 101, true
		} else {
			hs.Status = 403
		}
		fs := Findings(hs)
		seen := map[string]bool{}
		for _, a := range fs {
			if strings.Contains(a.Detail, fuzzSecret) || strings.Contains(a.Detail, "SECRET") {
				t.Fatalf("%s shows the secret: %q", a.Code, a.Detail)
			}
			if !slices.Contains(findingCodes, a.Code) {
				t.Fatalf("undocumented code %q", a.Code)
			}
			k := a.Code + string(rune('0'+a.Dir))
			if seen[k] {
				t.Fatalf("%s reported twice: %v", a.Code, fs)
			}
			seen[k] = true
			if a.Severity == "" || a.Detail == "" {
				t.Fatalf("incomplete finding %+v", a)
			}
			if strings.HasPrefix(a.Code, "cswsh-") && !upgraded {
				t.Fatalf("%s on a refused upgrade", a.Code)
			}
		}
		if again := Findings(hs); !slices.Equal(again, fs) {
			t.Fatalf("not deterministic: %v then %v", fs, again)
		}
		if _, _, ok := splitHostPort(host); ok && !strings.ContainsAny(host, "/@?#") && !strings.Contains(host, "://") {
			if same, why := originMatchesHost("http://"+host, host); !same {
				t.Fatalf("origin http://%s does not match its own host: %s", host, why)
			}
		}
	})
}
